module netlab.local/vmagent

go 1.26
