# env.sh - source me (do not execute) before `cargo build/check --features cuda`:
#   source scripts/cuda/env.sh
# Loads the exports that scripts/cuda/setup-cuda-build.sh wrote into $SEDS_CUDA_PREFIX/env.sh
# (default prefix /opt/seds-cuda). Build machines only: it puts a stand-in nvidia-smi on PATH.
__seds_cuda_env="${SEDS_CUDA_PREFIX:-/opt/seds-cuda}/env.sh"
if [ -f "$__seds_cuda_env" ]; then
  . "$__seds_cuda_env"
else
  echo "scripts/cuda/env.sh: $__seds_cuda_env missing: run scripts/cuda/setup-cuda-build.sh first" >&2
fi
unset __seds_cuda_env
