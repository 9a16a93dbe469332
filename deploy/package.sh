#!/usr/bin/env bash
# Cross-compiles resizer for Linux on amd64 and arm64 and packs each build
# with what deploy/install.sh needs:
#
#   deploy/package.sh [OUTDIR]      (default dist/)
#
# gives OUTDIR/resizer-linux-amd64.tar.gz and OUTDIR/resizer-linux-arm64.tar.gz,
# each holding resizer, deploy/{install.sh,resizer.service,resizer.example.yaml}
# and recipes/, and their .sha256 files. Upload them where the stack's
# ArtifactUrl points ("{arch}" in it becomes amd64 or arm64).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
mkdir -p "$out"
version=$(git describe --tags --always --dirty 2>/dev/null || echo devel)
for arch in amd64 arm64; do
  stage=$(mktemp -d)
  mkdir -p "$stage/deploy"
  # nodynamic: always the WebAssembly WebP and AVIF encoders, never a
  # system libwebp or libavif that happens to be installed.
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -tags nodynamic \
    -ldflags "-s -w -X main.buildVersion=$version" -o "$stage/resizer" ./cmd/resizer
  cp deploy/install.sh deploy/resizer.service deploy/resizer.example.yaml "$stage/deploy/"
  cp -r recipes "$stage/recipes"
  tar -czf "$out/resizer-linux-$arch.tar.gz" -C "$stage" resizer deploy recipes
  (cd "$out" && sha256sum "resizer-linux-$arch.tar.gz" > "resizer-linux-$arch.tar.gz.sha256")
  rm -rf "$stage"
  echo "$out/resizer-linux-$arch.tar.gz ($version)"
done
