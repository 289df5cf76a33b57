#!/usr/bin/env bash
# gpu-check.sh - the ONE prepared script to run on a GPU host (H100/H200, driver 580 / CUDA 13.0,
# no package registry, 15 min of device time in total). Everything it prints also goes to
# $OUT/gpu-check.log (or ./gpu-check.log when OUT is unset). Finishes in under ~9 minutes:
# every step has a `timeout` and the whole script a deadline (GPU_CHECK_DEADLINE_S, default 480).
#
# Inputs (built on a CPU machine, see docs/gpu.md):
#   target/cuda-carry/           from scripts/cuda/pack-for-gpu.sh (name it in the device `carry`):
#     seds-lab                   the `--features cuda` release binary (debug info stripped)
#     cuda-probe                 optional: the standalone dfdx probe (scripts/cuda/probe)
#     cuda-include.tar.gz        $CUDA_ROOT/include of the build (NVRTC needs cuda_fp16.h, nv/*)
#     dfdx-out-<hash>.tar.gz     dfdx's build OUT_DIR headers (cuda_utils.cuh, ...)
#     baked-paths.env            the absolute paths baked into the binaries
#   Falls back to target/release/seds-lab when there is no carry folder.
#
# Device call:  run(command="bash scripts/cuda/gpu-check.sh", carry=["target/cuda-carry"],
#                   timeout_s=600)
#
# The seds-lab commands it runs (the "commands" section below) are implemented in a
# `--features cuda` build: `bench --check-cuda --size S` (CPU-vs-CUDA agreement of tokens, loss
# components and gradients; exit 1 above the relative tolerance), `bench --device cuda --size S`
# and `run FILE --set train.device=cuda`. They have not run on a GPU yet (docs/gpu.md).
set -uo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
out="${OUT:-$repo}"
mkdir -p "$out"
LOG="$out/gpu-check.log"
exec > >(tee -a "$LOG") 2>&1

carry="${SEDS_CUDA_CARRY:-$repo/target/cuda-carry}"
deadline_s="${GPU_CHECK_DEADLINE_S:-480}"
start_s=$SECONDS
scratch="$(mktemp -d /tmp/gpu-check.XXXXXX)"
declare -a RESULTS=()

say() { printf '\n=== %s (t=%ss)\n' "$*" "$((SECONDS - start_s))"; }
record() { RESULTS+=("$1  $2"); printf -- '--> %s: %s\n' "$1" "$2"; }
# step_timeout WANTED -> min(WANTED, time left before the deadline), 0 if none left
step_timeout() {
  local left=$((deadline_s - (SECONDS - start_s)))
  ((left < 5)) && { echo 0; return; }
  ((left < $1)) && echo "$left" || echo "$1"
}
# run_step NAME TIMEOUT CMD... : runs CMD under timeout, records PASS/FAIL/TIMEOUT/SKIP
run_step() {
  local name="$1" want="$2"; shift 2
  local t; t="$(step_timeout "$want")"
  say "$name: $*"
  if ((t == 0)); then record "$name" "SKIP (deadline)"; return 1; fi
  # bash -c so that the shell functions below (exported with export -f) can be timed out too
  timeout --kill-after=5 "$t" bash -c '"$@"' _ "$@"
  local rc=$?
  case $rc in
    0) record "$name" "PASS" ;;
    124 | 137) record "$name" "TIMEOUT after ${t}s" ;;
    *) record "$name" "FAIL (exit $rc)" ;;
  esac
  return $rc
}

say "host"
date -u
uname -a
nvidia-smi || echo "nvidia-smi failed"
nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv || true
command -v nvcc >/dev/null && nvcc --version | tail -n2

# ---- binaries --------------------------------------------------------------------------------
BIN="$carry/seds-lab"
[[ -x "$BIN" ]] || BIN="$repo/target/release/seds-lab"
PROBE="$carry/cuda-probe"
say "binaries"
ls -la "$carry" 2>/dev/null || echo "no carry folder at $carry"
[[ -x "$BIN" ]] && echo "seds-lab: $BIN" || echo "seds-lab binary missing (looked in $carry and target/release)"

# ---- recreate the NVRTC include paths baked in at build time ---------------------------------
say "baked NVRTC include paths"
BAKED_DFDX_OUT_DIRS=()
BAKED_CUDA_INCLUDE_DIR=""
if [[ -f "$carry/baked-paths.env" ]]; then
  # shellcheck disable=SC1091
  source "$carry/baked-paths.env"
  cat "$carry/baked-paths.env"
  if [[ -n "$BAKED_CUDA_INCLUDE_DIR" && ! -f "$BAKED_CUDA_INCLUDE_DIR/cuda_fp16.h" ]]; then
    mkdir -p "$BAKED_CUDA_INCLUDE_DIR" &&
      tar xzf "$carry/cuda-include.tar.gz" -C "$BAKED_CUDA_INCLUDE_DIR" --strip-components=1 &&
      echo "recreated $BAKED_CUDA_INCLUDE_DIR"
  fi
  for d in "${BAKED_DFDX_OUT_DIRS[@]}"; do
    tag="$(basename "$(dirname "$d")")"
    if [[ ! -f "$d/cuda_utils.cuh" ]]; then
      mkdir -p "$d" && tar xzf "$carry/dfdx-out-$tag.tar.gz" -C "$d" && echo "recreated $d"
    fi
  done
  ok=1
  [[ -f "$BAKED_CUDA_INCLUDE_DIR/cuda_fp16.h" && -d "$BAKED_CUDA_INCLUDE_DIR/nv" ]] || ok=0
  for d in "${BAKED_DFDX_OUT_DIRS[@]}"; do [[ -f "$d/cuda_utils.cuh" ]] || ok=0; done
  ((ok)) && record "baked-paths" "PASS" || record "baked-paths" "FAIL (reshape/concat kernels will not compile)"
else
  record "baked-paths" "SKIP (no baked-paths.env: NVRTC kernels fail unless the build paths exist here)"
fi

# ---- CUDA runtime libraries (not carried: too big; use the image's CUDA 13.0) ----------------
say "CUDA runtime libraries"
find_lib_dir() { # first dir holding $1
  local lib="$1" d
  for d in ${SEDS_CUDA_LIB_DIR:-} /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib \
    /usr/local/cuda-13*/lib64 /usr/local/cuda-13*/targets/x86_64-linux/lib \
    /opt/torch/.venv/lib/python3*/site-packages/nvidia/cu13/lib \
    /usr/local/lib/python3*/dist-packages/nvidia/cu13/lib /usr/lib/python3/dist-packages/nvidia/cu13/lib; do
    [[ -e "$d/$lib" ]] && { echo "$d"; return 0; }
  done
  local p; p="$(python3 -c 'import nvidia, os; print(os.path.join(list(nvidia.__path__)[0], "cu13", "lib"))' 2>/dev/null || true)"
  [[ -n "$p" && -e "$p/$lib" ]] && { echo "$p"; return 0; }
  p="$(ldconfig -p 2>/dev/null | awk -v l="$lib" '$1 == l { print $NF; exit }')"
  [[ -n "$p" ]] && { dirname "$p"; return 0; }
  return 1
}
libdirs=()
for lib in libnvrtc.so.13 libcublas.so.13 libcublasLt.so.13; do
  if d="$(find_lib_dir "$lib")"; then
    echo "$lib -> $d/$lib ($(readlink -f "$d/$lib"))"
    [[ " ${libdirs[*]} " == *" $d "* ]] || libdirs+=("$d")
  else
    echo "$lib NOT FOUND (set SEDS_CUDA_LIB_DIR)"
  fi
done
if ((${#libdirs[@]})); then
  LD_LIBRARY_PATH="$(IFS=:; echo "${libdirs[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export LD_LIBRARY_PATH
fi
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
libs_ok=1
for b in "$BIN" "$PROBE"; do
  [[ -x "$b" ]] || continue
  echo "ldd $b:"
  ldd "$b" | grep -E 'cuda|nvrtc|cublas|not found|not a dynamic'
  ldd "$b" 2>/dev/null | grep -q 'not found' && libs_ok=0
  # the link stub must never be picked up at run time: it hides the real driver
  ldd "$b" 2>/dev/null | grep 'libcuda.so.1' | grep -q 'seds-cuda\|stubs' && libs_ok=0
done
((libs_ok)) && record "libraries" "PASS" ||
  record "libraries" "FAIL (unresolved library or libcuda stub, see ldd above)"

# ---- commands (seds-lab's CUDA flags, see docs/gpu.md) ---------------------------------------
export RUST_BACKTRACE=1
SIZES_BENCH=(tiny small paper)
SIZES_TRAIN=(tiny paper)

bench_cuda() { # size
  "$BIN" bench --device cuda --size "$1" --steps 5
}
check_cuda() { # size: CPU-vs-CUDA agreement (tokens, loss components, gradients); exit 1 above 1e-3
  "$BIN" bench --check-cuda --size "$1"
}
train_cuda() { # size -> prints the run's per-epoch loss lines; checks the loss falls
  local size="$1" log="$scratch/train-$1.log"
  "$BIN" --db "$scratch/seds-lab-$size.db" run scripts/cuda/gpu-check.toml \
    --set "model.size=$size" --set "train.device=cuda" \
    --set "data.cache_dir=$scratch/cache" --runs-dir "$scratch/runs-$size" --force 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  if ((rc != 0)); then
    # the cell's own error (e.g. "no usable CUDA device") is in its worker.log, under scratch
    for w in "$scratch/runs-$size"/*/worker.log; do
      [[ -f "$w" ]] && { echo "--- $w (last 40 lines)"; tail -n 40 "$w"; }
    done
    return "$rc"
  fi
  # `seds-lab run` prints "  run N: epoch E/K done, loss X" when stdout is not a terminal; X is
  # the loss of the epoch's last step.
  awk '/epoch [0-9]+\/[0-9]+ done, loss/ { v = $NF; if (n == 0) first = v; last = v; n++ }
       END { if (n < 2) { print "loss check: fewer than 2 epochs logged"; exit 3 }
             printf "loss check: first %s last %s over %d epochs\n", first, last, n
             if (last + 0 < first + 0) exit 0; else { print "loss did NOT fall"; exit 4 } }' "$log"
}

export BIN scratch
export -f bench_cuda check_cuda train_cuda

# ---- steps -------------------------------------------------------------------------------------
if [[ -x "$PROBE" ]]; then
  run_step "probe (dfdx matmul/softmax/reshape vs CPU)" 60 "$PROBE"
else
  record "probe" "SKIP (no $PROBE)"
fi
if [[ -x "$BIN" ]]; then
  run_step "seds-lab --version" 15 "$BIN" --version
  run_step "cpu-vs-cuda forward agreement tiny" 60 check_cuda tiny
  for s in "${SIZES_BENCH[@]}"; do
    case $s in tiny) t=45 ;; small) t=60 ;; *) t=90 ;; esac
    run_step "bench cuda $s" "$t" bench_cuda "$s"
  done
  for s in "${SIZES_TRAIN[@]}"; do
    case $s in tiny) t=90 ;; *) t=120 ;; esac
    run_step "train cuda $s (loss falls)" "$t" train_cuda "$s"
  done
  run_step "cpu-vs-cuda forward agreement paper" 60 check_cuda paper
fi
nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv || true

say "summary"
printf '%s\n' "${RESULTS[@]}"
echo "total ${SECONDS}s; log: $LOG"
rm -rf "$scratch"
fails=$(printf '%s\n' "${RESULTS[@]}" | grep -c -E '  (FAIL|TIMEOUT)' || true)
exit $((fails > 0))
