"""The core `resize` function: parity with tf.image and Pillow, policies, dtypes, errors."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import keras_resize_layers as krl
from keras_resize_layers import resize
from keras_resize_layers import data
from keras_resize_layers._core import options
from conftest import exact_area_weights

TOL = 1e-3  # on the 0..255 scale
SIZES = [(16, 20), (80, 90), (37, 20)]  # shrink, enlarge, mixed from 37x53


@pytest.fixture(scope="session")  # session: tests run longest first, modules interleave
def noise():
    return np.random.default_rng(0).integers(0, 256, (2, 37, 53, 3)).astype("uint8")


@pytest.mark.parametrize("implementation", ["matmul", "tf", "taps"])
@pytest.mark.parametrize("antialias", [True, False])
@pytest.mark.parametrize("method", [m for m in krl.METHODS if m != "area"])
@pytest.mark.parametrize("size", SIZES)
def test_stretch_matches_tf_image(noise, method, antialias, implementation, size):
    ref = tf.image.resize(tf.cast(noise, tf.float32), size, method=method,
                          antialias=antialias).numpy()
    out = krl.resize(noise, size, method=method, antialias=antialias,
                     implementation=implementation).numpy()
    assert out.shape == (2,) + size + (3,)
    np.testing.assert_allclose(out, ref, atol=TOL, rtol=0)


@pytest.mark.parametrize("size", SIZES + [(300, 301)])
def test_area_matches_exact_reference_and_tf_when_shrinking(noise, size):
    out = krl.resize(noise, size, method="area").numpy()
    wy, wx = exact_area_weights(37, size[0]), exact_area_weights(53, size[1])
    ref = np.einsum("pw,nowc->nopc", wx,
                    np.einsum("oh,nhwc->nowc", wy, noise.astype(np.float64)))
    np.testing.assert_allclose(out, ref, atol=TOL, rtol=0)
    tf_ref = tf.image.resize(tf.cast(noise, tf.float32), size, method="area").numpy()
    # TF's ResizeArea accumulates float32 rounding when enlarging (see BUILD_NOTES).
    shrinking = size[0] <= 37 and size[1] <= 53
    np.testing.assert_allclose(out, tf_ref, atol=TOL if shrinking else 1e-2, rtol=0)


PILLOW_FILTERS = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC,
                  "lanczos3": Image.LANCZOS}
# Measured max |ours - Pillow| on the three photos (float 'F' mode), see BUILD_NOTES.
PILLOW_TOL = {"bilinear": 0.005, "bicubic": 0.005, "lanczos3": 0.005}


@pytest.mark.parametrize("method", sorted(PILLOW_FILTERS))
@pytest.mark.parametrize("size", [(224, 224), (97, 131)])
def test_antialiased_shrink_matches_pillow(photos, method, size):
    for name, photo in photos.items():
        ours = krl.resize(photo, size, method=method).numpy()
        ref = np.stack([
            np.asarray(Image.fromarray(photo[..., c].astype(np.float32), "F").resize(
                (size[1], size[0]), PILLOW_FILTERS[method]))
            for c in range(3)], axis=-1)
        err = np.abs(ours - ref).max()
        assert err <= PILLOW_TOL[method], (name, err)


def test_nearest_arange_hand_computed():
    x = np.arange(16, dtype="float32").reshape(4, 4, 1)
    out = krl.resize(x, (2, 2), method="nearest")[..., 0].numpy()
    np.testing.assert_array_equal(out, [[5, 7], [13, 15]])
    out = krl.resize(x[:2, :2], (4, 4), method="nearest")[..., 0].numpy()
    np.testing.assert_array_equal(out, [[0, 0, 1, 1], [0, 0, 1, 1],
                                        [4, 4, 5, 5], [4, 4, 5, 5]])


@pytest.mark.parametrize("implementation", ["matmul", "tf"])
def test_crop_policy_is_a_centre_slice(implementation):
    x = np.arange(32, dtype="float32").reshape(4, 8, 1)
    # Target aspect 1:1 on a 4x8 image -> the centre 4x4 box, columns 2..5.
    out = krl.resize(x, (4, 4), method="nearest", policy="crop",
                     implementation=implementation)[..., 0].numpy()
    np.testing.assert_array_equal(out, x[:, 2:6, 0])
    # crop_fraction=0.5 keeps the centre 2x2 of that box.
    out = krl.resize(x, (2, 2), method="nearest", policy="crop", crop_fraction=0.5,
                     implementation=implementation)[..., 0].numpy()
    np.testing.assert_array_equal(out, x[1:3, 3:5, 0])


@pytest.mark.parametrize("implementation", ["matmul", "tf"])
def test_pad_policy_letterboxes(implementation):
    x = np.arange(32, dtype="float32").reshape(4, 8, 1)
    out = krl.resize(x, (4, 4), method="nearest", policy="pad", fill_value=-1,
                     implementation=implementation)[..., 0].numpy()
    # The 4x8 image shrinks to 2x4, centred in rows 1..2; nearest with
    # half-pixel centres picks the odd rows and columns.
    expected = np.full((4, 4), -1.0)
    expected[1:3] = x[1::2, 1::2, 0]
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("policy", krl.POLICIES)
@pytest.mark.parametrize("method", ["bilinear", "bicubic", "nearest", "area", "lanczos3"])
def test_implementations_agree_on_photos(photos, method, policy):
    for photo in photos.values():
        kwargs = dict(method=method, policy=policy, crop_fraction=0.875, fill_value=3.0)
        a = krl.resize(photo, (96, 128), implementation="matmul", **kwargs).numpy()
        c = krl.resize(photo, (96, 128), implementation="taps", **kwargs).numpy()
        np.testing.assert_allclose(a, c, atol=TOL, rtol=0)
        b = krl.resize(photo, (96, 128), implementation="tf", **kwargs).numpy()
        # TF's ResizeArea drifts by float32 rounding (BUILD_NOTES); "auto" never
        # uses it, the integer-exact weights serve area everywhere.
        np.testing.assert_allclose(a, b, atol=1e-2 if method == "area" else TOL, rtol=0)


@pytest.mark.parametrize("policy", krl.POLICIES)
def test_batched_unbatched_and_ragged_agree(photos, policy):
    images = list(photos.values())
    ragged = data.to_ragged(images)
    kwargs = dict(method="bicubic", policy=policy, crop_fraction=0.875, fill_value=9)
    singles = [krl.resize(i, (64, 48), **kwargs).numpy() for i in images]
    batched = krl.resize(np.stack([images[0]] * 2), (64, 48), **kwargs).numpy()
    np.testing.assert_array_equal(batched[0], singles[0])
    np.testing.assert_array_equal(batched[1], singles[0])
    for implementation in ("tf", "matmul"):
        out = krl.resize(ragged, (64, 48), implementation=implementation, **kwargs)
        assert out.shape == (3, 64, 48, 3)
        np.testing.assert_allclose(out.numpy(), np.stack(singles), atol=TOL, rtol=0)


@pytest.mark.parametrize("in_dtype", ["uint8", "uint16", "float16", "bfloat16",
                                      "float32", "float64"])
@pytest.mark.parametrize("out_dtype", ["float32", "uint8", "float16"])
def test_dtypes(photos, in_dtype, out_dtype):
    photo = photos["chelsea"]
    x = tf.cast(photo, in_dtype)
    out = krl.resize(x, (50, 60), method="lanczos3", dtype=out_dtype)
    assert out.dtype.name == out_dtype
    ref = krl.resize(tf.cast(x, tf.float32), (50, 60), method="lanczos3").numpy()
    if out_dtype == "uint8":
        ref = np.clip(np.round(ref), 0, 255)
    tol = {"float16": 0.125, "uint8": 0.0, "float32": 1e-4}[out_dtype]
    np.testing.assert_allclose(out.numpy().astype(np.float64), ref, atol=tol, rtol=0)


def test_integer_output_rounds_and_saturates():
    step = np.zeros((1, 16, 1), "uint8")
    step[:, 8:] = 255
    out = krl.resize(step, (1, 7), method="lanczos3").numpy()
    assert out.min() < 0 and out.max() > 255  # the kernel overshoots in float
    as_uint8 = krl.resize(step, (1, 7), method="lanczos3", dtype="uint8").numpy()
    np.testing.assert_array_equal(as_uint8, np.clip(np.round(out), 0, 255))
    # uint8 in, uint16 out: clipped to the input's range, not to 65535.
    as_uint16 = krl.resize(step, (1, 7), method="lanczos3", dtype="uint16").numpy()
    assert as_uint16.max() == 255


def test_jit_compile_matches_eager(photos):
    photo = photos["coffee"]
    for policy in krl.POLICIES:
        fn = tf.function(lambda x, p=policy: krl.resize(x, (70, 90), policy=p,
                                                         fill_value=1.0),
                         jit_compile=True)
        eager = krl.resize(photo, (70, 90), policy=policy, fill_value=1.0)
        np.testing.assert_allclose(fn(photo).numpy(), eager.numpy(), atol=TOL, rtol=0)


def test_inside_tf_data_and_tf_function(photos):
    photo = photos["astronaut"]
    eager = krl.resize(photo, (40, 40), method="gaussian").numpy()
    ds = tf.data.Dataset.from_tensors(photo).map(
        lambda x: krl.resize(x, (40, 40), method="gaussian"))
    np.testing.assert_array_equal(next(iter(ds)).numpy(), eager)
    fn = tf.function(lambda x: krl.resize(x, (40, 40), method="gaussian"),
                     input_signature=[tf.TensorSpec([None, None, 3], tf.uint8)])
    # Size unknown while tracing: TF's kernels instead of the XLA taps.
    np.testing.assert_allclose(fn(photo).numpy(), eager, atol=TOL, rtol=0)


# ---- bad input -----------------------------------------------------------------

@pytest.mark.parametrize("shape, message", [
    ((4, 4), "rank 3"),
    ((1, 1, 4, 4, 3), "rank 5"),
    ((0, 4, 3), "zero-size height"),
    ((4, 0, 3), "zero-size width"),
    ((2, 4, 4, 0), "zero-size channels"),
])
def test_bad_shapes(shape, message):
    with pytest.raises(ValueError, match=message):
        krl.resize(np.zeros(shape, "uint8"), (2, 2))


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(size=(0, 4)), ValueError, "height.*Received: height=0"),
    (dict(size=(4, -3)), ValueError, "width.*Received: width=-3"),
    (dict(size=(4, 2.5)), TypeError, "width"),
    (dict(size=4), ValueError, "size"),
    (dict(crop_fraction=0.0), ValueError, r"crop_fraction.*\(0, 1\]"),
    (dict(crop_fraction=1.5), ValueError, "crop_fraction=1.5"),
    (dict(method="cubic"), ValueError, "Unknown `method`: 'cubic'"),
    (dict(policy="letterbox"), ValueError, "Unknown `policy`: 'letterbox'"),
    (dict(dtype="int8"), TypeError, "Unsupported dtype: int8"),
    (dict(antialias="yes"), TypeError, "antialias"),
    (dict(implementation="gpu"), ValueError, "implementation"),
])
def test_bad_options(kwargs, error, message):
    args = dict(size=(2, 2))
    args.update(kwargs)
    with pytest.raises(error, match=message):
        krl.resize(np.zeros((4, 4, 3), "uint8"), **args)


@pytest.mark.parametrize("value", [
    tf.constant([[["a"]]]), tf.zeros((2, 2, 1), tf.complex64), tf.zeros((2, 2, 1), tf.bool)])
def test_unsupported_image_dtypes(value):
    with pytest.raises(TypeError, match="Unsupported image dtype: (string|complex64|bool)"):
        krl.resize(value, (2, 2))


@pytest.mark.parametrize("method", ["bilinear", "area", "lanczos3", "nearest"])
def test_auto_picks_taps_for_static_sizes_and_tf_kernels_otherwise(photos, method):
    """Static sizes: XLA taps, bit-identical eager, traced, single or batched.
    Sizes unknown while tracing: TensorFlow's kernels, equal to float rounding."""
    photo = photos["astronaut"][:300, :260]
    kwargs = dict(method=method, policy="crop", crop_fraction=0.875)
    static = krl.resize(photo, (64, 48), **kwargs).numpy()
    np.testing.assert_array_equal(
        static, krl.resize(photo, (64, 48), implementation="taps", **kwargs).numpy())
    traced = tf.function(lambda x: krl.resize(x, (64, 48), **kwargs))
    np.testing.assert_array_equal(traced(np.stack([photo] * 3)).numpy()[1], static)
    dynamic = tf.function(lambda x: krl.resize(x, (64, 48), **kwargs), input_signature=[
        tf.TensorSpec([None, None, None, 3], tf.uint8)])
    other = "matmul" if method == "area" else "tf"
    np.testing.assert_allclose(
        dynamic(photo[None]).numpy()[0],
        krl.resize(photo, (64, 48), implementation=other, **kwargs).numpy(), atol=1e-4, rtol=0)
    np.testing.assert_allclose(dynamic(photo[None]).numpy()[0], static, atol=5e-4, rtol=0)
    # Forced taps on a size unknown while tracing: the plan is built in the graph.
    dynamic_taps = tf.function(
        lambda x: krl.resize(x, (64, 48), implementation="taps", **kwargs),
        input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)])
    np.testing.assert_allclose(dynamic_taps(photo[None]).numpy()[0], static, atol=5e-4, rtol=0)


def test_taps_fall_back_beyond_the_largest_bucket():
    from keras_resize_layers._core import taps

    image = np.random.default_rng(1).integers(0, 256, (1, 2100, 30, 1)).astype("uint8")
    assert 2 * 2100 // 20 + 1 > taps.MAX_TAPS
    out = krl.resize(image, (20, 20), implementation="taps").numpy()
    ref = tf.image.resize(tf.cast(image, tf.float32), (20, 20), antialias=True).numpy()
    np.testing.assert_allclose(out, ref, atol=TOL, rtol=0)


def test_zero_size_at_runtime_in_graph_and_tf_data():
    fn = tf.function(lambda x: krl.resize(x, (2, 2)),
                     input_signature=[tf.TensorSpec([None, None, 3], tf.uint8)])
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-zero height and width"):
        fn(tf.zeros((0, 5, 3), tf.uint8))
    ds = tf.data.Dataset.from_generator(
        lambda: iter([np.zeros((3, 3, 3), "uint8"), np.zeros((3, 0, 3), "uint8")]),
        output_signature=tf.TensorSpec([None, None, 3], tf.uint8),
    ).map(lambda x: krl.resize(x, (2, 2)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-zero height and width"):
        list(ds)


def test_ragged_bad_images():
    empty = tf.RaggedTensor.from_row_lengths(
        tf.RaggedTensor.from_row_lengths(tf.zeros((4, 3)), [2, 2]), [2, 0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty image"):
        krl.resize(empty, (2, 2))
    uneven = tf.RaggedTensor.from_row_lengths(
        tf.RaggedTensor.from_row_lengths(tf.zeros((5, 3)), [2, 3]), [2])
    with pytest.raises(tf.errors.InvalidArgumentError, match="same width"):
        krl.resize(uneven, (2, 2))


def test_supported_dtypes_are_documented():
    assert set(options.IMAGE_DTYPES) >= {"uint8", "uint16", "float16", "bfloat16",
                                         "float32", "float64"}


# ---- padded batches (image_sizes) and per-image taps ------------------------------

def _padded(images):
    h = max(i.shape[0] for i in images)
    w = max(i.shape[1] for i in images)
    out = np.zeros((len(images), h, w, images[0].shape[-1]), images[0].dtype)
    for k, image in enumerate(images):
        out[k, :image.shape[0], :image.shape[1]] = image
    return out, [image.shape[:2] for image in images]


@pytest.mark.parametrize("implementation", ["auto", "matmul", "tf"])
@pytest.mark.parametrize("method, policy", [
    ("bilinear", "stretch"), ("area", "stretch"), ("lanczos3", "crop"), ("bicubic", "pad"),
    ("nearest", "crop")])
def test_image_sizes_match_resizing_each_image(photos, implementation, method, policy):
    """A zero-padded batch with `image_sizes` equals each image resized alone
    (XLA taps planned per image in the graph vs the static plan: float rounding)."""
    images = [photos["coffee"], photos["chelsea"][:97, :301], photos["astronaut"][:40, :33]]
    padded, sizes = _padded(images)
    kwargs = dict(method=method, policy=policy, fill_value=3.0)
    expected = np.stack([krl.resize(i, (48, 64), **kwargs).numpy() for i in images])
    out = krl.resize(padded, (48, 64), image_sizes=sizes, implementation=implementation,
                     **kwargs)
    # TF's ResizeArea drifts ~6e-3 when enlarging (why `auto` avoids it for area).
    tol = 1e-2 if (implementation, method) == ("tf", "area") else 5e-4
    np.testing.assert_allclose(out.numpy(), expected, atol=tol, rtol=0)
    ragged = krl.resize(data.to_ragged(images), (48, 64), **kwargs)
    np.testing.assert_allclose(ragged.numpy(), expected, atol=5e-4, rtol=0)


def test_image_sizes_in_tf_data_padded_batch_and_under_xla(photos):
    images = [photos["coffee"], photos["chelsea"], photos["astronaut"][:200]]
    expected = np.stack([krl.resize(i, (32, 32)).numpy() for i in images])
    ds = tf.data.Dataset.from_generator(
        lambda: iter(images), output_signature=tf.TensorSpec([None, None, 3], tf.uint8))
    ds = ds.map(lambda x: (x, tf.shape(x)[:2])).padded_batch(3).map(
        lambda x, s: krl.resize(x, (32, 32), image_sizes=s))
    np.testing.assert_allclose(next(iter(ds)).numpy(), expected, atol=5e-4, rtol=0)
    padded, sizes = _padded(images)
    xla = tf.function(lambda x, s: krl.resize(x, (32, 32), image_sizes=s), jit_compile=True)
    np.testing.assert_allclose(xla(padded, np.array(sizes, "int32")).numpy(), expected,
                               atol=5e-4, rtol=0)


def test_per_image_taps_beyond_the_shared_taps_compute_their_own():
    """A ragged batch needing 31 taps (bucket 32 > SHARED_TAPS) on the TF CPU."""
    from keras_resize_layers._tf import cpu_resample as tf_taps

    rng = np.random.default_rng(4)
    images = [rng.integers(0, 256, (300, 40, 3), dtype=np.uint8),
              rng.integers(0, 256, (50, 60, 3), dtype=np.uint8)]
    assert tf_taps.SHARED_TAPS < 2 * 300 // 20 + 1 <= tf_taps.DYNAMIC_BUCKETS[-1]
    out = krl.resize(data.to_ragged(images), (20, 20)).numpy()
    for image, o in zip(images, out):
        ref = tf.image.resize(image.astype("float32"), (20, 20), antialias=True).numpy()
        np.testing.assert_allclose(o, ref, atol=TOL, rtol=0)


def test_per_image_taps_beyond_the_largest_bucket_use_tf_kernels():
    from keras_resize_layers._tf import cpu_resample as tf_taps

    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (2000, 30, 1), dtype=np.uint8),
              rng.integers(0, 256, (50, 60, 1), dtype=np.uint8)]
    assert 2 * 2000 // 20 + 1 > tf_taps.DYNAMIC_BUCKETS[-1]
    out = krl.resize(data.to_ragged(images), (20, 20)).numpy()
    for image, o in zip(images, out):
        ref = tf.image.resize(image.astype("float32"), (20, 20), antialias=True).numpy()
        np.testing.assert_allclose(o, ref, atol=TOL, rtol=0)


@pytest.mark.parametrize("sizes, error, message", [
    ([[4, 4, 1]], ValueError, r"shape \(N, 2\)"),
    ([[0, 4], [4, 4]], tf.errors.InvalidArgumentError, "within the padded batch"),
    ([[4, 9], [4, 4]], tf.errors.InvalidArgumentError, "within the padded batch"),
    ([[4, 4]], tf.errors.InvalidArgumentError, "one row per image"),
])
def test_bad_image_sizes(sizes, error, message):
    with pytest.raises(error, match=message):
        krl.resize(np.zeros((2, 6, 8, 3), "uint8"), (2, 2), image_sizes=sizes)


def test_image_sizes_need_a_dense_batch():
    with pytest.raises(ValueError, match="needs a batch"):
        krl.resize(np.zeros((6, 8, 3), "uint8"), (2, 2), image_sizes=[[6, 8]])
    with pytest.raises(ValueError, match="ragged batch carries"):
        krl.resize(data.to_ragged([np.zeros((6, 8, 3), "uint8")]), (2, 2),
                   image_sizes=[[6, 8]])


def test_int32_output_saturates_at_both_ends():
    high = np.full((4, 4, 1), 2**31 - 1, np.int32)
    low = np.full((4, 4, 1), -(2**31), np.int32)
    assert (resize(high, (2, 3), dtype="int32").numpy() == 2**31 - 1).all()
    assert (resize(low, (2, 3), dtype="int32").numpy() == -(2**31)).all()
    # Lanczos sums in float32 (24-bit mantissa): near 2**31, within one float32
    # step (128) of the top, and never wrapped to -2**31.
    lanczos = resize(high, (2, 3), method="lanczos3", dtype="int32").numpy()
    assert (lanczos >= 2**31 - 129).all()


@pytest.mark.parametrize("size, message", [
    (None, r"`size` must be a \(height, width\) pair"),
    (5, r"`size` must be a \(height, width\) pair"),
    ((2**31, 4), r"size`=\(2147483648, 4\).*at most 2147483647"),
    ((4, 0), r"size`=\(4, 0\).*positive")])
def test_bad_sizes_name_size(size, message):
    with pytest.raises(ValueError, match=message):
        resize(np.zeros((4, 4, 3), np.uint8), size)


@pytest.mark.parametrize("fill_value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_fill_value_is_refused_on_every_path(fill_value):
    from keras_resize_layers import data
    from keras_resize_layers.layers import Resize

    with pytest.raises(ValueError, match="`fill_value` must be finite"):
        Resize(4, 4, policy="pad", fill_value=fill_value)
    with pytest.raises(ValueError, match="`fill_value` must be finite"):
        data.resize_fn(4, 4, policy="pad", fill_value=fill_value)
    with pytest.raises(ValueError, match="`fill_value` must be finite"):
        resize(np.zeros((4, 6, 3)), (4, 4), policy="pad", fill_value=fill_value)


def test_ragged_batch_with_mixed_channel_counts_is_an_error():
    mixed = tf.ragged.constant([np.zeros((2, 3, 3)).tolist(), np.zeros((3, 2, 4)).tolist()])
    with pytest.raises(tf.errors.InvalidArgumentError, match="same number of channels"):
        resize(mixed, (4, 4))
    same = tf.ragged.constant([np.ones((2, 3, 3)).tolist(), np.ones((3, 2, 3)).tolist()])
    np.testing.assert_allclose(resize(same, (4, 4)).numpy(), 1.0, atol=1e-6)


def test_forced_taps_inside_xla_need_a_size_known_while_tracing():
    """Inside XLA the run-time-planned TF CPU taps are not available: forcing
    taps on a batch of unknown height and width is a clear error."""
    fn = tf.function(lambda x: krl.resize(x, (8, 8), implementation="taps"),
                     jit_compile=True,
                     input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)])
    with pytest.raises(ValueError, match='implementation="taps" on the tensorflow backend '
                       "needs a batch whose height and width are known while tracing"):
        fn.get_concrete_function()
