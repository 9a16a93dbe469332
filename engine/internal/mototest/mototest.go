// Package mototest starts moto_server, an independent AWS emulator, for
// tests that check our emulators and clients against a second opinion.
package mototest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

const startTimeout = 60 * time.Second

// Start runs moto_server on a free loopback port and returns its endpoint
// ("http://127.0.0.1:PORT"). The server is stopped when the test ends.
// Without moto_server on PATH the test is skipped.
func Start(t testing.TB) (endpoint string) {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Skip("moto_server not on PATH; install moto[server] to run the moto peer tests")
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("mototest: find a free port: %v", err)
	}
	var output lockedBuffer
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &output, &output
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("mototest: start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		killProcessGroup(cmd)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Logf("mototest: moto_server (pid %d) did not exit", cmd.Process.Pid)
		}
	})

	endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			t.Fatalf("mototest: moto_server exited early:\n%s", output.String())
		default:
		}
		// moto's own API answers once the server is ready.
		resp, err := client.Get(endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return endpoint
		}
		if time.Now().After(deadline) {
			t.Fatalf("mototest: moto_server not answering on %s after %v: %v\n%s", endpoint, startTimeout, err, output.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer collects the server's output for failure messages.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
