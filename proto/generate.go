// Package proto holds the versioned gRPC contract between the resizer host and
// its transformation plugins (resizer/plugin/v1/plugin.proto) and the Go code
// generated from it, which is committed.
//
// Regenerate after editing a .proto file with:
//
//	go generate ./proto/...
//
// It needs protoc (Debian: apt-get install protobuf-compiler); protoc-gen-go
// and protoc-gen-go-grpc are pinned as tool dependencies in go.mod, so every
// machine generates the same code. check.sh verifies that the committed code
// matches the .proto files.
package proto

//go:generate sh gen.sh
