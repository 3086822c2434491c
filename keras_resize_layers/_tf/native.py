"""The taps as one TensorFlow CPU op (`resample_taps.c`), built on first use.

TensorFlow only. The C kernel sums whole rows with vector instructions
(AVX-512 or AVX2 when the machine has them) and keeps each output row's
intermediate in L1; its threads are one pool for the process, sized by
`tf.config.threading`'s intra-op setting. It is written against TensorFlow's C kernel API, so building it takes a C compiler
and well under a second, once per machine and TensorFlow version: the library
goes to `KRL_NATIVE_CACHE` (default `~/.cache/keras_resize_layers`), built
for this CPU (`-march=native`; `KRL_NATIVE_MARCH` names another target).

`run` is used by `_tf/cpu_resample.py` on a TensorFlow CPU outside XLA for uint8 and
float32 input, except while a SavedModel is being written (`model.export`,
`tf.saved_model.save`): an exported model holds only TensorFlow's own ops and
loads anywhere. Without a compiler, when the build fails (a warning says why)
or with `KRL_NATIVE=0`, the XLA programs run instead; the pixels agree to ~1e-4
on the 0..255 scale (float rounding).
"""

import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import warnings

import tensorflow as tf

from keras_resize_layers import _compat
from keras_resize_layers._core import backend as backend_lib
from keras_resize_layers._core import taps as taps_lib
from keras_resize_layers._tf import ops as tf_ops

SOURCE = os.path.join(os.path.dirname(__file__), "resample_taps.c")
DTYPES = (tf.uint8, tf.float32)
_FLAGS = ("-O3", "-std=gnu11", "-shared", "-fPIC")


def _compiler():
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which(
        "clang")


def _private_dir(path):
    """`path`, created if missing, when it is a directory of this user that no one
    else may write to (a library loaded from it runs as this process), else None."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        info = os.stat(path)
    except OSError:
        return None
    mine = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return path if mine and not info.st_mode & 0o022 and os.access(path, os.W_OK) else None


def _cache_dir():
    """`KRL_NATIVE_CACHE`, else `~/.cache/keras_resize_layers`, else a private
    folder of this user in the temp directory; None when none is usable."""
    root = os.environ.get("KRL_NATIVE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "keras_resize_layers")
    user = os.getuid() if hasattr(os, "getuid") else "user"
    return _private_dir(root) or _private_dir(os.path.join(
        tempfile.gettempdir(), f"keras_resize_layers-{user}"))


def _cpu_flags():
    """The CPU's feature flags (the build uses -march=native)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return line
    except OSError:
        pass
    return platform.processor()


def _build(cc):
    """Path of the built library (building it when missing); raises on failure."""
    with open(SOURCE, "rb") as f:
        source = f.read()
    link = [*tf.sysconfig.get_link_flags(), f"-Wl,-rpath,{tf.sysconfig.get_lib()}", "-lpthread"]
    march = os.environ.get("KRL_NATIVE_MARCH", "native")  # e.g. x86-64: no AVX (tests)
    compile_ = [cc, *_FLAGS, f"-march={march}", f"-I{tf.sysconfig.get_include()}", SOURCE]
    key = hashlib.sha256(b"\0".join(part.encode() for part in [
        source.decode(), tf.__version__, " ".join(compile_ + link), platform.machine(),
        _cpu_flags()])).hexdigest()
    folder = _cache_dir()
    if folder is None:
        raise RuntimeError("no private, writable cache folder (set KRL_NATIVE_CACHE)")
    path = os.path.join(folder, f"resample_taps-{key[:20]}.so")
    if not os.path.exists(path):
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=os.path.dirname(path))
        os.close(fd)
        try:
            done = subprocess.run(compile_ + ["-o", tmp] + link, capture_output=True,
                                  text=True, timeout=120)
            if done.returncode:
                raise RuntimeError(done.stderr.strip()[-2000:] or f"exit {done.returncode}")
            os.replace(tmp, path)  # atomic: concurrent builders are safe
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return path


@functools.lru_cache(maxsize=None)
def _built_path(cc):
    """`_build(cc)` once per process: the op and `pool` load the same file."""
    return _build(cc)


@tf.autograph.experimental.do_not_convert
@functools.lru_cache(maxsize=None)
def _library():
    """The loaded op module, or None (no compiler, or a failed build)."""
    cc = _compiler()
    if cc is None:
        warnings.warn("keras_resize_layers: no C compiler found (set CC); the TensorFlow "
                      "CPU path runs the XLA taps, ~2x slower (KRL_NATIVE=0 silences this).")
        return None
    try:
        module = tf.load_op_library(_built_path(cc))
    except Exception as e:  # noqa: BLE001 - any failure falls back to the XLA taps
        warnings.warn(f"keras_resize_layers: building the CPU resize op failed, the XLA "
                      f"taps run instead (KRL_NATIVE=0 silences this): {e}")
        return None
    # The op's threads: one pool for the process, as many as TensorFlow's intra-op pool
    # may use (tf.config.threading; 0 there means every allowed core).
    _ctypes_library().krl_set_max_threads(
        tf.config.threading.get_intra_op_parallelism_threads())
    _register_gradient()
    return module


@functools.lru_cache(maxsize=None)
def pool():
    """The built library through ctypes (the same loaded copy as the op's): its thread
    pool's `krl_set_max_threads(n)`, `krl_pool_size()`, `krl_threads_started()`, and the
    size from which float32 outputs are streamed past the caches,
    `krl_stream_threshold()` / `krl_set_stream_threshold(bytes)` (-1: never, 0: always)
    and for a tf.data function's outputs `krl_buffered_stream_threshold()` (one core's L2,
    or the former where lower),
    how rows are summed: `krl_set_row_mode(m)` forces one of the four ways that give the
    same values (0; 1: uint8 rows in groups; 2: no look-ahead prefetch; 3: both; -1,
    the default: measured per class of plan, see docs/cpu_op.md), `krl_grouped_rows()`
    counts the output rows summed in groups, `krl_row_modes_chosen()` the classes measured
    since `krl_reset_row_modes()`, and `krl_row_mode_of(is_float, W * C, K)` gives the
    mode of plans with rows of W * C values and K taps (-1 while measuring, -2 unseen).
    The op is loaded first (a library opened by ctypes first registers no op module)."""
    _library()
    return _ctypes_library()


@functools.lru_cache(maxsize=None)
def _ctypes_library():
    import ctypes

    library = ctypes.CDLL(_built_path(_compiler()))
    library.krl_set_max_threads.argtypes = [ctypes.c_int]
    library.krl_threads_started.restype = ctypes.c_int64
    library.krl_set_stream_threshold.argtypes = [ctypes.c_int64]
    library.krl_stream_threshold.restype = ctypes.c_int64
    library.krl_buffered_stream_threshold.restype = ctypes.c_int64
    library.krl_set_row_mode.argtypes = [ctypes.c_int]
    library.krl_grouped_rows.restype = ctypes.c_int64
    library.krl_row_modes_chosen.restype = ctypes.c_int64
    library.krl_row_mode_of.argtypes = [ctypes.c_int64] * 3
    return library


def _register_gradient():
    @tf.RegisterGradient("KrlResampleTaps")
    def _gradient(op, grad):
        images, iy, wy, ix, wx = op.inputs
        if images.dtype != tf.float32:
            return [None] * 5
        bk = backend_lib.get("tensorflow")
        gather = None if iy.shape[0] == 1 and ix.shape[0] == 1 else taps_lib.per_image_gather(bk)
        with tf.GradientTape() as tape:
            tape.watch(images)
            out = taps_lib.passes(bk, images, iy, wy, ix, wx, gather)
        return [tape.gradient(out, images, output_gradients=grad), None, None, None, None]


def usable(dtype):
    """True when `run` may resize a batch of `dtype` here (the caller has
    checked for a TensorFlow CPU outside XLA)."""
    if os.environ.get("KRL_NATIVE", "1") == "0" or tf.as_dtype(dtype) not in DTYPES:
        return False
    return not _compat.in_save_context() and _library() is not None


def run(images, iy, wy, ix, wx, out_dtype=tf.float32):
    """Both passes of `taps.passes` for `(N, H, W, C)` uint8 / float32 images;
    indices and weights `(1 or N, out, K)`, K any. Returns `(N, h, w, C)` float32, or
    uint8 with `out_dtype=tf.uint8`: rounded half to even and saturated in the op, the
    same values as `tf.cast(tf.clip_by_value(tf.round(out), 0, 255), tf.uint8)`.

    In a tf.data function the op is marked `buffered`: its output waits in a buffer
    until the consumer reads it, by which time it has left the caches, so a float32
    output larger than one core's L2 is written with streaming stores (same values;
    ~0.07 ms less CPU per 224x224 image in `batched_decode_and_resize`, BUILD_NOTES)."""
    return _library().krl_resample_taps(images, iy, wy, ix, wx, out_type=out_dtype,
                                        buffered=tf_ops.in_tf_data_function())
