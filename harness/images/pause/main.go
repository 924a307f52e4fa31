// pause holds a pod's namespaces: the sandbox container every pod starts with. It does nothing but wait,
// reaps any child that is re-parented to it (it is PID 1 of a pod that shares its PID namespace), and
// exits 0 on SIGTERM or SIGINT, as the Kubernetes pause image does. Standard library only, built static.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		reapChildren()
	}
}

// reapChildren collects every exited child without blocking: one SIGCHLD can stand for several exits.
func reapChildren() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
