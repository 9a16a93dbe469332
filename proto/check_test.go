package proto

import (
	"os/exec"
	"testing"
)

// TestGeneratedCodeIsCurrent runs check.sh so that `go test ./...` catches a
// .proto edited without regenerating.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if _, err := exec.LookPath("protoc"); err != nil {
		t.Skip("protoc not installed (Debian: apt-get install protobuf-compiler); generated code not verified")
	}
	out, err := exec.Command("sh", "check.sh").CombinedOutput()
	if err != nil {
		t.Fatalf("check.sh: %v\n%s", err, out)
	}
}
