package pluginhost

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// FileSHA256 returns the SHA-256 of the file at path, in hex: the value an
// External plugin is pinned with.
func FileSHA256(path string) (string, error) {
	sum, err := fileSum(path)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(sum), nil
}

func fileSum(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return h.Sum(nil), nil
}

// checkSum refuses an executable whose SHA-256 is not want, with both sums
// in the message so that an operator sees what changed. go-plugin checks
// again just before it starts the process.
func checkSum(path string, want []byte) error {
	got, err := fileSum(path)
	if err != nil {
		return fmt.Errorf("checksum of the executable: %w", err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("refusing to start %s: its SHA-256 is %x, the configuration pins %x", path, got, want)
	}
	return nil
}

// SelfServed returns the External entries under which the running
// executable serves the named plugins itself ("resizer plugin serve
// NAME"), so that one binary deploys while the host treats those plugins
// like any other: its path (symbolic links resolved) and its SHA-256 as of
// now, checked again before every start.
func SelfServed(names ...string) ([]External, error) {
	if len(names) == 0 {
		return nil, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("self-served plugins: locate the executable: %w", err)
	}
	exe, err = filepath.EvalSymlinks(exe)
	if err != nil {
		return nil, fmt.Errorf("self-served plugins: %w", err)
	}
	sum, err := FileSHA256(exe)
	if err != nil {
		return nil, fmt.Errorf("self-served plugins: %w", err)
	}
	out := make([]External, 0, len(names))
	for _, name := range names {
		out = append(out, External{Name: name, Path: exe, SHA256: sum, Args: []string{"plugin", "serve", name}})
	}
	return out, nil
}
