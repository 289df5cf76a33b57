#!/usr/bin/env bash
# setup-cuda-build.sh - build-time CUDA 13.0 toolchain for dfdx 0.13 `cuda` (cudarc 0.9.15)
# on a machine WITHOUT a GPU and without a system CUDA toolkit.
#
# What it does (idempotent: re-running skips what is already in place):
#   1. pip-downloads the pinned CUDA 13.0 wheels into $PREFIX/wheels;
#   2. unpacks them into $PREFIX/site (all land in nvidia/cu13 = CUDA_ROOT);
#   3. adds unversioned .so symlinks (libcublas.so -> libcublas.so.13, ...) for the linker;
#   4. writes a stand-in `nvidia-smi` in $PREFIX/build-bin (build time ONLY: dfdx's build.rs
#      asks it for the compute capability; never put that dir on PATH on a GPU machine);
#   5. compiles a libcuda.so link stub (soname libcuda.so.1, every function returns
#      CUDA_ERROR_STUB_LIBRARY = 34) into $PREFIX/stubs (link time only; at run time the
#      real driver's libcuda.so.1 must be found instead);
#   6. writes $PREFIX/env.sh with the exports and prints them.
#
# Usage:  scripts/cuda/setup-cuda-build.sh [PREFIX]      (default /opt/seds-cuda)
#         source "$PREFIX/env.sh"
#         cargo build --release -p seds-lab --features cuda
# Env overrides: SEDS_CUDA_PREFIX (same as the argument), SEDS_CUDA_COMPUTE_CAP (default 9.0,
# H100/H200), PIP (default "python3 -m pip").
#
# NOTE the NVRTC hazard: dfdx bakes $CUDA_ROOT/include and its build OUT_DIR into the binary
# as absolute paths (reshape/concat/stack kernels are compiled at run time by NVRTC). See
# scripts/cuda/pack-for-gpu.sh and docs/gpu.md for how those paths are recreated on the GPU host.
set -euo pipefail

PREFIX="${1:-${SEDS_CUDA_PREFIX:-/opt/seds-cuda}}"
COMPUTE_CAP="${SEDS_CUDA_COMPUTE_CAP:-9.0}"
PIP="${PIP:-python3 -m pip}"

# Pinned to the CUDA 13.0 series (GPU hosts run driver 580 = CUDA 13.0). A newer NVRTC/nvcc
# than the driver would emit PTX the driver cannot load.
WHEELS=(
  "nvidia-cuda-nvcc==13.0.88"
  "nvidia-nvvm==13.0.88"
  "nvidia-cuda-crt==13.0.88"
  "nvidia-cuda-runtime==13.0.88"
  "nvidia-cuda-cccl==13.0.85"   # nv/target etc.: cuda_fp16.h includes <nv/target>
  "nvidia-cuda-nvrtc==13.0.88"
  "nvidia-cublas==13.0.2.14"
  "nvidia-curand==10.4.0.35"
)

log() { printf '[setup-cuda] %s\n' "$*" >&2; }
die() { printf '[setup-cuda] ERROR: %s\n' "$*" >&2; exit 1; }

for tool in unzip gcc; do
  command -v "$tool" >/dev/null || die "'$tool' is required but not on PATH"
done

mkdir -p "$PREFIX/wheels" "$PREFIX/site" "$PREFIX/build-bin" "$PREFIX/stubs"
PREFIX="$(cd "$PREFIX" && pwd)"
CUDA_ROOT="$PREFIX/site/nvidia/cu13"

# ---- 1. download ---------------------------------------------------------------------------
wheel_file() { # name==version -> path of the downloaded wheel, or empty
  local spec="$1" name ver
  name="${spec%%==*}"; ver="${spec##*==}"
  name="${name//-/_}"
  compgen -G "$PREFIX/wheels/${name}-${ver}-*.whl" | head -n1 || true
}
missing=()
for spec in "${WHEELS[@]}"; do
  [[ -n "$(wheel_file "$spec")" ]] || missing+=("$spec")
done
if ((${#missing[@]})); then
  log "downloading ${#missing[@]} wheel(s): ${missing[*]}"
  # shellcheck disable=SC2086
  $PIP download --quiet --no-deps --only-binary=:all: \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    --platform manylinux_2_12_x86_64 --platform manylinux2010_x86_64 \
    --python-version 3.11 --implementation py \
    -d "$PREFIX/wheels" "${missing[@]}"
else
  log "all wheels already downloaded"
fi

# ---- 2. unpack -----------------------------------------------------------------------------
for spec in "${WHEELS[@]}"; do
  whl="$(wheel_file "$spec")"
  [[ -n "$whl" ]] || die "wheel for $spec missing after download"
  marker="$PREFIX/site/.unpacked-$(basename "$whl")"
  if [[ ! -f "$marker" ]]; then
    log "unpacking $(basename "$whl")"
    unzip -q -o "$whl" 'nvidia/*' -d "$PREFIX/site"
    touch "$marker"
  fi
done
[[ -f "$CUDA_ROOT/include/cuda.h" ]] || die "no include/cuda.h under $CUDA_ROOT after unpacking"
chmod +x "$CUDA_ROOT"/bin/* "$CUDA_ROOT"/nvvm/bin/* 2>/dev/null || true

# ---- 3. unversioned symlinks ---------------------------------------------------------------
lib="$CUDA_ROOT/lib"
for so in "$lib"/lib*.so.*; do
  base="$(basename "$so")"
  case "$base" in *.alt.*) continue ;; esac
  plain="${base%%.so.*}.so"
  [[ -e "$lib/$plain" ]] || ln -s "$base" "$lib/$plain"
done
# Some tools (nvcc.profile, cudarc's search list) look in lib64 as well.
[[ -e "$CUDA_ROOT/lib64" ]] || ln -s lib "$CUDA_ROOT/lib64"

# ---- 4. stand-in nvidia-smi (build time only) ----------------------------------------------
smi="$PREFIX/build-bin/nvidia-smi"
cat >"$smi.tmp" <<EOF
#!/bin/sh
# Build-time stand-in written by setup-cuda-build.sh: dfdx's build.rs only runs
# 'nvidia-smi --query-gpu=compute_cap --format=csv'. NOT a real nvidia-smi.
echo compute_cap
echo $COMPUTE_CAP
EOF
chmod +x "$smi.tmp"
mv "$smi.tmp" "$smi"

# ---- 5. libcuda link stub ------------------------------------------------------------------
# Symbols: every cu* function cudarc 0.9 declares (the link names, e.g. cuMemAlloc_v2), plus
# every cu* function declared in CUDA 13.0's cuda.h, so any cudarc 0.9.x links.
stub_dir="$PREFIX/stubs"
syms="$stub_dir/symbols.txt"
{
  grep -ho 'CUDAAPI cu[A-Za-z0-9_]*' "$CUDA_ROOT/include/cuda.h" | awk '{print $2}'
  cargo_home="${CARGO_HOME:-$HOME/.cargo}"
  for f in "$cargo_home"/registry/src/*/cudarc-0.9.*/src/driver/sys.rs; do
    [[ -f "$f" ]] && grep -ho 'pub fn cu[A-Za-z0-9_]*' "$f" | awk '{print $3}'
  done
} | sort -u >"$syms.tmp"
if ! grep -q '^cuMemAlloc_v2$' "$syms.tmp"; then
  log "warning: cudarc sources not found under \$CARGO_HOME/registry (run 'cargo fetch' first);"
  log "         stub built from cuda.h names only"
fi
if ! cmp -s "$syms.tmp" "$syms" || [[ ! -f "$stub_dir/libcuda.so.1" ]]; then
  mv "$syms.tmp" "$syms"
  {
    echo '/* libcuda link stub generated by setup-cuda-build.sh: link time only. */'
    echo '#define STUB_RESULT 34 /* CUDA_ERROR_STUB_LIBRARY */'
    # cudarc's DriverError Debug impl unwraps cuGetErrorString: make both lookups succeed so a
    # program that meets the stub at run time prints an error instead of panicking twice.
    echo 'static const char *STUB_MSG = "CUDA_ERROR_STUB_LIBRARY: seds-lab libcuda link stub loaded, no NVIDIA driver";'
    echo 'int cuGetErrorString(int e, const char **s) { (void)e; if (s) *s = STUB_MSG; return 0; }'
    echo 'int cuGetErrorName(int e, const char **s) { (void)e; if (s) *s = "CUDA_ERROR_STUB_LIBRARY"; return 0; }'
    grep -v -x -e cuGetErrorString -e cuGetErrorName "$syms" |
      while read -r s; do echo "int $s(void) { return STUB_RESULT; }"; done
  } >"$stub_dir/libcuda_stub.c"
  gcc -shared -fPIC -O1 -Wl,-soname,libcuda.so.1 -o "$stub_dir/libcuda.so.1" "$stub_dir/libcuda_stub.c"
  ln -sf libcuda.so.1 "$stub_dir/libcuda.so"
  log "built libcuda stub with $(wc -l <"$syms") symbols"
else
  rm -f "$syms.tmp"
fi

# ---- 6. env ---------------------------------------------------------------------------------
cat >"$PREFIX/env.sh" <<EOF
# Source me before 'cargo build --features cuda' (written by setup-cuda-build.sh).
export SEDS_CUDA_PREFIX="$PREFIX"
export CUDA_ROOT="$CUDA_ROOT"
export CUDA_PATH="$CUDA_ROOT"
export CUDA_TOOLKIT_ROOT_DIR="$CUDA_ROOT"
# dfdx build.rs: compute capability override (still runs nvidia-smi first, hence build-bin).
export CUDA_COMPUTE_CAP="${COMPUTE_CAP/./}"
export PATH="$CUDA_ROOT/bin:$PREFIX/build-bin:\$PATH"
# Link search for -lcuda (stub) and the toolkit libs; gcc (rustc's linker) reads LIBRARY_PATH.
export LIBRARY_PATH="$PREFIX/stubs:$CUDA_ROOT/lib\${LIBRARY_PATH:+:\$LIBRARY_PATH}"
EOF

log "prefix: $PREFIX ($(du -sh "$PREFIX" | cut -f1); wheels $(du -sh "$PREFIX/wheels" | cut -f1))"
log "nvcc: $("$CUDA_ROOT/bin/nvcc" --version | tail -n1)"
log "exports (also in $PREFIX/env.sh):"
cat "$PREFIX/env.sh"
