#!/usr/bin/env bash
# Owns the GPU check's run on the GPU machine (copied into the pack by pack.sh): unpacks Node and
# dawn.node into a temporary folder, points the Vulkan loader at the NVIDIA driver, runs the check
# (adapter, one training step of every method on webgpu against cpu, timings of alexnet64 width 1
# batch 64 and alexnet224 batch 192 on webgpu) and the PyTorch CUDA peer on the same
# configurations, and prints the ratio webgpu / PyTorch views/s. Needs bash, coreutils, xz or
# python3; no network, no Node. The whole run stays under 8 minutes.
#
#   bash run.sh [--quick] [--no-peer] [--peer-device cuda|cpu] [--log FILE] [--keep] [-- check.mjs options]
#
# --quick: tiny networks and steps (a software adapter: minutes, not a GPU measurement).
# --log FILE: a copy of everything printed. --keep: keep the unpacked folder.
# Exit status: 0 when the check ran and every method's step matched cpu, 1 otherwise.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
quick=0
no_peer=0
keep=0
peer_device=cuda
log=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1; shift ;;
    --no-peer) no_peer=1; shift ;;
    --keep) keep=1; shift ;;
    --peer-device) peer_device=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: run.sh [--quick] [--no-peer] [--peer-device cuda|cpu] [--log FILE] [--keep] [-- check.mjs options]" >&2; exit 2 ;;
  esac
done
if [ -n "$log" ]; then
  exec > >(tee "$log") 2>&1
fi

# Time budget (seconds from the start): the check's own budget and hard limit, then the peer.
total=470
if [ $quick = 1 ]; then
  configs=(alexnet64:0.125:4 alexnet224:0.0625:2)
  check_budget=220 check_limit=280 peer_steps=(--warmup 1 --steps 2)
else
  configs=(alexnet64:1:64 alexnet224:1:192)
  check_budget=250 check_limit=310 peer_steps=(--warmup 3 --steps 10)
fi

start=$SECONDS
say() { echo "[gpu-check $((SECONDS - start))s] $*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/quarterturn-gpu-check.XXXXXX") || exit 1
if [ $keep = 0 ]; then trap 'rm -rf "$work"' EXIT; fi

say "pack: $here ($(cat "$here/INFO.json" 2>/dev/null || echo 'no INFO.json'))"
say "machine: $(uname -srm); $(ldd --version 2>/dev/null | head -1)"
if command -v nvidia-smi >/dev/null; then
  say "nvidia-smi: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -4 | tr '\n' ';')"
else
  say "nvidia-smi: not found"
fi

# --- unpack ------------------------------------------------------------------------------------
unxz_to() {
  if command -v xz >/dev/null; then
    xz -dc "$1" >"$2"
  elif command -v python3 >/dev/null; then
    python3 -c 'import lzma, shutil, sys
with lzma.open(sys.argv[1]) as i, open(sys.argv[2], "wb") as o: shutil.copyfileobj(i, o, 1 << 20)' "$1" "$2"
  else
    echo "neither xz nor python3 is here to decompress $1" >&2
    return 1
  fi
}
mkdir -p "$work/app/dist/linux-x64" "$work/lib"
unxz_to "$here/node/node.xz" "$work/node" && unxz_to "$here/app/dist/linux-x64/dawn.node.xz" "$work/app/dist/linux-x64/dawn.node" || exit 1
chmod +x "$work/node"
cp "$here/app/check.mjs" "$work/app/check.mjs"
say "unpacked into $work: node $("$work/node" --version 2>&1)"

# --- libraries ---------------------------------------------------------------------------------
# The packed Vulkan loader always; a fallback library only where the machine has none of that
# name (libstdc++ also where the machine's is older than dawn.node needs: GLIBCXX_3.4.30).
ldcache=$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null)
syslib() { echo "$ldcache" | awk -v n="$1" '$1 == n && /x86-64/ { print $NF; exit }'; }
cp "$here"/lib/* "$work/lib/"
used=()
for f in "$here"/lib-fallback/*; do
  name=$(basename "$f")
  have=$(syslib "$name")
  if [ -z "$have" ] || { [ "$name" = libstdc++.so.6 ] && ! grep -qa GLIBCXX_3.4.30 "$have"; }; then
    cp "$f" "$work/lib/"
    used+=("$name")
  fi
done
say "libraries: packed libvulkan.so.1; from the fallbacks: ${used[*]:-none needed}"
node_env=(LD_LIBRARY_PATH="$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")

# --- the NVIDIA Vulkan driver ------------------------------------------------------------------
icd=
for d in /etc/vulkan/icd.d /usr/share/vulkan/icd.d /usr/local/etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
  for f in "$d"/nvidia*.json; do [ -f "$f" ] && { icd=$f; break 2; }; done
done
if [ -n "$icd" ]; then
  say "Vulkan driver: $icd (the loader finds it)"
else
  # Outside the loader's folders (NVIDIA's container runtime), or no manifest at all: write one.
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia*.json; do [ -f "$f" ] && { icd=$f; break; }; done
  if [ -z "$icd" ]; then
    glx=$(syslib libGLX_nvidia.so.0)
    for d in /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib; do
      [ -z "$glx" ] && [ -f "$d/libGLX_nvidia.so.0" ] && glx=$d/libGLX_nvidia.so.0
    done
    if [ -n "$glx" ]; then
      icd=$work/nvidia_icd.json
      printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' "$glx" >"$icd"
      say "Vulkan driver: no NVIDIA ICD manifest here; wrote $icd for $glx"
    fi
  else
    say "Vulkan driver: $icd"
  fi
  if [ -n "$icd" ]; then
    node_env+=(VK_ICD_FILENAMES="$icd" VK_DRIVER_FILES="$icd")
  else
    say "Vulkan driver: no NVIDIA Vulkan driver found (no nvidia*.json manifest, no libGLX_nvidia.so.0): Dawn will look for any other"
  fi
fi

# --- the check ---------------------------------------------------------------------------------
check_args=(--budget-s "$check_budget" --bench "$(IFS=,; echo "${configs[*]}")")
[ $quick = 1 ] && check_args+=(--quick)
say "check: webgpu against cpu, then timings (budget ${check_budget} s, stopped at ${check_limit} s)"
env "${node_env[@]}" timeout -k 10 "$check_limit" "$work/node" "$work/app/check.mjs" "${check_args[@]}" "$@" 2>&1 | tee "$work/check.log"
check_rc=${PIPESTATUS[0]}
[ "$check_rc" = 124 ] && say "check: stopped at its ${check_limit} s limit; the results printed so far stand"
[ "$check_rc" != 0 ] && [ "$check_rc" != 124 ] && say "check: exited with status $check_rc"
if grep -q '^adapter .*"software":"' "$work/check.log" && [ $quick = 0 ]; then
  say "WARNING: the adapter is a software renderer, not the GPU: the NVIDIA Vulkan driver did not load. In a container, NVIDIA_DRIVER_CAPABILITIES must include 'graphics' (or be 'all')."
fi
if grep -q '^adapter {"error"' "$work/check.log"; then
  say "no WebGPU adapter. In a container, NVIDIA_DRIVER_CAPABILITIES must include 'graphics' (or be 'all') for the Vulkan driver to be mounted."
fi

# The webgpu views/s of a configuration, from the check's 'bench' lines.
ours() {
  local arch=${1%%:*} rest=${1#*:} width=${rest%%:*} batch=${rest#*:}
  grep '^bench ' "$work/check.log" | grep "\"arch\":\"$arch\"" | grep "\"batch_images\":$batch," |
    awk -v w="$width" '{ if (match($0, /"width":[0-9.e-]+/) && substr($0, RSTART + 8, RLENGTH - 8) + 0 == w + 0) print }' |
    grep -o '"views_per_sec":[0-9.]*' | head -1 | cut -d: -f2
}

# --- the PyTorch peer --------------------------------------------------------------------------
declare -A theirs=()
peer_note=
if [ $no_peer = 1 ]; then
  peer_note="skipped (--no-peer)"
elif ! command -v python3 >/dev/null; then
  peer_note="skipped: no python3 here"
else
  probe=$(timeout 60 python3 -c 'import torch
cuda = torch.cuda.is_available()
print(torch.__version__, "cuda" if cuda else "no-cuda", torch.cuda.get_device_name(0) if cuda else "")' 2>&1)
  probe_rc=$?
  if [ $probe_rc != 0 ]; then
    peer_note="skipped: PyTorch is not installed for python3 here ($(echo "$probe" | tail -1))"
  elif [ "$peer_device" = cuda ] && [[ $probe != *" cuda "* ]]; then
    peer_note="skipped: PyTorch $probe has no CUDA device (--peer-device cpu times it on the CPU)"
  else
    say "peer: PyTorch $probe, device $peer_device"
    n=${#configs[@]}
    for c in "${configs[@]}"; do
      arch=${c%%:*} rest=${c#*:} width=${rest%%:*} batch=${rest#*:}
      case $arch in
        alexnet64) parch=(--arch alexnet64 --size 64) ;;
        alexnet224) parch=(--arch alexnet-ref --size 224) ;;
        *) say "peer: no PyTorch configuration for $arch"; n=$((n - 1)); continue ;;
      esac
      left=$((total - (SECONDS - start)))
      limit=$((left / n))
      [ $limit -gt 90 ] && limit=90
      n=$((n - 1))
      if [ $limit -lt 15 ]; then
        say "peer $c: skipped, the run's ${total} s are spent"
        continue
      fi
      out=$(timeout -k 5 "$limit" python3 "$here/peer/rfd_torch_bench.py" --device "$peer_device" --batch "$batch" --width-mult "$width" "${parch[@]}" "${peer_steps[@]}" --threads 4 --json 2>"$work/peer.err")
      line=$(echo "$out" | tail -1)
      if [[ $line == \{* ]]; then
        echo "pytorch $line"
        theirs[$c]=$(echo "$line" | grep -o '"views_per_sec": [0-9.]*' | head -1 | awk '{ print $2 }')
      else
        say "peer $c: failed or stopped after ${limit} s: $(tail -1 "$work/peer.err")"
      fi
    done
  fi
fi
[ -n "$peer_note" ] && say "peer: $peer_note"

# --- summary -----------------------------------------------------------------------------------
say "summary (views/s: 4 rotated views per image, one full training step each)"
printf '%-24s %16s %18s %8s\n' configuration webgpu "pytorch $peer_device" ratio
json_configs=()
for c in "${configs[@]}"; do
  arch=${c%%:*} rest=${c#*:} width=${rest%%:*} batch=${rest#*:}
  w=$(ours "$c")
  p=${theirs[$c]:-}
  r=
  [ -n "$w" ] && [ -n "$p" ] && r=$(awk -v a="$w" -v b="$p" 'BEGIN { if (b > 0) printf "%.4f", a / b }')
  printf '%-24s %16s %18s %8s\n' "$arch w$width b$batch" "${w:--}" "${p:--}" "${r:--}"
  json_configs+=("{\"arch\":\"$arch\",\"width\":$width,\"batch_images\":$batch,\"webgpu_views_per_sec\":${w:-null},\"pytorch_views_per_sec\":${p:-null},\"ratio\":${r:-null}}")
done
done_line=$(grep '^gradcheck-done ' "$work/check.log" | tail -1)
grad_ok=$(echo "$done_line" | grep -o '"ok":[a-z]*' | cut -d: -f2)
grad_worst=$(echo "$done_line" | grep -o '"worst":[^,]*' | cut -d: -f2)
adapter=$(grep '^adapter ' "$work/check.log" | head -1 | grep -o '"description":"[^"]*"' | cut -d'"' -f4)
say "gradient check against cpu: ${grad_ok:-not finished} (worst relative error ${grad_worst:-?}, tolerance 1e-4)"
echo "{\"gpu_check_run\":\"$([ $quick = 1 ] && echo quick || echo full)\",\"adapter\":\"$adapter\",\"gradcheck_ok\":${grad_ok:-null},\"gradcheck_worst\":${grad_worst:-null},\"peer_device\":\"$peer_device\",\"peer\":\"$(echo "${peer_note:-ran}" | tr '"\\' "''")\",\"configs\":[$(IFS=,; echo "${json_configs[*]}")],\"check_exit\":$check_rc,\"seconds\":$((SECONDS - start))}"
[ "$grad_ok" = true ] && exit 0 || exit 1
