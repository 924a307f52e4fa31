module netlab.local/pause

go 1.26
