#!/usr/bin/env bash
# pack-for-gpu.sh - collect what a CUDA build of seds-lab needs on a GPU host into ONE folder
# that the device tool can `carry` (default: target/cuda-carry, already git-ignored via /target).
#
# Why: dfdx 0.13 compiles its reshape/concat/stack kernels at run time with NVRTC, passing
# include paths baked into the binary at build time: $CUDA_ROOT/include (cuda_fp16.h, nv/target)
# and dfdx's build OUT_DIR (cuda_utils.cuh, ...). Those absolute paths must exist on the GPU
# host. This script stores both trees (headers only, ~3 MB compressed) plus the baked paths;
# gpu-check.sh recreates them there. The CUDA runtime libraries (libcublas/libcublasLt ~570 MB,
# libnvrtc ~110 MB) are far over the 64 MiB carry limit and are NOT packed: the GPU image has
# CUDA 13.0 libraries of its own, which gpu-check.sh finds.
#
# Usage (after `source $PREFIX/env.sh` and `cargo build --release -p seds-lab --features cuda`):
#   scripts/cuda/pack-for-gpu.sh [BINARY ...]      (default: $CARGO_TARGET_DIR/release/seds-lab)
# Env: SEDS_CUDA_CARRY (output folder, default target/cuda-carry), CARGO_TARGET_DIR (default
# target), CUDA_ROOT (from env.sh; required).
set -euo pipefail

log() { printf '[pack-for-gpu] %s\n' "$*" >&2; }
die() { printf '[pack-for-gpu] ERROR: %s\n' "$*" >&2; exit 1; }

repo="$(cd "$(dirname "$0")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
carry="${SEDS_CUDA_CARRY:-$repo/target/cuda-carry}"
[[ -n "${CUDA_ROOT:-}" ]] || die "CUDA_ROOT is not set: source the env.sh written by setup-cuda-build.sh"
inc="$CUDA_ROOT/include"
[[ -f "$inc/cuda_fp16.h" ]] || die "$inc/cuda_fp16.h missing (CUDA_ROOT=$CUDA_ROOT)"

bins=("$@")
((${#bins[@]})) || bins=("$target/release/seds-lab")

mkdir -p "$carry"
rm -f "$carry"/baked-paths.env "$carry"/dfdx-out-*.tar.gz
echo 'BAKED_DFDX_OUT_DIRS=()' >"$carry/baked-paths.env"
out_dirs=()
for bin in "${bins[@]}"; do
  [[ -x "$bin" ]] || die "binary $bin not found (build it with --features cuda first)"
  grep -qaF "$inc" "$bin" || die "$bin does not contain the include path $inc: built with another CUDA_ROOT?"
  found=""
  for d in "$(dirname "$bin")"/build/dfdx-*/out "$target"/release/build/dfdx-*/out; do
    [[ -f "$d/cuda_utils.cuh" ]] && grep -qaF "$d" "$bin" && { found="$d"; break; }
  done
  [[ -n "$found" ]] || die "no dfdx OUT_DIR (build/dfdx-*/out beside $bin) baked into $bin (is it a cuda build?)"
  name="$(basename "$bin")"
  objcopy --strip-debug "$bin" "$carry/$name.tmp" && mv "$carry/$name.tmp" "$carry/$name"
  chmod +x "$carry/$name"
  tag="$(basename "$(dirname "$found")")"        # dfdx-<hash>
  tar czf "$carry/dfdx-out-$tag.tar.gz" -C "$found" $(cd "$found" && ls -- *.cuh)
  printf 'BAKED_DFDX_OUT_DIRS+=(%q)\n' "$found" >>"$carry/baked-paths.env"
  out_dirs+=("$found")
  log "$name: OUT_DIR $found ($(du -h "$carry/$name" | cut -f1) stripped)"
done

tar czf "$carry/cuda-include.tar.gz" -C "$CUDA_ROOT" include
{
  printf 'BAKED_CUDA_INCLUDE_DIR=%q\n' "$inc"
  printf 'BAKED_COMPUTE_CAP=%q\n' "sm_${CUDA_COMPUTE_CAP:-90}"
  printf 'BUILT_WITH_NVCC=%q\n' "$("$CUDA_ROOT/bin/nvcc" --version | tail -n1)"
  printf 'PACKED_AT=%q\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >>"$carry/baked-paths.env"

log "carry folder $carry: $(du -sh "$carry" | cut -f1) (limit 64 MiB for the whole tree)"
cat "$carry/baked-paths.env"
