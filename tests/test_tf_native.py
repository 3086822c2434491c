"""The taps as a TensorFlow CPU op (`_tf/native.py`, `_tf/resample_taps.c`):
the same pixels as the XLA passes, TensorFlow's kernels and the dense matmul;
gradients; bad taps refused; never inside an exported SavedModel; the XLA
programs when the op cannot be built."""

import functools
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf

import keras_resize_layers as krl
from keras_resize_layers._core import backend as backend_lib
from keras_resize_layers._core import taps as taps_lib
from keras_resize_layers._tf import native
from keras_resize_layers._tf import cpu_resample as tf_taps

BK = backend_lib.get("tensorflow")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _graph_ops(fn, *specs):
    return {op.type for op in tf.function(fn).get_concrete_function(*specs).graph.get_operations()}


def test_the_op_is_built_here():
    assert native._library() is not None and native.usable(tf.uint8)
    assert native.usable(tf.float32) and not native.usable(tf.float16)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("shape,size,method", [
    ((300, 257), (224, 100), "bilinear"),  # shrink, odd widths (vector tails)
    ((37, 45), (224, 90), "bicubic"),  # enlarge
    ((120, 31), (40, 200), "lanczos3"),  # one axis each way
    ((64, 64), (64, 64), "area"),  # identity
])
def test_shared_taps_equal_the_xla_passes_and_tf_image(dtype, channels, shape, size, method):
    rng = np.random.default_rng(channels)
    images = (rng.random((3, *shape, channels)) * 255).astype(dtype)
    plan = taps_lib.plan(*shape, size, method, True, "stretch", 1.0)
    args = [tf.constant(plan[k]) for k in ("iy", "wy", "ix", "wx")]
    got = native.run(tf.constant(images), *args).numpy()
    xla = tf_taps._passes_program(plan["taps"], tf.as_dtype(dtype))(tf.constant(images), *args)
    np.testing.assert_allclose(got, xla.numpy(), atol=1e-4, rtol=1e-6)
    if method != "area":  # TF's ResizeArea drifts (BUILD_NOTES)
        ref = tf.image.resize(images, size, method=method, antialias=True).numpy()
        np.testing.assert_allclose(got, ref, atol=1e-3, rtol=0)


@pytest.mark.parametrize("method", ["bilinear", "area", "lanczos3", "nearest"])
def test_per_image_taps_equal_each_image_alone(method):
    """A ragged batch and crop boxes: one op with per-image taps (any K: a 30x
    shrink needs ~60) equal to resizing each image alone with the matmul."""
    rng = np.random.default_rng(3)
    sizes = [(300, 200), (64, 500), (1800, 1500), (17, 9)]
    images = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in sizes]
    ragged = tf.ragged.stack([tf.constant(i) for i in images])
    assert "KrlResampleTaps" in _graph_ops(
        lambda r: krl.resize(r, (60, 50), method=method),
        tf.RaggedTensorSpec([None, None, None, 3], tf.uint8, 1, tf.int64))
    got = krl.resize(ragged, (60, 50), method=method).numpy()
    for image, out in zip(images, got):
        ref = krl.resize(image, (60, 50), method=method, implementation="matmul").numpy()
        np.testing.assert_allclose(out, ref, atol=5e-4, rtol=0)
    boxes = np.array([[10, 20, 100, 150], [0, 0, 64, 500], [5, 900, 1700, 600], [0, 0, 17, 9]])
    padded = np.zeros((4, 1800, 1500, 3), np.uint8)
    for i, image in enumerate(images):
        padded[i, :image.shape[0], :image.shape[1]] = image
    got = krl.resized_crop(padded, boxes, (33, 47), method=method).numpy()
    for i, (y, x, h, w) in enumerate(boxes):
        ref = krl.resize(padded[i, y:y + h, x:x + w], (33, 47), method=method,
                         implementation="matmul").numpy()
        np.testing.assert_allclose(got[i], ref, atol=5e-4, rtol=0)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("ky", [2, 8, 20])  # GCC vectorised the scalar sums for K > 14
@pytest.mark.parametrize("width", [226, 250, 21])
def test_values_do_not_depend_on_where_the_rows_end(dtype, ky, width):
    """An image padded into a wider batch (zero columns on the right) gives
    bit-identical values: the last values of a row, past the vector loop's
    end, are summed with the same FMAs as the rest (they were a multiply and
    an add: 1-2 ulp apart, and the tf.data service equality test failed)."""
    rng = np.random.default_rng(ky)
    x = (rng.random((2, 40, width, 3)) * 255).astype(dtype)
    rows = np.clip(np.arange(20)[:, None] * 2 + np.arange(ky), 0, 39).astype(np.int32)[None]
    wy = rng.random((1, 20, ky)).astype(np.float32)
    cols = np.clip(np.arange(56)[:, None] * width // 56 + np.arange(9), 0, width - 1)
    ix, wx = cols.astype(np.int32)[None], rng.random((1, 56, 9)).astype(np.float32)
    alone = native.run(tf.constant(x), rows, wy, ix, wx).numpy()
    for pad in (1, 7, 13, 40):
        wide = np.zeros((2, 40, width + pad, 3), dtype)
        wide[:, :, :width] = x
        np.testing.assert_array_equal(native.run(tf.constant(wide), rows, wy, ix, wx).numpy(),
                                      alone)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("shape,size", [
    ((256, 256), (224, 224)),  # rows of 672 floats: every store a whole aligned vector
    ((300, 257), (37, 101)),  # unaligned rows and a last task of 5 rows
])
def test_streamed_outputs_hold_the_same_values(dtype, channels, shape, size):
    """Outputs over the streaming threshold are stored past the caches; the values are
    those of ordinary stores, bit for bit (threshold 0: always; -1: never)."""
    rng = np.random.default_rng(channels)
    images = tf.constant((rng.random((3, *shape, channels)) * 255).astype(dtype))
    plan = taps_lib.plan(*shape, size, "bilinear", True, "stretch", 1.0)
    args = [tf.constant(plan[k]) for k in ("iy", "wy", "ix", "wx")]
    library = native.pool()
    default = library.krl_stream_threshold()
    try:
        outputs = {}
        for threshold in (0, -1):
            library.krl_set_stream_threshold(threshold)
            assert library.krl_stream_threshold() == threshold
            outputs[threshold] = [native.run(images, *args, out_dtype=out).numpy()
                                  for out in (tf.float32, tf.uint8)]
    finally:
        library.krl_set_stream_threshold(default)
    for streamed, stored in zip(outputs[0], outputs[-1]):
        np.testing.assert_array_equal(streamed, stored)


def test_ops_in_tf_data_are_buffered_and_stream_past_l2_with_the_same_values():
    """A tf.data function's op is marked `buffered` (its output waits in a buffer), so
    float32 outputs over one core's L2 are streamed there; outside tf.data the op is
    not marked. The values equal the eager op's, bit for bit."""
    library = native.pool()
    threshold = library.krl_stream_threshold()
    buffered = library.krl_buffered_stream_threshold()
    assert buffered == -1 if threshold < 0 else 0 <= buffered <= threshold
    rng = np.random.default_rng(5)
    images = (rng.random((4, 256, 256, 3)) * 255).astype(np.uint8)
    plan = taps_lib.plan(256, 256, (224, 224), "bilinear", True, "stretch", 1.0)
    args = [tf.constant(plan[k]) for k in ("iy", "wy", "ix", "wx")]
    marks = []

    def resize(batch):
        out = native.run(batch, *args)
        marks.append(out.op.get_attr("buffered"))
        return out

    try:
        library.krl_set_stream_threshold(1 << 40)  # only `buffered` outputs can stream
        assert library.krl_buffered_stream_threshold() in (1 << 40, buffered)
        in_data = next(iter(tf.data.Dataset.from_tensors(images).map(resize))).numpy()
        in_function = tf.function(resize)(tf.constant(images)).numpy()
    finally:
        library.krl_set_stream_threshold(threshold)
    assert marks == [True, False]
    eager = native.run(tf.constant(images), *args).numpy()
    np.testing.assert_array_equal(_bits(in_data), _bits(eager))
    np.testing.assert_array_equal(_bits(in_function), _bits(eager))


def _bits(array):
    return array.view(np.uint32) if array.dtype == np.float32 else array


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("shape,size,method", [
    ((1024, 1024), (224, 224), "bilinear"),  # 11 taps, 4.6 rows apart: groups of 4 rows
    ((517, 389), (100, 37), "lanczos3"),  # negative weights; rows past the last slice
    ((64, 48), (224, 300), "bicubic"),  # enlarging: the rows of a group mostly shared
    ((2000, 7), (70, 5), "bilinear"),  # 58 taps: more new rows ahead than are fetched
    ((300, 257), (37, 101), "nearest"),  # one tap: nothing to group
])
@pytest.mark.parametrize("per_image", [False, True])
def test_grouped_rows_equal_rows_summed_one_by_one(channels, shape, size, method, per_image,
                                                   vector_build=True):
    """The four ways the op sums rows (`krl_set_row_mode`: uint8 rows a group of output
    rows at a time, each input row widened once (`rows_grouped`), or one output row at a
    time (`rows_pass`); with or without look-ahead prefetches) give the same values bit
    for bit: float32 (zeros' signs included) and uint8 outputs, shared and per-image taps,
    trimmed zero-weight taps. Taps that are not consecutive rows take `rows_pass`; so
    does every row of a build without AVX2 (`vector_build=False`)."""
    rng = np.random.default_rng(channels)
    images = rng.integers(0, 256, (3, *shape, channels)).astype(np.uint8)
    images[:, : shape[0] // 3] = 0  # zero products: -0.0 sums where weights are negative
    plan = taps_lib.plan(*shape, size, method, True, "stretch", 1.0)
    args = [plan[k] for k in ("iy", "wy", "ix", "wx")]
    if per_image:  # each image its own rows; the last with shuffled (not consecutive) taps
        args = [np.repeat(a, 3, axis=0) for a in args]
        args[0][1] = np.clip(args[0][1] + 1, 0, shape[0] - 1)
        args[1][1] = -args[1][1]  # every product over the zero rows -0.0: sums of -0.0
        args[0][2] = args[0][2][:, ::-1]
        args[1][2] = args[1][2][:, ::-1]
    args = [tf.constant(a) for a in args]
    library = native.pool()
    outputs = {}
    try:
        for mode in (1, 3, 0, 2):
            library.krl_set_row_mode(mode)
            before = library.krl_grouped_rows()
            outputs[mode] = [native.run(tf.constant(images), *args, out_dtype=out).numpy()
                             for out in (tf.float32, tf.uint8)]
            grouped = library.krl_grouped_rows() - before
            in_groups = mode & 1 and vector_build and method != "nearest"
            assert grouped > 0 if in_groups else grouped == 0, (mode, grouped)
    finally:
        library.krl_set_row_mode(-1)
    for mode in (1, 2, 3):
        for got, one_by_one in zip(outputs[mode], outputs[0]):
            np.testing.assert_array_equal(_bits(got), _bits(one_by_one), err_msg=f"mode {mode}")


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_row_mode_is_measured_per_class_of_plan_then_kept(dtype):
    """By default the way of summing rows is measured per class of plan: while a class is
    new its tasks take the modes in turn (uint8: all four, float32: with and without
    look-ahead), then the fastest is kept; the values never change. A plan with other
    sizes in the same class (row bytes within a factor of 2, taps within sqrt 2, rows
    starting in as many L1 sets) takes the kept mode; another class is measured anew."""
    library = native.pool()
    library.krl_set_row_mode(-1)
    library.krl_reset_row_modes()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (4, 300, 320, 3)).astype(dtype)

    def args(out_rows, images=images):
        plan = taps_lib.plan(*images.shape[1:3], (out_rows, 64), "bilinear", True, "stretch",
                             1.0)
        return [tf.constant(plan[k]) for k in ("iy", "wy", "ix", "wx")]

    first = args(60)  # 11 taps
    mode_of = functools.partial(library.krl_row_mode_of, int(dtype == np.float32))
    try:
        library.krl_set_row_mode(0)
        want = _bits(native.run(tf.constant(images), *first).numpy())
        library.krl_set_row_mode(-1)
        assert mode_of(960, first[0].shape[-1]) == -2  # forced calls measure nothing
        grouped = library.krl_grouped_rows()
        calls = 0
        while mode_of(960, first[0].shape[-1]) < 0:
            np.testing.assert_array_equal(_bits(native.run(tf.constant(images), *first).numpy()),
                                          want)
            calls += 1
            assert calls < 40, "no mode chosen"
        # 240 rows a call, one mode in 2 or 4 tasks, 256 rows each, the first call not counted
        assert calls >= (6 if dtype == np.uint8 else 4), calls
        assert (library.krl_grouped_rows() > grouped) == (dtype == np.uint8)
        chosen = mode_of(960, first[0].shape[-1])
        assert chosen in ((0, 1, 2, 3) if dtype == np.uint8 else (0, 2))
        assert library.krl_row_modes_chosen() == 1
        for _ in range(3):  # kept: no more measuring
            np.testing.assert_array_equal(_bits(native.run(tf.constant(images), *first).numpy()),
                                          want)
            assert mode_of(960, first[0].shape[-1]) == chosen
        # 300 x 328 rows to 62: the same class (984 bytes, 10 taps, 8 row starts in a page)
        wider = np.concatenate([images, images[:, :, :8]], axis=2)
        same = args(62, wider)
        np.testing.assert_array_equal(
            _bits(native.run(tf.constant(wider), *same).numpy()),
            _bits(_forced(library, 0, lambda: native.run(tf.constant(wider), *same).numpy())))
        assert library.krl_row_modes_chosen() == 1 and mode_of(984, same[0].shape[-1]) == chosen
        other = args(20)  # 31 taps: another class, measured on its own
        native.run(tf.constant(images), *other)
        assert mode_of(960, other[0].shape[-1]) == -1
    finally:
        library.krl_set_row_mode(-1)


def _forced(library, mode, fn):
    library.krl_set_row_mode(mode)
    try:
        return fn()
    finally:
        library.krl_set_row_mode(-1)


@pytest.mark.parametrize("method", ["bilinear", "area", "lanczos3"])
def test_zero_weight_taps_change_nothing(method):
    """Plans pad each output to the largest K with zero weights; uint8 inputs skip them
    (the sums are the same), so uint8 images give the float32 images' values bit for bit,
    and float inputs keep them: an inf read only by a zero weight is NaN, as in XLA."""
    plan = taps_lib.plan(256, 256, (224, 224), method, True, "stretch", 1.0)
    assert (plan["wx"][0][:, -1] == 0).any()  # the case in point
    args = [tf.constant(plan[k]) for k in ("iy", "wy", "ix", "wx")]
    images = np.random.default_rng(5).integers(0, 256, (2, 256, 256, 3)).astype(np.uint8)
    np.testing.assert_array_equal(native.run(tf.constant(images), *args).numpy(),
                                  native.run(tf.constant(images.astype(np.float32)),
                                             *args).numpy())
    column = int(plan["ix"][0][np.argmax(plan["wx"][0][:, -1] == 0), -1])
    floats = images.astype(np.float32)
    floats[:, :, column] = np.inf
    got = native.run(tf.constant(floats), *args).numpy()
    xla = tf_taps._passes_program(plan["taps"], tf.float32)(tf.constant(floats), *args).numpy()
    assert np.isnan(xla).any()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(xla))


def test_the_streaming_threshold_is_half_the_last_level_cache():
    """Read from Linux's cache description (glibc's sysconf gave 320 MiB for a 32 MiB L3)."""
    folder = "/sys/devices/system/cpu/cpu0/cache"
    levels = {}
    for entry in os.listdir(folder) if os.path.isdir(folder) else []:
        try:
            with open(os.path.join(folder, entry, "level")) as f, \
                    open(os.path.join(folder, entry, "size")) as g:
                level, size = int(f.read()), g.read().strip()
        except (OSError, ValueError):
            continue
        scale = {"K": 1024, "M": 1 << 20, "G": 1 << 30}.get(size[-1:], 1)
        levels[level] = int(size.rstrip("KMG")) * scale
    if not levels:
        pytest.skip("no /sys cache description here")
    assert native.pool().krl_stream_threshold() == levels[max(levels)] // 2


def test_uint8_output_rounds_half_to_even_and_saturates():
    """Hand-computed sums: ties (weights 0.5, 0.5) round to even, as tf.round does;
    sums beyond 0..255 saturate. 3 rows of 42 pixels: the vector loops and their tail."""
    row = np.array([1, 2, 3, 4, 200, 100, 0], np.uint8)
    taps = [((0, 1), (0.5, 0.5)), ((1, 2), (0.5, 0.5)), ((2, 3), (0.5, 0.5)),
            ((4, 5), (1.0, 1.0)), ((4, 6), (-1.0, 0.0)), ((3, 4), (0.25, 0.75))]
    sums, expected = [1.5, 2.5, 3.5, 300.0, -200.0, 151.0], [2, 2, 4, 255, 0, 151]
    images = tf.constant(np.tile(row, (1, 3, 1)).reshape(1, 3, 7, 1))
    iy = tf.constant(np.arange(3, dtype=np.int32).reshape(1, 3, 1))
    wy = tf.ones((1, 3, 1))
    ix = tf.constant(np.array([[t[0] for t in taps] * 7], np.int32))
    wx = tf.constant(np.array([[t[1] for t in taps] * 7], np.float32))
    floats = native.run(images, iy, wy, ix, wx).numpy()
    out = native.run(images, iy, wy, ix, wx, out_dtype=tf.uint8)
    assert out.dtype == tf.uint8 and out.shape == (1, 3, 42, 1)
    np.testing.assert_array_equal(floats[0, :, :, 0], np.tile(sums * 7, (3, 1)))
    np.testing.assert_array_equal(out.numpy()[0, :, :, 0], np.tile(expected * 7, (3, 1)))


@pytest.mark.parametrize("policy", ["stretch", "crop"])
@pytest.mark.parametrize("method", ["bilinear", "lanczos3"])
def test_uint8_resize_is_written_by_the_op_with_the_casts_values(method, policy, photos):
    """uint8 in and out on the CPU: the op writes uint8 (no float32 batch, no Round op
    in the graph), equal to the float32 resize rounded and saturated (lanczos3
    overshoots both ways at the photo's edges)."""
    image = tf.constant(photos["astronaut"][None])
    graph = _graph_ops(lambda x: krl.resize(x, (224, 160), method=method, policy=policy,
                                            dtype="uint8"), image)
    assert "KrlResampleTaps" in graph and "Round" not in graph
    out = tf.function(lambda x: krl.resize(x, (224, 160), method=method, policy=policy,
                                           dtype="uint8"))(image).numpy()
    floats = krl.resize(image, (224, 160), method=method, policy=policy).numpy()
    np.testing.assert_array_equal(out, np.clip(np.round(floats), 0, 255).astype(np.uint8))


def test_gradient_equals_the_matmul_gradient():
    images = tf.constant(np.random.default_rng(4).random((2, 50, 70, 3)), tf.float32)
    weights = tf.constant(np.random.default_rng(5).random((2, 20, 30, 3)), tf.float32)
    grads = []
    for implementation in ("auto", "matmul"):
        with tf.GradientTape() as tape:
            tape.watch(images)
            loss = tf.reduce_sum(krl.resize(images, (20, 30), implementation=implementation)
                                 * weights)
        grads.append(tape.gradient(loss, images).numpy())
    assert "KrlResampleTaps" in _graph_ops(lambda x: krl.resize(x, (20, 30)),
                                           tf.TensorSpec([None, 50, 70, 3], tf.float32))
    np.testing.assert_allclose(grads[0], grads[1], atol=1e-5, rtol=1e-5)


def test_taps_outside_the_image_or_of_the_wrong_shape_are_refused():
    images = tf.zeros((2, 10, 12, 3), tf.uint8)
    ok_i, ok_w = tf.zeros((1, 4, 2), tf.int32), tf.zeros((1, 4, 2), tf.float32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="index outside the image"):
        native.run(images, ok_i + 10, ok_w, ok_i, ok_w)
    with pytest.raises(tf.errors.InvalidArgumentError, match="index outside the image"):
        native.run(images, ok_i, ok_w, ok_i - 1, ok_w)
    with pytest.raises(tf.errors.InvalidArgumentError, match="for a batch of 2"):
        native.run(images, tf.zeros((3, 4, 2), tf.int32), tf.zeros((3, 4, 2)), ok_i, ok_w)
    with pytest.raises(tf.errors.InvalidArgumentError, match="differ in shape"):
        native.run(images, ok_i, tf.zeros((1, 4, 3)), ok_i, ok_w)
    assert native.run(tf.zeros((0, 10, 12, 3), tf.uint8), ok_i, ok_w, ok_i, ok_w).shape == (
        0, 4, 4, 3)


def test_tf_data_and_the_layer_use_the_op_and_agree_bit_for_bit(photos):
    images = np.stack([photos["astronaut"]] * 4)
    layer = krl.layers.Resize(224, 224)
    ds = tf.data.Dataset.from_tensor_slices(images).batch(4).map(krl.data.resize_fn(224, 224))
    np.testing.assert_array_equal(next(iter(ds)).numpy(), np.asarray(layer(images)))
    np.testing.assert_array_equal(np.asarray(layer(images[:1]))[0],
                                  np.asarray(krl.resize(images[0], (224, 224))))


@pytest.mark.slow(9)
def test_an_exported_model_holds_no_library_op(tmp_path):
    """`model.export` traces in a save context: the SavedModel has TensorFlow's
    ops only and loads in a process that never imports the library."""
    import keras

    model = keras.Sequential([keras.Input((None, None, 3), dtype="uint8"),
                              krl.layers.Resize(64, 64)])
    model(np.zeros((1, 128, 96, 3), np.uint8))
    path = str(tmp_path / "exported")
    model.export(path, verbose=False)
    module = tf.Module()
    module.f = tf.function(lambda x: krl.resize(x, (32, 32)))
    module.f(tf.zeros((1, 64, 64, 3), tf.uint8))  # traced before saving: saving traces again
    assert "KrlResampleTaps" in {op.type for op in module.f.get_concrete_function(
        tf.TensorSpec([1, 64, 64, 3], tf.uint8)).graph.get_operations()}
    tf.saved_model.save(module, str(tmp_path / "module"))
    for saved in (path, str(tmp_path / "module")):
        with open(os.path.join(saved, "saved_model.pb"), "rb") as f:
            assert b"KrlResampleTaps" not in f.read()
    image = np.random.default_rng(6).integers(0, 256, (1, 128, 96, 3), dtype=np.uint8)
    np.save(tmp_path / "image.npy", image)
    code = textwrap.dedent(f"""
        import sys, numpy as np, tensorflow as tf
        loaded = tf.saved_model.load({path!r})
        out = loaded.serve(tf.constant(np.load({str(tmp_path / 'image.npy')!r})))
        np.save({str(tmp_path / 'out.npy')!r}, out.numpy())
        assert not any(m.startswith("keras_resize_layers") for m in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": ""}, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), np.asarray(model(image)),
                               atol=5e-4, rtol=0)


@pytest.mark.slow(8)
@pytest.mark.parametrize("env", [{"KRL_NATIVE": "0"}, {"CC": "/bin/false"}])
def test_without_the_op_the_xla_programs_give_the_same_pixels(tmp_path, env):
    """Disabled, or a compiler that fails (a fresh cache: nothing built yet): a
    warning for the failure, the XLA programs, the same pixels to 1e-4."""
    image = np.random.default_rng(7).integers(0, 256, (2, 300, 200, 3), dtype=np.uint8)
    np.save(tmp_path / "image.npy", image)
    code = textwrap.dedent(f"""
        import os, warnings, numpy as np, tensorflow as tf
        import keras_resize_layers as krl
        from keras_resize_layers._tf import native
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = krl.resize(np.load({str(tmp_path / 'image.npy')!r}), (64, 48))
        assert not native.usable(tf.uint8)
        cache = {str(tmp_path / "cache")!r}
        assert not os.path.isdir(cache) or not [f for f in os.listdir(cache) if f.endswith(".so")]
        assert len(caught) == {int('CC' in env)}, [str(w.message) for w in caught]
        if caught:
            assert "building the CPU resize op failed" in str(caught[0].message)
        np.save({str(tmp_path / 'out.npy')!r}, out.numpy())
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env, "PYTHONPATH": ROOT,
                               "KRL_NATIVE_CACHE": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"),
                               krl.resize(image, (64, 48)).numpy(), atol=1e-4, rtol=0)


@pytest.mark.slow(9)
@pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86 instruction sets")
@pytest.mark.parametrize("march", ["x86-64", "x86-64-v3"])
def test_builds_without_avx512_or_avx_give_the_xla_pixels(tmp_path, march):
    """The op's plain-C and AVX2 loops (what CPUs without AVX-512 run), built
    for those targets: the passes' pixels for 1-4 channels, both dtypes, and
    the same values for an image padded wider (the in-process test
    `test_values_do_not_depend_on_where_the_rows_end`, run in that build)."""
    code = textwrap.dedent("""
        import os, sys
        import numpy as np, tensorflow as tf
        from keras_resize_layers._core import backend, taps
        from keras_resize_layers._tf import native
        worst = 0.0
        for channels in (1, 2, 3, 4):
            for dtype in (np.uint8, np.float32):
                for shape, size in (((300, 257), (224, 101)), ((37, 45), (224, 90))):
                    x = (np.random.default_rng(channels).random((2, *shape, channels))
                         * 255).astype(dtype)
                    plan = taps.plan(*shape, size, "lanczos3", True, "stretch", 1.0)
                    args = [tf.constant(plan[k]) for k in ("iy", "wy", "ix", "wx")]
                    got = native.run(tf.constant(x), *args).numpy()
                    ref = taps.passes(backend.get("tensorflow"), tf.constant(x), *args).numpy()
                    worst = max(worst, float(np.abs(got - ref).max()))
        assert worst < 1e-4, worst
        # the same values wherever the input rows end (vector tails), in this build
        sys.path.insert(0, os.path.join(os.environ["PYTHONPATH"], "tests"))
        from test_tf_native import test_values_do_not_depend_on_where_the_rows_end as same
        for dtype in (np.uint8, np.float32):
            for ky in (2, 8, 20):
                for width in (226, 250, 21):
                    same(dtype, ky, width)
        from test_tf_native import test_uint8_output_rounds_half_to_even_and_saturates
        test_uint8_output_rounds_half_to_even_and_saturates()  # this build's uint8 loops
        from test_tf_native import test_grouped_rows_equal_rows_summed_one_by_one as grouped
        for channels in (1, 3):
            grouped(channels, (517, 389), (100, 37), "lanczos3", True,
                    vector_build=os.environ["KRL_NATIVE_MARCH"] != "x86-64")
        from test_tf_native import test_streamed_outputs_hold_the_same_values as streamed
        for channels in (1, 3):
            for shape, size in (((256, 256), (224, 224)), ((300, 257), (37, 101))):
                streamed(np.uint8, channels, shape, size)  # this build's stores
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "KRL_NATIVE_MARCH": march, "PYTHONPATH": ROOT,
                               "KRL_NATIVE_CACHE": str(tmp_path)})
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-2000:]
    assert [f for f in os.listdir(tmp_path) if f.endswith(".so")]


def test_the_cache_is_a_private_folder_of_this_user(tmp_path, monkeypatch):
    """A folder others may write to is never loaded from (a planted library would
    run as this process): the cache falls back to a private temp folder."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    assert native._private_dir(str(shared)) is None
    private = native._private_dir(str(tmp_path / "mine"))
    assert private and os.stat(private).st_mode & 0o777 == 0o700
    monkeypatch.setenv("KRL_NATIVE_CACHE", str(shared))
    monkeypatch.setattr(native.tempfile, "gettempdir", lambda: str(tmp_path))
    assert native._cache_dir() == str(tmp_path / f"keras_resize_layers-{os.getuid()}")


# 0 (every allowed core) is 2 on a 2-core machine: an explicit 2 only where it differs
@pytest.mark.slow(8)
@pytest.mark.parametrize("intra_op", [1, 0] + ([2] if len(os.sched_getaffinity(0)) > 2 else []))
def test_the_op_shares_one_pool_within_tensorflows_thread_budget(intra_op):
    """32 calls from tf.data's parallel maps start at most `intra_op - 1` threads in all
    (0: every allowed core), once, named `krl-resample`; before, each call started its own."""
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "tests", "native_threads_probe.py"), str(intra_op)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    budget = min(intra_op or out["cores"], out["cores"])
    assert out["batches"] == 32
    assert out["threads_started"] == out["pool_size"] == out["named"] == budget - 1, out


def test_the_op_has_a_real_shape_function():
    """Shapes known while tracing, from the op itself (no ensure_shape after it)."""
    fn = tf.function(lambda x, iy, wy, ix, wx: native.run(x, iy, wy, ix, wx))
    out = fn.get_concrete_function(
        tf.TensorSpec([None, 50, 60, 3], tf.uint8), tf.TensorSpec([1, 7, 2], tf.int32),
        tf.TensorSpec([1, 7, 2], tf.float32), tf.TensorSpec([None, 9, 4], tf.int32),
        tf.TensorSpec([None, 9, 4], tf.float32)).structured_outputs
    assert out.shape.as_list() == [None, 7, 9, 3]
    with pytest.raises(ValueError, match="rank"):
        fn.get_concrete_function(
            tf.TensorSpec([50, 60, 3], tf.uint8), tf.TensorSpec([1, 7, 2], tf.int32),
            tf.TensorSpec([1, 7, 2], tf.float32), tf.TensorSpec([1, 9, 4], tf.int32),
            tf.TensorSpec([1, 9, 4], tf.float32))
