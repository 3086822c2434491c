"""Throughput and quality of every resize path.

    python -m benchmarks.throughput [--device=auto|cpu|gpu] [--quick]
        [--source_sizes=512x512,1024x1024] [--target_size=224x224]
        [--methods=bilinear] [--batch_size=32] [--output_dir=results]

For each source size and method, every row resizes the same real photos
(scikit-image) and reports images/s and input megapixels/s (median, min and
max of >= 5 timed trials after a warm-up) next to its quality: PSNR and max
abs error against the float64 exact antialiased reference
(`benchmarks/reference.py`) on a photo and on a zone plate, so that speed
never hides aliasing. Writes throughput.json, throughput.md, throughput.png.
"""

import functools
import gc
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from absl import app, flags

from benchmarks import photos, reference
from benchmarks import common_flags  # also --quick, --output_dir
from benchmarks import report_files
from benchmarks.progress import Progress

FLAGS = flags.FLAGS
flags.DEFINE_enum("device", "auto", ["auto", "cpu", "gpu"], "Where the layer rows run.")
flags.DEFINE_list("source_sizes", ["256x256", "512x512", "1024x1024", "2048x1536", "64x64"],
                  "Input sizes HxW.")
flags.DEFINE_string("target_size", "224x224", "Output size HxW.")
flags.DEFINE_list("methods", ["bilinear"], "Resampling methods to compare.")
flags.DEFINE_integer("batch_size", 32, "Images per timed call.")
common_flags.define_once(flags.DEFINE_integer, "trials",
                          5, "Timed trials per row (after one warm-up; at least 2).")
flags.DEFINE_string("pillow_simd_dir", None, "A folder holding Pillow-SIMD's `PIL` package "
                    "(`pip install --target DIR --no-binary :all: pillow-simd`): adds its row, "
                    "loaded beside Pillow under another name.")
flags.DEFINE_list("inputs", ["array", "jpeg"], "Which rows: in-memory batches (array), "
                  "encoded-JPEG pipelines (jpeg), or both.")
flags.DEFINE_integer("pipeline_images", 512, "JPEGs a pipeline row's trial times (the "
                     "fresh-iterator row makes a new iterator per half of them).", lower_bound=64)
flags.DEFINE_list("rows", [], "Only the rows whose name contains one of these texts (e.g. "
                  "'uint8 out,fast_image_resize' for 32 images of 4096², where the float rows' "
                  "copies do not fit 24 GiB); empty: every row.")

MIN_TRIAL_S = 0.05  # an array row's trial repeats its batch's call for about this long
PIPELINE_BATCH = 32
WARM_BATCHES = 4  # batches pulled, untimed, from a new iterator before a timed trial
FIRST_BATCH_S = []  # each fresh iterator's wait for its first batch (seconds)
PIL_FILTERS = {"bilinear": "BILINEAR", "bicubic": "BICUBIC", "lanczos3": "LANCZOS",
               "area": "BOX", "nearest": "NEAREST"}
CV2_NO_AA = {"bilinear": "INTER_LINEAR", "bicubic": "INTER_CUBIC",
             "lanczos3": "INTER_LANCZOS4", "nearest": "INTER_NEAREST", "area": "INTER_AREA"}


def _repeated(call, n):
    """`call()` n times; the last result (earlier ones are dropped as they come, not kept)."""
    for _ in range(n - 1):
        call()
    return call()


def _selected(rows, row_filter):
    """The rows whose name contains one of `row_filter`'s texts (all rows when empty)."""
    return [r for r in rows if not row_filter or any(t in r[0] for t in row_filter)]


def parse_size(text):
    h, w = text.lower().split("x")
    return int(h), int(w)


def _timeit(fn, trials):
    fn()  # warm-up (tracing, compilation)
    times = []
    for _ in range(trials):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return np.array(times)


def _backend():
    import keras

    return keras.backend.backend()


def _has_tf():
    try:
        import tensorflow  # noqa: F401

        return True
    except ImportError:
        return False


class Device:
    """Resolves --device and proves where the layer rows ran."""

    def __init__(self, requested):
        self.backend = _backend()
        self.gpu = False
        if self.backend == "tensorflow":
            import tensorflow as tf

            self.gpu = bool(tf.config.list_physical_devices("GPU"))
        elif self.backend == "jax":
            import jax

            self.gpu = any(d.platform == "gpu" for d in jax.devices())
        elif self.backend == "torch":
            import torch

            self.gpu = torch.cuda.is_available()
        if requested == "gpu" and not self.gpu:
            raise SystemExit(f"--device=gpu: no GPU visible to the {self.backend} backend.")
        self.use_gpu = self.gpu and requested != "cpu"
        self.name = "gpu" if self.use_gpu else "cpu"
        if self.backend == "tensorflow" and self.use_gpu:
            import tensorflow as tf

            # An op without a GPU kernel now fails instead of silently running on the host.
            tf.config.set_soft_device_placement(False)

    def scope(self):
        """Where inputs are placed and layer rows run: the requested device."""
        import contextlib

        if self.backend == "tensorflow":
            import tensorflow as tf

            return tf.device("/GPU:0" if self.use_gpu else "/CPU:0")
        if self.backend == "jax":
            import jax

            return jax.default_device(jax.devices("gpu" if self.use_gpu else "cpu")[0])
        return contextlib.nullcontext()

    def check(self, output):
        """Raises if a layer row's output was not produced on the requested device."""
        if not self.use_gpu:
            return
        where = ""
        if self.backend == "tensorflow":
            where = output.device
        elif self.backend == "jax":
            where = str(list(output.devices()))
        elif self.backend == "torch":
            where = str(output.device)
        if "gpu" not in where.lower() and "cuda" not in where.lower():
            raise RuntimeError(f"Expected the resize to run on the GPU; output is on {where}")

    def put(self, array):
        """The batch as a tensor on the device, so that timing excludes the host copy
        (a 32 x 1024² uint8 batch is 100 MB)."""
        import keras

        with self.scope():
            tensor = keras.ops.convert_to_tensor(array)
            if self.backend == "torch" and self.use_gpu:
                tensor = tensor.cuda()
            return tensor

    def description(self):
        """The device's name, e.g. 'NVIDIA H200', or the CPU's processor name."""
        if not self.use_gpu:
            return platform.processor() or "CPU"
        if self.backend == "jax":
            import jax

            return jax.devices("gpu")[0].device_kind
        if self.backend == "torch":
            import torch

            return torch.cuda.get_device_name(0)
        import tensorflow as tf

        gpu = tf.config.list_physical_devices("GPU")[0]
        return tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)

    def sync(self, output):
        """Waits until `output` is computed (device work is asynchronous), without
        copying it to the host: a timed call ends when its result is ready."""
        if self.backend == "jax":
            import jax

            jax.block_until_ready(output)
        elif self.backend == "torch" and self.use_gpu:
            import torch

            torch.cuda.synchronize()
        elif self.backend == "tensorflow" and self.use_gpu:
            import tensorflow as tf

            tf.test.experimental.sync_devices()
        return output

    def bandwidth(self):
        """Memory bandwidth in bytes/s of the device the layer rows use, the best of
        several passes (a probe can only under-measure). CPU: 256 MiB copied between two
        buffers written beforehand (no page faults timed), one thread per core, counted as
        read + write. GPU: a compiled 1 GiB elementwise op, read + write."""
        if not self.use_gpu:
            return _host_copy_bandwidth()
        import keras

        with self.scope():
            x = keras.ops.ones((2**28,), dtype="float32")
            if self.backend == "torch":
                x = x.cuda()
            if self.backend == "jax":
                import jax

                step = jax.jit(lambda a: a * 1.0001)
            elif self.backend == "tensorflow":
                import tensorflow as tf

                step = tf.function(lambda a: a * 1.0001, jit_compile=True)
            else:
                step = lambda a: a * 1.0001  # noqa: E731
            times = _timeit(lambda: self.sync(step(x)), 10)  # after one warm-up call
        return 2 * x.shape[0] * 4 / float(np.min(times))

    def to_numpy(self, output):
        import keras

        return np.asarray(keras.ops.convert_to_numpy(output))


def _host_copy_bandwidth(nbytes=2**28, passes=5):
    """Best read + write rate of copying `nbytes` between two buffers in as many threads
    as cores (NumPy's copy releases the GIL; both buffers are written once first, so no
    page fault is timed)."""
    import concurrent.futures

    src = np.ones(nbytes, np.uint8)
    dst = np.zeros(nbytes, np.uint8)
    threads = os.cpu_count() or 1
    edges = np.linspace(0, nbytes, threads + 1).astype(int)
    parts = [(src[a:b], dst[a:b]) for a, b in zip(edges[:-1], edges[1:])]
    best = float("inf")
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for _ in range(passes + 1):  # the first pass warms the threads
            start = time.perf_counter()
            list(pool.map(lambda p: np.copyto(p[1], p[0]), parts))
            best = min(best, time.perf_counter() - start)
    return 2 * nbytes / best


def array_rows(method, target, device):
    """(name, library, antialias, fn(batch uint8) -> output) for in-memory batches."""
    import keras

    import keras_resize_layers as krl
    from keras_resize_layers.layers import Resize

    rows = []
    backend = device.backend

    def compiled(layer):
        if backend == "tensorflow":
            import tensorflow as tf

            inputs = keras.Input((None, None, 3), dtype="uint8")
            model = keras.Model(inputs, layer(inputs))
            return tf.function(lambda x: model(x, training=False), jit_compile=device.use_gpu,
                               reduce_retracing=True)
        if backend == "jax":
            import jax

            return jax.jit(lambda x: layer(x))
        return lambda x: layer(x)

    for aa in (True, False):
        layer = Resize(*target, method=method, antialias=aa)
        rows.append((f"krl Resize layer (compiled model, {backend})", "keras_resize_layers",
                     aa, compiled(layer), True))
    # uint8 in and out, as the per-image resizers below
    rows.append((f"krl Resize uint8 out (compiled model, {backend})", "keras_resize_layers",
                 True, compiled(Resize(*target, method=method, output_dtype="uint8")), True))
    if backend != "tensorflow":
        rows.append((f'krl resize implementation="matmul" (compiled, {backend})',
                     "keras_resize_layers", True,
                     compiled(lambda x: krl.resize(x, target, method=method,
                                                   implementation="matmul")), True))
    if backend == "tensorflow":
        import tensorflow as tf

        if not device.use_gpu:
            rows.append(('krl resize implementation="tf" (TF resize kernels)',
                         "keras_resize_layers", True, tf.function(
                             lambda x: krl.resize(x, target, method=method,
                                                  implementation="tf")), True))
        rows.append(("krl resize in tf.function(jit_compile=True)", "keras_resize_layers", True,
                     tf.function(lambda x: krl.resize(x, target, method=method),
                                 jit_compile=True), True))
        rows.append(('krl resize implementation="matmul"', "keras_resize_layers", True,
                     tf.function(lambda x: krl.resize(x, target, method=method,
                                                      implementation="matmul")), True))
        if method in ("bilinear", "bicubic", "nearest", "area", "lanczos3", "lanczos5",
                      "gaussian", "mitchellcubic"):
            for aa in (True, False):
                resizing = keras.layers.Resizing(*target, interpolation=method, antialias=aa)
                rows.append(("keras.layers.Resizing", "keras", aa,
                             tf.function(lambda x, r=resizing: r(x)), True))
                rows.append(("tf.image.resize", "tensorflow", aa, tf.function(
                    lambda x, a=aa: tf.image.resize(x, target, method=method, antialias=a)),
                    True))
    return rows


def host_rows(method, target):
    """Pillow and OpenCV rows (CPU, per image, both cores through a thread pool)."""
    rows = []
    pool = ThreadPoolExecutor(os.cpu_count() or 1)
    try:
        from PIL import Image

        pil_filter = getattr(Image, PIL_FILTERS[method])

        def pil(batch):
            return np.stack(list(pool.map(lambda im: np.asarray(
                Image.fromarray(im).resize((target[1], target[0]), pil_filter)), batch)))

        rows.append((f"Pillow resize {PIL_FILTERS[method]}", "pillow", True, pil, False))
    except ImportError:
        pass
    simd = _pillow_simd()
    if simd is not None:
        simd_filter = getattr(simd, PIL_FILTERS[method])
        rows.append((f"Pillow-SIMD resize {PIL_FILTERS[method]}", "pillow-simd", True,
                     lambda batch: np.stack(list(pool.map(lambda im: np.asarray(
                         simd.fromarray(im).resize((target[1], target[0]), simd_filter)),
                         batch))), False))
    rows += fast_resizer_rows(method, target, pool)
    try:
        import cv2

        def cv(flag):
            return lambda batch: np.stack([cv2.resize(im, (target[1], target[0]),
                                                      interpolation=flag) for im in batch])

        rows.append(("OpenCV INTER_AREA", "opencv", True, cv(cv2.INTER_AREA), False))
        if method != "area":
            rows.append((f"OpenCV {CV2_NO_AA[method]}", "opencv", False,
                         cv(getattr(cv2, CV2_NO_AA[method])), False))
    except ImportError:
        pass
    return rows


def _pillow_simd():
    """Pillow-SIMD's `Image` module from `--pillow_simd_dir`, imported as `PIL_SIMD` so that
    it runs beside Pillow in this process; None without the flag."""
    folder = FLAGS.pillow_simd_dir if FLAGS.is_parsed() else None
    if not folder:
        return None
    import importlib
    import importlib.util
    import sys

    if "PIL_SIMD" not in sys.modules:
        package = os.path.join(folder, "PIL")
        spec = importlib.util.spec_from_file_location(
            "PIL_SIMD", os.path.join(package, "__init__.py"),
            submodule_search_locations=[package])
        module = importlib.util.module_from_spec(spec)
        sys.modules["PIL_SIMD"] = module
        spec.loader.exec_module(module)
    return importlib.import_module("PIL_SIMD.Image")


FIR_FILTERS = {"bilinear": "bilinear", "bicubic": "catmull_rom", "lanczos3": "lanczos3",
               "area": "box"}
VIPS_KERNELS = {"bilinear": "linear", "bicubic": "cubic", "lanczos3": "lanczos3"}


def fast_resizer_rows(method, target, pool):
    """The fastest CPU resizers a user can `pip install` (the `compare` extra): Rust's
    fast_image_resize (PyPI `cykooz.resizer`, SIMD convolution) and libvips (`pyvips` with
    `pyvips-binary`); per image, uint8 in and out, one image per core at a time. Rows are
    absent when a package is not installed."""
    rows = []
    try:
        import threading

        import cykooz_resizer as fir

        alg = fir.ResizeOptions(resize_alg=fir.ResizeAlg.convolution(
            getattr(fir.FilterType, FIR_FILTERS[method])))
        local = threading.local()

        def fir_one(image):
            if not hasattr(local, "resizer"):
                local.resizer = fir.Resizer()
            h, w = image.shape[:2]
            src = fir.ImageData(w, h, fir.PixelType.U8x3, np.ascontiguousarray(image).tobytes())
            dst = fir.ImageData(target[1], target[0], fir.PixelType.U8x3)
            local.resizer.resize(src, dst, alg)
            return np.frombuffer(dst.get_buffer(), np.uint8).reshape(target[0], target[1], 3)

        if method in FIR_FILTERS:
            rows.append((f"fast_image_resize {FIR_FILTERS[method]} (cykooz.resizer)",
                         "fast_image_resize", True,
                         lambda batch: np.stack(list(pool.map(fir_one, batch))), False))
    except ImportError:
        pass
    try:
        import pyvips

        pyvips.cache_set_max(0)  # every call resizes (no result served from vips's cache)

        def vips_one(image):
            h, w = image.shape[:2]
            data = np.ascontiguousarray(image)
            out = pyvips.Image.new_from_memory(data.data, w, h, 3, "uchar").resize(
                target[1] / w, vscale=target[0] / h, kernel=VIPS_KERNELS[method])
            return np.ndarray(buffer=out.write_to_memory(), dtype=np.uint8,
                              shape=(out.height, out.width, 3))[:target[0], :target[1]]

        if method in VIPS_KERNELS:
            rows.append((f"libvips resize kernel={VIPS_KERNELS[method]} (pyvips)", "libvips",
                         True, lambda batch: np.stack(list(pool.map(vips_one, batch))), False))
    except (ImportError, OSError):  # OSError: pyvips without a libvips binary
        pass
    return rows


def _dct_ratio(source, target):
    """The largest JPEG DCT scale 1/r (r in 1, 2, 4, 8) keeping both sides >= the target."""
    return max(r for r in (1, 2, 4, 8) if -(-source[0] // r) >= target[0]
               and -(-source[1] // r) >= target[1])


def pipeline_rows(method, target, source, fresh_every):
    """Encoded JPEG -> 224x224 pipelines: tf.data (library, baselines) and Pillow draft; the
    fresh-iterator row makes a new iterator per `fresh_every` images."""
    import tensorflow as tf

    from keras_resize_layers import data

    rows = []

    def tf_pipeline(transform):
        # Steady state, as in training: before each trial (untimed) a new
        # iterator over a finite dataset is made and WARM_BATCHES are pulled
        # (start-up, compilation, buffers filling); the trial then times the
        # next len(encoded) images, in batches of PIPELINE_BATCH. The dataset
        # ends a few batches later, so its threads finish on their own (an
        # endless iterator left idle between the alternated trials buffered
        # work ahead, and destroying one took seconds). No injected prefetch
        # and one call in flight per core, as many as Pillow's threads. The
        # batches are returned as they come (a copy into one array would be
        # timed too).
        live = {}  # id(encoded) -> the warm iterator for the next timed pull
        datasets = {}  # id(encoded) -> its dataset, built (and traced) once

        def before_trial(encoded):
            live.pop(id(encoded), None)  # the previous trial's, drained by now
            if id(encoded) not in datasets:
                options = tf.data.Options()
                options.experimental_optimization.map_and_batch_fusion = False
                options.experimental_optimization.inject_prefetch = False
                # Parallelism is given explicitly: no autotuning thread, whose
                # shutdown held each discarded iterator for seconds.
                options.autotune.enabled = False
                extra = (WARM_BATCHES + 2 * (os.cpu_count() or 1)) * PIPELINE_BATCH
                elements = np.resize(encoded.astype(bytes), len(encoded) + extra)
                datasets[id(encoded)] = transform(tf.data.Dataset.from_tensor_slices(
                    elements)).with_options(options)
            iterator = iter(datasets[id(encoded)])
            for _ in range(WARM_BATCHES):
                next(iterator)
            live[id(encoded)] = iterator

        def run(encoded):
            if id(encoded) not in live:  # an untimed call (warm-up, quality)
                before_trial(encoded)
            iterator = live[id(encoded)]
            batches, count = [], 0
            while count < len(encoded):
                batches.append(next(iterator))
                count += int(batches[-1].shape[0])
            return batches
        run.before_trial = before_trial
        run.close = lambda: (live.clear(), datasets.clear())
        return run

    def fresh_iterators(transform, every):
        # Epochs of `every` images, a new iterator each, as `model.fit` makes
        # one per epoch of a finite dataset; each iterator's wait for its
        # first batch is kept.
        datasets = {}  # one dataset per input, as `fit` keeps one: traced once

        def run(encoded):
            if id(encoded) not in datasets:
                datasets[id(encoded)] = transform(tf.data.Dataset.from_tensor_slices(
                    encoded[:every].astype(bytes)))
            dataset = datasets[id(encoded)]
            batches = []
            for _ in range(0, len(encoded), every):
                start = time.perf_counter()
                iterator = iter(dataset)
                batches.append(next(iterator))
                FIRST_BATCH_S.append(time.perf_counter() - start)
                batches.extend(iterator)
            return batches
        run.close = datasets.clear
        return run

    def per_element(map_fn):
        return tf_pipeline(lambda ds: ds.map(map_fn, num_parallel_calls=os.cpu_count()).batch(
            PIPELINE_BATCH))

    for dct in (True, False):
        rows.append((f"tf.data decode_and_resize_fn (dct_downscale={dct})",
                     "keras_resize_layers", True,
                     per_element(data.decode_and_resize_fn(*target, method=method,
                                                           dct_downscale=dct)), False))
    rows.append((f"tf.data batched_decode_and_resize (batches of {PIPELINE_BATCH})",
                 "keras_resize_layers", True, tf_pipeline(
                     lambda ds: ds.apply(data.batched_decode_and_resize(
                         PIPELINE_BATCH, *target, method=method,
                         num_parallel_calls=os.cpu_count()))), False))
    batched = lambda ds: ds.apply(data.batched_decode_and_resize(  # noqa: E731
        PIPELINE_BATCH, *target, method=method, num_parallel_calls=os.cpu_count()))
    rows.append((f"tf.data batched_decode_and_resize, a fresh iterator per {fresh_every} "
                 "images", "keras_resize_layers", True, fresh_iterators(batched, fresh_every),
                 False))
    ratio = _dct_ratio(source, target)
    rows.append((f"tf.data bare decode_jpeg(ratio={ratio}), no resize (decode bound)",
                 "tensorflow", None, tf_pipeline(lambda ds: ds.map(
                     lambda b: tf.io.decode_jpeg(b, channels=3, ratio=ratio),
                     num_parallel_calls=os.cpu_count()).padded_batch(PIPELINE_BATCH)), False))
    rows.append(("tf.data decode_jpeg + tf.image.resize(antialias=True)", "tensorflow", True,
                 per_element(lambda b: tf.image.resize(tf.io.decode_jpeg(b, channels=3),
                                                       target, method=method,
                                                       antialias=True)), False))
    import io

    from PIL import Image

    pil_filter = getattr(Image, PIL_FILTERS[method])
    pool = ThreadPoolExecutor(os.cpu_count() or 1)

    def pil_one(encoded):
        image = Image.open(io.BytesIO(encoded))
        image.draft("RGB", (target[1], target[0]))
        return np.asarray(image.convert("RGB").resize((target[1], target[0]), pil_filter))

    rows.append(("Pillow draft + resize (thread pool)", "pillow", True,
                 lambda encoded: np.stack(list(pool.map(pil_one, list(encoded)))), False))
    return rows


def run(source_sizes, target, methods, batch_size, trials, device_flag, quick,
        output_dir, kinds=("array", "jpeg"), row_filter=(), pipeline_images=512):
    started = time.gmtime()
    device = Device(device_flag)
    bandwidth = device.bandwidth()
    has_tf = _has_tf() and device.backend == "tensorflow"
    results = []
    plans = []
    for source in source_sizes:
        for method in methods:
            if "array" in kinds:
                rows = array_rows(method, target, device) + host_rows(method, target)
                plans.append((source, method, "array", _selected(rows, row_filter)))
            if "jpeg" in kinds and has_tf and method in PIL_FILTERS and source[0] >= target[0]:
                plans.append((source, method, "jpeg",
                              _selected(pipeline_rows(method, target, source, pipeline_images // 2),
                                        row_filter)))
    total = sum(len(p[3]) for p in plans)
    with Progress(total, "throughput") as progress:
        for source, method, kind, rows in plans:
            batch = photos.batch(source, batch_size)
            zone = reference.zone_plate(source)
            if kind == "jpeg":
                # Enough elements that pipeline start-up does not dominate.
                jpegs = [photos.encode_jpeg(im) for im in batch]
                encoded = np.array([jpegs[i % len(jpegs)] for i in range(pipeline_images)],
                                   dtype=object)
                encoded_zone = np.array([photos.encode_jpeg(zone, quality=100)], dtype=object)
                # Quality of a pipeline: against the exact resize of the fully
                # decoded JPEG, so DCT-domain downscaling is measured too.
                ref_photo = reference.resize(photos.decode(encoded[0]), target, method)
                ref_zone = reference.resize(photos.decode(encoded_zone[0]), target, method)
            else:
                ref_photo = reference.resize(batch[0], target, method)
                ref_zone = reference.resize(zone, target, method)
            prepared = []  # (row, timed call, inputs, output bytes per image)
            for name, library, aa, fn, on_device in rows:
                progress.step(f"{source[0]}x{source[1]} {name}")
                row = dict(name=name, library=library, antialias=aa, method=method,
                           source=list(source), target=list(target), input=kind,
                           device=device.name if on_device else "cpu")
                results.append(row)
                try:
                    if kind == "jpeg":
                        inputs, zone_in = encoded, encoded_zone
                    elif on_device:
                        inputs, zone_in = device.put(batch), device.put(zone[None])
                    else:
                        inputs, zone_in = batch, zone[None]
                    with device.scope():
                        out = fn(inputs)  # also the warm-up (tracing, compilation)
                        if on_device:
                            device.check(out)
                        out = device.to_numpy(out) if on_device else _images(out)
                        if aa is not None:  # a row that resizes: its quality
                            out_zone = fn(zone_in)
                            out_zone = device.to_numpy(out_zone) if on_device else _images(
                                out_zone)
                            row.update(
                                psnr_photo=reference.psnr(out[0], ref_photo),
                                max_abs_photo=reference.max_abs_error(out[0], ref_photo),
                                psnr_zone=reference.psnr(out_zone[0], ref_zone),
                                max_abs_zone=reference.max_abs_error(out_zone[0], ref_zone))
                    one = (lambda f=fn, x=inputs: device.sync(f(x))) if on_device else (
                        lambda f=fn, x=inputs: f(x))
                    # A batch's call, repeated so that a trial lasts MIN_TRIAL_S: one
                    # call of a fast row (2-4 ms) moved 2x with the machine's state
                    # before it (a core or the cache cold after other rows).
                    calls = 1
                    if kind == "array":
                        with device.scope():
                            begin = time.perf_counter()
                            one()
                            calls = max(1, int(MIN_TRIAL_S / max(
                                time.perf_counter() - begin, 1e-6)))
                    row["calls_per_trial"] = calls
                    call = functools.partial(_repeated, one, calls)
                    before = getattr(fn, "before_trial", None)
                    before = (lambda b=before, x=inputs: b(x)) if before else (lambda: None)
                    prepared.append((row, call, before, inputs, out[0].nbytes))
                except Exception as error:  # a row that cannot run here says why
                    row["error"] = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
            # Timed trials alternate the rows (A, B, C, B, C, A, ...): a slow spell
            # of this machine touches every row, not one.
            times = {id(row): [] for row, *_ in prepared}
            firsts = {id(row): [] for row, *_ in prepared}
            for trial in range(trials):
                # Each trial starts one row later, so no row is always first.
                shift = trial % max(1, len(prepared))
                for row, call, before, _, _ in prepared[shift:] + prepared[:shift]:
                    del FIRST_BATCH_S[:]
                    with device.scope():
                        before()  # untimed: e.g. drain a pipeline's buffers
                        begin = time.perf_counter()
                        try:
                            call()
                        except Exception as error:
                            row["error"] = f"{type(error).__name__}: {str(error)[:200]}"
                            continue
                        # Seconds per batch: the trial's time over its calls.
                        times[id(row)].append(
                            (time.perf_counter() - begin) / row["calls_per_trial"])
                    firsts[id(row)] += FIRST_BATCH_S
            for row, _, _, inputs, out_bytes in prepared:
                if "error" in row:
                    continue
                per_s = len(inputs) / np.array(times[id(row)])
                mp = source[0] * source[1] / 1e6
                # Fewest bytes a resize must move per image: its input read once
                # (encoded bytes for a pipeline) and its output written once.
                moved = (len(inputs[0]) if kind == "jpeg" else batch[0].nbytes) + out_bytes
                row.update(
                    times_s=[float(t) for t in times[id(row)]],
                    images_per_s=dict(median=float(np.median(per_s)),
                                      min=float(per_s.min()), max=float(per_s.max())),
                    megapixels_per_s=float(np.median(per_s) * mp),
                    gigabytes_per_s=float(np.median(per_s) * moved / 1e9),
                    trials=int(trials))
                if firsts[id(row)]:
                    row["first_batch_s"] = dict(median=float(np.median(firsts[id(row)])),
                                                max=float(max(firsts[id(row)])),
                                                iterators=len(firsts[id(row)]))
                if bandwidth and kind == "array" and row["antialias"]:
                    # Only an antialiased resize reads every input byte; a plain
                    # bilinear one at 2048² reads ~1% of them (its "share" read 118%).
                    row["bandwidth_fraction"] = row["gigabytes_per_s"] * 1e9 / bandwidth
            for *_, fn, _ in rows:
                getattr(fn, "close", lambda: None)()
            del prepared
            gc.collect()
    report = dict(
        benchmark="throughput", date=time.strftime("%Y-%m-%d", started),
        time=time.strftime("%H:%M UTC", started),
        machine=dict(platform=platform.platform(), processor=platform.processor(),
                     cpu_count=os.cpu_count(), device=device.name,
                     device_description=device.description(),
                     memory_bandwidth_gb_s=bandwidth and bandwidth / 1e9,
                     backend=device.backend, versions=_versions()),
        config=dict(source_sizes=[list(s) for s in source_sizes], target=list(target),
                    methods=list(methods), batch_size=batch_size, trials=trials,
                    quick=quick, inputs=list(kinds), rows=list(row_filter),
                    pipeline_images=pipeline_images),
        rows=results)
    write(report, output_dir)
    return report


def _images(out):
    """A row's output as one array (pipelines return a list of batches)."""
    if isinstance(out, list):
        return np.concatenate([np.asarray(b) for b in out])
    return np.asarray(out)


def _versions():
    """Versions of the libraries the rows ran (the rival resizers' packages included)."""
    import importlib.metadata
    import sys

    versions = {}
    for module in ("tensorflow", "keras", "jax", "torch", "PIL", "cv2", "numpy"):
        try:
            versions[module] = __import__(module).__version__
        except Exception:
            pass
    for package in ("cykooz.resizer", "pyvips"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    if "pyvips" in sys.modules:
        vips = sys.modules["pyvips"]
        versions["libvips"] = ".".join(str(vips.version(i)) for i in range(3))
    if "PIL_SIMD" in sys.modules:  # --pillow_simd_dir
        versions["pillow-simd"] = sys.modules["PIL_SIMD"].__version__
    return versions


def _fmt(value, digits=1):
    if value is None:
        return "—"
    if value == float("inf"):
        return "exact"
    return f"{value:.{digits}f}"


def markdown(report):
    machine = report["machine"]
    lines = [f"# Throughput ({machine.get('device_description', machine['device'])}, "
             f"{machine['cpu_count']} cores, backend {machine['backend']}, {report['date']})",
             "",
             "images/s: median (min–max) of "
             f"{report['config']['trials']} trials, the rows of each input alternated trial by "
             f"trial; batches of {report['config']['batch_size']}; "
             "PSNR/max err against the float64 exact antialiased reference. GB/s: the fewest "
             "bytes a resize moves (input read once, output written once) per second."]
    if machine.get("memory_bandwidth_gb_s"):
        lines.append(f"Measured memory bandwidth of the device the layer rows use: "
                     f"{machine['memory_bandwidth_gb_s']:.0f} GB/s (CPU: best of 5 copies of 256 MiB, "
                     "one thread per core; GPU: a 1 GiB elementwise op; read + write); % is "
                     "an in-memory row's share of it (above 100%: the batch was served from "
                     "the caches).")
    lines += ["",
              "| source → target | input | method | row | antialias | images/s | MP/s | GB/s | "
              "PSNR photo dB | max err photo | PSNR zone plate dB | max err zone |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        size = f"{r['source'][0]}x{r['source'][1]} → {r['target'][0]}x{r['target'][1]}"
        if "error" in r:
            lines.append(f"| {size} | {r['input']} | {r['method']} | {r['name']} | "
                         f"{r['antialias']} | failed: {r['error']} | | | | | | |")
            continue
        ips = r["images_per_s"]
        moved = f"{r['gigabytes_per_s']:.2f}"
        if "bandwidth_fraction" in r:
            moved += f" ({100 * r['bandwidth_fraction']:.0f}%)"
        name = f"{r['name']} ({r['device']})"
        if "first_batch_s" in r:
            name += (f"; first batch of a fresh iterator {r['first_batch_s']['median']:.2f} s "
                     f"(max {r['first_batch_s']['max']:.2f}, {r['first_batch_s']['iterators']} "
                     "iterators)")
        lines.append(
            f"| {size} | {r['input']} | {r['method']} | {name} | "
            f"{'—' if r['antialias'] is None else r['antialias']} | {ips['median']:.0f} "
            f"({ips['min']:.0f}–{ips['max']:.0f}) | "
            f"{r['megapixels_per_s']:.0f} | {moved} | {_fmt(r.get('psnr_photo'))} | "
            f"{_fmt(r.get('max_abs_photo'), 2)} | {_fmt(r.get('psnr_zone'))} | "
            f"{_fmt(r.get('max_abs_zone'), 2)} |")
    pairs = ratios(report)
    if pairs:
        lines += ["", "Side by side (A's speed over B's in the same trial: the trials alternate "
                  "rows): median (min–max) over the trials.", "",
                  "| source | A | B | A / B |", "|---|---|---|---|"]
        for p in pairs:
            lines.append(f"| {p['source'][0]}x{p['source'][1]} | {p['a']} | {p['b']} | "
                         f"{p['median']:.2f}× ({p['min']:.2f}–{p['max']:.2f}) |")
    return "\n".join(lines) + "\n"


# (row A, row B): A's speed over B's, trial by trial (the trials alternate rows).
RATIOS = (
    (("krl Resize layer", True), ("tf.image.resize", True)),
    (("krl Resize layer", True), ("Pillow resize", True)),
    (("krl Resize uint8 out", True), ("fast_image_resize", True)),
    (("krl Resize uint8 out", True), ("libvips", True)),
    (("krl Resize uint8 out", True), ("Pillow-SIMD", True)),
    (("tf.data batched_decode_and_resize (", True), ("tf.data bare decode_jpeg", None)),
    (("tf.data batched_decode_and_resize (", True), ("Pillow draft + resize", True)),
    (("tf.data batched_decode_and_resize, a fresh", True),
     ("tf.data batched_decode_and_resize (", True)),
)


def ratios(report):
    """Side-by-side ratios: for each pair of RATIOS and each input, the speed
    ratio of every trial (same trial index: measured back to back), as median,
    min and max."""
    out = []
    groups = {}
    for r in report["rows"]:
        if "times_s" in r:
            groups.setdefault((tuple(r["source"]), r["method"], r["input"]), []).append(r)
    for (source, method, kind), rows in groups.items():
        for (name_a, aa_a), (name_b, aa_b) in RATIOS:
            a = [r for r in rows if r["name"].startswith(name_a) and r["antialias"] == aa_a]
            b = [r for r in rows if r["name"].startswith(name_b) and r["antialias"] == aa_b]
            if len(a) != 1 or len(b) != 1:
                continue
            per_trial = np.array(b[0]["times_s"]) / np.array(a[0]["times_s"])
            out.append(dict(source=list(source), method=method, input=kind,
                            a=a[0]["name"], b=b[0]["name"],
                            median=float(np.median(per_trial)), min=float(per_trial.min()),
                            max=float(per_trial.max())))
    return out


def plot(report, output_dir):
    """Speed against zone-plate quality: one panel per source size and input,
    images/s (log) with min-max whiskers against zone-plate PSNR ("exact"
    rows drawn at the right edge), each point labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = {}
    for r in report["rows"]:
        if "error" not in r and r.get("psnr_zone") is not None:
            key = f"{r['source'][0]}x{r['source'][1]} -> {r['target'][0]}x{r['target'][1]} " \
                  f"{r['method']} ({r['input']})"
            groups.setdefault(key, []).append(r)
    if not groups:
        return
    exact_at = 70.0  # where "exact" (> 110 dB) rows are drawn
    dpi = 100
    fig, axes = plt.subplots(len(groups), 1, figsize=(11, 4.6 * len(groups)), squeeze=False,
                             dpi=dpi)
    for ax, (key, rows) in zip(axes[:, 0], groups.items()):
        points = []
        for r in rows:
            x = min(r["psnr_zone"], exact_at)
            ips = r["images_per_s"]
            color = "tab:green" if r["psnr_zone"] >= 25 else "tab:red"
            ax.errorbar([x], [ips["median"]], yerr=[[ips["median"] - ips["min"]],
                                                     [ips["max"] - ips["median"]]],
                        fmt="o", color=color, capsize=3, ms=5)
            points.append((x, ips["median"],
                           f"{r['name']} (aa={r['antialias']}) {ips['median']:,.0f}/s"))
        ax.set_yscale("log")
        low = min(r["images_per_s"]["min"] for r in rows)
        high = max(r["images_per_s"]["max"] for r in rows)
        ax.set_ylim(low / 1.5, high * 2.0)
        ax.set_xlim(0, exact_at + 50)
        ticks = [0, 10, 20, 30, 40, 50, 60, exact_at]
        ax.set_xticks(ticks, [str(t) for t in ticks[:-1]] + ["exact"])
        # Labels of points at about the same quality are stacked at least one
        # text line apart (display coordinates), each with a leader to its point.
        fig.canvas.draw()
        placed = []  # (left, right, y) of labels already set, display pixels
        line = 9.5 * dpi / 72  # one 6.5 pt text line and some space, in pixels
        char = 3.3 * dpi / 72  # about the width of one 6.5 pt character
        for x, y, label in sorted(points, key=lambda p: -p[1]):
            px, py = ax.transData.transform((x, y))
            left, right = px + 8, px + 8 + char * len(label)
            target = py
            for _ in range(len(placed)):  # push down below every label it would touch
                moved = False
                for a, b, qy in placed:
                    if left < b and a < right and abs(target - qy) < line:
                        target, moved = qy - line, True
                if not moved:
                    break
            placed.append((left, right, target))
            ax.annotate(label, (x, y), xytext=(8, (target - py) * 72 / dpi),
                        textcoords="offset points", fontsize=6.5, va="center",
                        arrowprops=dict(arrowstyle="-", lw=0.4, color="grey"))
        ax.axvline(25, color="grey", lw=0.6, ls=":")
        ax.set_xlabel("zone-plate PSNR vs the exact antialiased resize (dB; red < 25 dB: "
                      "aliased)", fontsize=8)
        ax.set_ylabel("images/s (median, whiskers min-max)", fontsize=8)
        ax.set_title(key, fontsize=9)
        ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(os.path.join(output_dir, "throughput.png"), dpi=dpi, bbox_inches="tight")
    plt.close(fig)


def write(report, output_dir):
    report_files.write(output_dir, "throughput", report, markdown, plot)


def settings(quick):
    if quick:  # the main job's settings; --trials and --source_sizes, when given, still apply
        sizes = ([parse_size(s) for s in FLAGS.source_sizes] if FLAGS["source_sizes"].present
                 else [(512, 512), (64, 64)])
        return dict(source_sizes=sizes, methods=["bilinear"], batch_size=32,
                    trials=FLAGS.trials if FLAGS["trials"].present else 3)
    return dict(source_sizes=[parse_size(s) for s in FLAGS.source_sizes],
                methods=FLAGS.methods, batch_size=FLAGS.batch_size, trials=FLAGS.trials)


def main(argv):
    del argv
    unknown = set(FLAGS.inputs) - {"array", "jpeg"}
    if unknown or not FLAGS.inputs:
        raise app.UsageError(f"--inputs takes array and/or jpeg, got {FLAGS.inputs}")
    s = settings(FLAGS.quick)
    report = run(s["source_sizes"], parse_size(FLAGS.target_size), s["methods"],
                 s["batch_size"], max(2, s["trials"]), FLAGS.device, FLAGS.quick,
                 FLAGS.output_dir, FLAGS.inputs, FLAGS.rows, FLAGS.pipeline_images)
    print(markdown(report))


if __name__ == "__main__":
    app.run(main)
