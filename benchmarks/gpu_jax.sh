#!/usr/bin/env bash
# GPU throughput of the layer rows through Keras 3's JAX backend, on a machine
# with JAX + CUDA but no TensorFlow and no package registry (the device tool's
# machines). Carry the wheels Keras needs there in .whl/ (see BUILD_NOTES.md):
#   keras==3.15.1 namex optree  (cp312, manylinux)
# Usage: bash benchmarks/gpu_jax.sh OUTPUT_DIR
# Writes OUTPUT_DIR/throughput_gpu.tar.gz holding both runs' reports.
set -uo pipefail
out=${1:?output dir}
work=$(mktemp -d); mkdir -p "$out"
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1
if ! python3 -c "import keras" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv
python3 -c "import jax, keras; print('jax', jax.__version__, 'keras', keras.__version__, jax.devices())"
status=0
run() {  # name, then flags
  local name=$1; shift
  echo "== $name: $*"
  python3 -m benchmarks.throughput "$@" --output_dir="$work/$name" 2>&1 \
    | grep -v "^throughput \[" | grep -v "^I[0-9]" || status=1
}
# GPU: the layer (taps), the matmul path, Pillow/OpenCV on the host's cores.
run gpu --device=gpu --source_sizes=512x512,1024x1024 --batch_size=256
# The same machine's CPU cores, same batch, for the GPU/CPU ratio there.
run cpu --device=cpu --source_sizes=512x512 --batch_size=256
# The accuracy study with its full settings, on the GPU (JAX, no TensorFlow).
if [ "${2:-}" != "--noaccuracy" ]; then
  echo "== accuracy --full"
  python3 -m benchmarks.accuracy --output_dir="$work/accuracy_full" 2>&1 \
    | grep -v "^I[0-9]" | tail -n 60 || status=1
fi
tar -C "$work" -czf "$out/throughput_gpu.tar.gz" . && ls -la "$out"
exit $status
