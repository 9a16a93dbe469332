#!/bin/sh
# Regenerates the Go code into a temporary directory and fails if it differs
# from the committed files. CI runs this; without protoc it skips.
set -eu
cd "$(dirname "$0")"
if ! command -v protoc >/dev/null 2>&1; then
	echo "SKIP proto/check.sh: protoc not installed, generated code not verified (Debian: apt-get install protobuf-compiler)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sh ./gen.sh "$tmp"
status=0
for f in $(cd "$tmp" && find . -name '*.go' | sort); do
	if [ ! -f "$f" ]; then
		echo "proto/check.sh: $f is generated but not committed" >&2
		status=1
	# The header names the protoc version; a different patch release of
	# protoc alone is not a reason to fail.
	elif ! diff -u -I '^//.*protoc  *v[0-9]' "$f" "$tmp/$f"; then
		echo "proto/check.sh: $f is stale; run: go generate ./proto/..." >&2
		status=1
	fi
done
for f in $(find . -name '*.pb.go' | sort); do
	if [ ! -f "$tmp/$f" ]; then
		echo "proto/check.sh: $f has no .proto source any more" >&2
		status=1
	fi
done
[ "$status" -eq 0 ] && echo "proto/check.sh: generated code is up to date"
exit "$status"
