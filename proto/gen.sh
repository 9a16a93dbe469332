#!/bin/sh
# Generates Go code from every .proto file under proto/ into OUT_DIR
# (default: proto/ itself, beside the .proto files).
# protoc-gen-go and protoc-gen-go-grpc come from go.mod's tool directives.
set -eu
cd "$(dirname "$0")"
out=${1:-.}
if ! command -v protoc >/dev/null 2>&1; then
	echo "gen.sh: protoc not found (Debian: apt-get install protobuf-compiler)" >&2
	exit 1
fi
gen_go=$(go tool -n protoc-gen-go)
gen_go_grpc=$(go tool -n protoc-gen-go-grpc)
mkdir -p "$out"
find . -name '*.proto' -print | sort | xargs protoc -I . \
	--plugin=protoc-gen-go="$gen_go" \
	--plugin=protoc-gen-go-grpc="$gen_go_grpc" \
	--go_out="$out" --go_opt=paths=source_relative \
	--go-grpc_out="$out" --go-grpc_opt=paths=source_relative
