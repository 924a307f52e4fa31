// Command netlab-agent runs inside netlab's test VM and executes commands for the host.
//
// It talks over a virtio-serial port (no network port is opened), one JSON object per line:
//
//	request:  {"id":7,"op":"exec","argv":["ipvsadm","-Ln"],"stdin":"","timeoutMs":10000}
//	          {"id":8,"op":"ping"}
//	response: {"id":7,"stdout":"...","stderr":"","exitCode":0}
//	          {"id":7,"exitCode":-1,"timedOut":true,"error":"killed after 10000ms"}
//
// Requests run concurrently; responses carry the request id and may come back in any order.
// When the host is not connected, reads return EOF: the agent waits and keeps its port open,
// so the host can reconnect. Only the standard library is used (it is built with CGO_ENABLED=0
// and runs in an initramfs without libc).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

type request struct {
	ID        int64    `json:"id"`
	Op        string   `json:"op"`
	Argv      []string `json:"argv"`
	Stdin     string   `json:"stdin"`
	TimeoutMs int64    `json:"timeoutMs"`
}

type response struct {
	ID       int64  `json:"id"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	ExitCode int    `json:"exitCode"`
	TimedOut bool   `json:"timedOut,omitempty"`
	// Error is set when the command could not run to completion (not found, timed out, killed by a signal).
	Error string `json:"error,omitempty"`
	// GuestTimeMs answers a ping: the guest clock, so the host can see clock skew.
	GuestTimeMs int64 `json:"guestTimeMs,omitempty"`
}

const defaultTimeout = 30 * time.Second

func main() {
	portName := flag.String("port", "netlab.exec", "name of the virtio-serial port to serve")
	envFile := flag.String("env", "/etc/netlab/agent.env", "KEY=VALUE lines added to every command's environment")
	flag.Parse()
	log.SetPrefix("netlab-agent: ")

	env, err := loadEnv(*envFile)
	if err != nil {
		log.Fatal(err)
	}
	device := waitForPort(*portName)
	port, err := os.OpenFile(device, os.O_RDWR, 0)
	if err != nil {
		log.Fatalf("open %s: %v", device, err)
	}
	log.Printf("serving %s (%s)", *portName, device)
	serve(port, env)
}

// waitForPort finds the device of the named virtio-serial port. Without udev there is no
// /dev/virtio-ports/<name> link, so the name is read from sysfs.
func waitForPort(name string) string {
	for {
		dirs, _ := filepath.Glob("/sys/class/virtio-ports/*")
		for _, dir := range dirs {
			b, err := os.ReadFile(filepath.Join(dir, "name"))
			if err == nil && strings.TrimSpace(string(b)) == name {
				return "/dev/" + filepath.Base(dir)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func loadEnv(path string) ([]string, error) {
	env := os.Environ()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return env, nil
	}
	if err != nil {
		return nil, err
	}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.Contains(line, "=") {
			return nil, fmt.Errorf("%s:%d: expected KEY=VALUE, got %q", path, i+1, line)
		}
		env = append(env, line)
	}
	return env, nil
}

func serve(port *os.File, env []string) {
	var writeMu sync.Mutex
	reply := func(r response) {
		line, err := json.Marshal(r)
		if err != nil {
			log.Printf("encode response %d: %v", r.ID, err)
			return
		}
		writeMu.Lock()
		defer writeMu.Unlock()
		if _, err := port.Write(append(line, '\n')); err != nil {
			log.Printf("write response %d: %v (host gone?)", r.ID, err)
		}
	}

	reader := bufio.NewReaderSize(port, 1<<16)
	var pending []byte
	for {
		chunk, err := reader.ReadBytes('\n')
		pending = append(pending, chunk...)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				log.Printf("read: %v", err)
			}
			// EOF means no host is connected right now: keep the partial line and wait.
			time.Sleep(50 * time.Millisecond)
			continue
		}
		line := bytes.TrimSpace(pending)
		pending = nil
		if len(line) == 0 {
			continue
		}
		var req request
		if err := json.Unmarshal(line, &req); err != nil {
			reply(response{ExitCode: -1, Error: fmt.Sprintf("bad request %q: %v", truncate(string(line), 200), err)})
			continue
		}
		go func() { reply(handle(req, env)) }()
	}
}

func handle(req request, env []string) response {
	switch req.Op {
	case "ping":
		return response{ID: req.ID, GuestTimeMs: time.Now().UnixMilli()}
	case "exec":
		return run(req, env)
	default:
		return response{ID: req.ID, ExitCode: -1, Error: fmt.Sprintf("unknown op %q (want exec or ping)", req.Op)}
	}
}

func run(req request, env []string) response {
	if len(req.Argv) == 0 {
		return response{ID: req.ID, ExitCode: -1, Error: "exec needs a non-empty argv"}
	}
	timeout := defaultTimeout
	if req.TimeoutMs > 0 {
		timeout = time.Duration(req.TimeoutMs) * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, req.Argv[0], req.Argv[1:]...)
	cmd.Env = env
	cmd.Dir = "/"
	cmd.Stdin = strings.NewReader(req.Stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Own process group, so a timeout kills the command's children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A background child that keeps stdout open must not hold the reply forever.
	cmd.WaitDelay = 2 * time.Second

	err := cmd.Run()
	res := response{ID: req.ID, Stdout: stdout.String(), Stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		res.ExitCode, res.TimedOut = -1, true
		res.Error = fmt.Sprintf("killed after %dms", timeout.Milliseconds())
	case errors.As(err, &exitErr) && exitErr.Exited():
		res.ExitCode = exitErr.ExitCode()
	case errors.As(err, &exitErr):
		res.ExitCode = -1
		res.Error = exitErr.String() // "signal: killed" and the like
	case err != nil:
		res.ExitCode = -1
		res.Error = err.Error()
	}
	return res
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
