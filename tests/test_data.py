"""tf.data map functions: element structures and parity with the layers.

A map function sees images whose size is unknown while tracing, so it runs
TensorFlow's kernels where the layer on a fixed-size input runs the XLA taps
(planned per image in the graph for ragged and padded batches): all agree to
float rounding (PIXEL_TOL on the 0..255 scale)."""

import numpy as np
import pytest
import tensorflow as tf

from conftest import encode
import keras_resize_layers as krl
from keras_resize_layers import data
from keras_resize_layers.layers import Resize

OPTIONS = dict(method="bicubic", antialias=True, policy="crop", crop_fraction=0.875)
PIXEL_TOL = 5e-4


@pytest.mark.parametrize("method", ["bilinear", "bicubic", "area", "lanczos5", "nearest"])
@pytest.mark.parametrize("policy", ["stretch", "crop", "pad"])
def test_map_fn_matches_layer(photos, method, policy):
    layer = Resize(56, 72, method=method, policy=policy, fill_value=2.0)
    fn = data.resize_fn(56, 72, method=method, policy=policy, fill_value=2.0)
    images = list(photos.values())
    ds = tf.data.Dataset.from_generator(
        lambda: iter(images), output_signature=tf.TensorSpec([None, None, 3], tf.uint8))
    for image, out in zip(images, ds.map(fn)):
        np.testing.assert_allclose(out.numpy(), layer(image).numpy(), atol=PIXEL_TOL, rtol=0)
    # Ragged batches, in the pipeline and in the layer: beyond 16 taps (these
    # 4-9x shrinks) tf.data takes TF's kernels (few programs per iterator) and
    # the layer the taps; below (the 1/4-size photos, bilinear) both take the
    # taps, each compiled by XLA in its own context (FMA contraction may differ).
    small = [[i[::4, ::4] for i in images]] if method == "bilinear" else []
    for batch in [images] + small:
        ragged_ds = tf.data.Dataset.from_generator(
            lambda b=batch: iter(b), output_signature=tf.TensorSpec([None, None, 3], tf.uint8))
        np.testing.assert_allclose(next(iter(ragged_ds.ragged_batch(3).map(fn))).numpy(),
                                   layer(data.to_ragged(batch)).numpy(), atol=PIXEL_TOL,
                                   rtol=0)


def test_tuple_and_dict_elements(photos):
    photo = photos["chelsea"]
    fn = data.resize_fn(32, 32, **OPTIONS)
    expected = Resize(32, 32, **OPTIONS)(photo).numpy()
    ds = tf.data.Dataset.from_tensors((photo, 3, "x")).map(fn)
    image, label, tag = next(iter(ds))
    np.testing.assert_array_equal(image.numpy(), expected)
    assert int(label) == 3 and tag.numpy() == b"x"
    ds = tf.data.Dataset.from_tensors({"image": photo, "label": 1}).map(fn)
    element = next(iter(ds))
    np.testing.assert_array_equal(element["image"].numpy(), expected)
    assert int(element["label"]) == 1


def test_batched_dense_dataset(photos):
    photo = photos["astronaut"]
    ds = tf.data.Dataset.from_tensor_slices((np.stack([photo] * 4), np.arange(4)))
    ds = ds.batch(2).map(data.resize_fn(16, 16), num_parallel_calls=2)
    shapes = [(x.shape, y.shape) for x, y in ds]
    assert shapes == [((2, 16, 16, 3), (2,))] * 2


def test_dict_without_image_key(photos):
    ds = tf.data.Dataset.from_tensors({"pixels": photos["chelsea"]})
    with pytest.raises(KeyError, match="without an 'image' key"):
        ds.map(data.resize_fn(8, 8))


def test_bad_options_fail_when_built():
    with pytest.raises(ValueError, match="crop_fraction"):
        data.resize_fn(8, 8, crop_fraction=2)


# ---- batched_decode_and_resize ----------------------------------------------------

@pytest.mark.parametrize("policy", ["stretch", "crop", "pad"])
@pytest.mark.parametrize("dct_downscale", [True, False])
def test_batched_decode_and_resize_matches_per_element(photos, policy, dct_downscale):
    """Batches of JPEGs of different sizes: the same pixels as the per-element
    map function (one taps program per batch vs TF's kernels per image)."""
    jpegs = [encode(p, "JPEG", quality=90) for p in photos.values()] * 3  # 9 elements
    kwargs = dict(policy=policy, crop_fraction=0.875, fill_value=5.0,
                  dct_downscale=dct_downscale)
    ds = tf.data.Dataset.from_tensor_slices((jpegs, np.arange(9)))
    batches = list(ds.apply(data.batched_decode_and_resize(4, 60, 80, **kwargs)))
    assert [tuple(b[0].shape) for b in batches] == [(4, 60, 80, 3)] * 2 + [(1, 60, 80, 3)]
    images = np.concatenate([b[0].numpy() for b in batches])
    labels = np.concatenate([b[1].numpy() for b in batches])
    np.testing.assert_array_equal(labels, np.arange(9))
    per_element = [x.numpy() for x, _ in ds.map(data.decode_and_resize_fn(60, 80, **kwargs))]
    np.testing.assert_allclose(images, np.stack(per_element), atol=PIXEL_TOL, rtol=0)


def test_batched_decode_and_resize_element_forms_and_options(photos):
    jpegs = [encode(p, "JPEG") for p in photos.values()]
    plain = tf.data.Dataset.from_tensor_slices(jpegs).apply(
        data.batched_decode_and_resize(2, 16, 16, dtype="uint8", drop_remainder=True))
    assert [(b.shape, b.dtype) for b in plain] == [((2, 16, 16, 3), tf.uint8)]
    dicts = tf.data.Dataset.from_tensor_slices({"image": jpegs, "path": ["a", "b", "c"],
                                                "label": np.array([7, -1, 2**31 - 1], np.int32)})
    (element,) = list(dicts.apply(data.batched_decode_and_resize(3, 16, 16)))
    assert element["image"].shape == (3, 16, 16, 3)
    assert element["path"].numpy().tolist() == [b"a", b"b", b"c"]
    assert element["label"].dtype == tf.int32  # through int64 between the maps
    assert element["label"].numpy().tolist() == [7, -1, 2**31 - 1]
    with pytest.raises(KeyError, match="without an 'image' key"):
        tf.data.Dataset.from_tensor_slices({"png": jpegs}).apply(
            data.batched_decode_and_resize(2, 8, 8))
    with pytest.raises(ValueError, match="batch_size"):
        data.batched_decode_and_resize(0, 8, 8)
    with pytest.raises(ValueError, match="Unknown `method`"):
        data.batched_decode_and_resize(2, 8, 8, method="cubic")


def _fast_map_functions(ds):
    """Names of the traced functions of a pipeline's fast-start maps, last first."""
    names = []
    while ds is not None:
        if type(ds).__name__ == "OneDeviceMap":
            names.append(ds._map_func.function.name)
        ds = getattr(ds, "_input_dataset", None)
    return names


def test_a_second_build_of_the_same_pipeline_reuses_its_traced_functions(photos):
    """A harness that applies the pipeline anew per pass traces it once: a build with
    the same settings on the same element spec reuses both maps' functions (and what
    the first trace saw: int32 labels stay int32); other settings or specs do not."""
    jpegs = [encode(p, "JPEG", quality=90) for p in photos.values()]

    def build(label_dtype=np.int32, size=(20, 30), **kwargs):
        ds = tf.data.Dataset.from_tensor_slices((jpegs, np.arange(3, dtype=label_dtype)))
        return ds.apply(data.batched_decode_and_resize(2, *size, **kwargs))

    first = build()
    expected = [(x.numpy(), y.numpy()) for x, y in first]
    names = _fast_map_functions(first)
    assert len(names) == 2
    del first
    second = build()
    assert _fast_map_functions(second) == names
    for (x, y), (ex, ey) in zip(second, expected):
        assert y.dtype == tf.int32
        np.testing.assert_array_equal(x.numpy(), ex)
        np.testing.assert_array_equal(y.numpy(), ey)
    for other in (build(np.int64), build(size=(24, 30)), build(method="bicubic")):
        assert not set(_fast_map_functions(other)) & set(names)
    assert [y.dtype for _, y in build(np.int64)] == [tf.int64] * 2


def test_a_second_build_of_the_crop_window_pipeline_reuses_its_functions(photos):
    jpegs = [encode(p, "JPEG", quality=90) for p in photos.values()]

    def build(seed=7):
        return tf.data.Dataset.from_tensor_slices(jpegs).apply(
            data.batched_decode_random_resized_crop(2, 24, 24, seed=seed))

    first = build()
    names, expected = _fast_map_functions(first), [x.numpy() for x in first]
    second = build()
    assert len(names) == 2 and _fast_map_functions(second) == names
    for x, e in zip(second, expected):  # the same seeds: the same crops
        np.testing.assert_array_equal(x.numpy(), e)
    assert not set(_fast_map_functions(build(seed=8))) & set(names)


def test_batched_decode_and_resize_names_a_bad_element(photos):
    jpeg = encode(photos["chelsea"], "JPEG")
    ds = tf.data.Dataset.from_tensor_slices(
        {"image": [jpeg, b"junk"], "path": ["ok.jpg", "bad.jpg"]})
    with pytest.raises(tf.errors.InvalidArgumentError, match="bad.jpg.*not an image"):
        list(ds.apply(data.batched_decode_and_resize(2, 8, 8, name_key="path")))
    cut = tf.data.Dataset.from_tensor_slices([jpeg, jpeg[: len(jpeg) // 3]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Invalid JPEG data"):
        list(cut.apply(data.batched_decode_and_resize(2, 8, 8)))


def test_fit_with_steps_per_epoch_keeps_one_iterator_of_the_pipeline(photos):
    """README's advice for short epochs: every new iterator of a
    `batched_decode_and_resize` pipeline builds its functions again (the
    fresh-iterator row of the throughput table); `model.fit` makes one per
    epoch, unless the dataset repeats and `steps_per_epoch` is given. Counted
    here by the source generator, which runs once per iterator."""
    import keras

    jpegs = [encode(p, "JPEG") for p in photos.values()]
    starts = []

    def source(endless):
        starts.append(1)
        i = 0
        while endless or i < 6:  # an endless source, as `repeat()` makes one
            yield jpegs[i % 3], i % 2
            i += 1

    def pipeline(endless=False):
        return tf.data.Dataset.from_generator(lambda: source(endless), output_signature=(
            tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.int32))).apply(
            data.batched_decode_and_resize(3, 16, 16))

    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(pipeline(), epochs=3, verbose=0)
    assert len(starts) == 3  # one iterator per epoch
    del starts[:]
    model.fit(pipeline(endless=True), epochs=3, steps_per_epoch=2, verbose=0)
    assert len(starts) == 1  # one iterator for all epochs


def _torchvision_size(h, w, size, max_size=None):
    """torchvision's rule for Resize(int, max_size), written out for the test."""
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    if max_size is not None and new_long > max_size:
        new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if w <= h else (new_short, new_long)


@pytest.mark.parametrize("hw", [(300, 451), (451, 300), (100, 100), (10, 1000), (333, 500)])
@pytest.mark.parametrize("max_size", [None, 300, 1000])
def test_side_size_matches_torchvision(hw, max_size):
    got = data.side_size(*hw, shorter=224, max_size=max_size)
    assert tuple(int(v) for v in got) == _torchvision_size(*hw, 224, max_size)
    longer = tuple(int(v) for v in data.side_size(*hw, longer=224))
    assert max(longer) == 224 and min(longer) == max(1, int(224 * min(hw) / max(hw)))


def test_resize_to_side_dense_ragged_and_in_tf_data(photos):
    chelsea = photos["chelsea"]  # 300 x 451
    out = data.resize_to_side(chelsea, shorter=128).numpy()
    assert out.shape == (128, 192, 3)
    np.testing.assert_allclose(out, krl.resize(chelsea, (128, 192)).numpy(), atol=5e-4)
    ragged = data.to_ragged([chelsea, photos["coffee"]])
    batch = data.resize_to_side(ragged, longer=100, method="lanczos3", dtype="uint8")
    assert isinstance(batch, tf.RaggedTensor) and batch.dtype == tf.uint8
    assert [tuple(batch[i].to_tensor().shape) for i in range(2)] == [(66, 100, 3), (66, 100, 3)]
    ds = tf.data.Dataset.from_tensor_slices((ragged, [0, 1])).map(
        data.resize_to_side_fn(shorter=64, max_size=90)).ragged_batch(2)
    images, labels = next(iter(ds))
    assert [tuple(images[i].to_tensor().shape) for i in range(2)] == [(60, 90, 3), (60, 90, 3)]
    assert labels.numpy().tolist() == [0, 1]
    with pytest.raises(ValueError, match="exactly one of `shorter` and `longer`"):
        data.resize_to_side_fn(shorter=10, longer=20)
    with pytest.raises(ValueError, match="`max_size` \\(5\\) must be at least"):
        data.side_size(10, 10, shorter=10, max_size=5)


def test_random_resized_crop_transformation_needs_no_enumerate(rng):
    images = rng.integers(0, 256, (6, 64, 80, 3), dtype=np.uint8)

    def build(**kwargs):
        return tf.data.Dataset.from_tensor_slices((images, np.arange(6))).apply(
            data.random_resized_crop(16, 16, seed=3, scale=(0.2, 0.5), **kwargs))

    ds = build()
    first, second = [[(x.numpy(), int(y)) for x, y in ds] for _ in range(2)]
    assert [y for _, y in first] == list(range(6))  # order and labels kept
    # A new iterator (a new epoch) draws new boxes; a rebuilt pipeline, any parallelism,
    # repeats the same ones.
    assert all(np.abs(a - b).max() > 1 for (a, _), (b, _) in zip(first, second))
    again = [x.numpy() for x, _ in build(num_parallel_calls=1)]
    for (a, _), b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    fixed = build(rerandomize_each_iteration=False)
    for a, b in zip([x.numpy() for x, _ in fixed], [x.numpy() for x, _ in fixed]):
        np.testing.assert_array_equal(a, b)
    assert first[0][0].shape == (16, 16, 3)


def _rrc_box(seed, index, height, width):
    """RandomResizedCrop's box for element `index` (the library's sampler and seeding)."""
    from keras_resize_layers._core import augment, backend as backend_lib

    uniforms = tf.random.stateless_uniform([1, augment.ATTEMPTS, 4],
                                           seed=tf.constant([seed, index], tf.int64))
    box = augment.random_resized_crop_boxes(
        backend_lib.get("tensorflow"), uniforms, tf.constant([height]), tf.constant([width]),
        (0.08, 1.0), (3 / 4, 4 / 3))
    return [int(box[k][0]) for k in ("box_y", "box_x", "box_h", "box_w")]


@pytest.mark.slow(13)
def test_decode_random_resized_crop_decodes_the_box_of_random_resized_crop(photos):
    """JPEGs: the window of RandomResizedCrop's box (snapped outward to the DCT grid when a
    scale 1/r is used), within a grey level or so of full decode + `resized_crop` of that
    box; PNGs: exactly `random_resized_crop_fn` on the decoded image."""
    from PIL import Image

    big = np.asarray(Image.fromarray(photos["astronaut"]).resize((2000, 1500)))
    jpegs = [encode(p, "JPEG", quality=90) for p in photos.values()] + [
        encode(big, "JPEG", quality=90)]
    out = (64, 64)
    ds = tf.data.Dataset.from_tensor_slices(jpegs).repeat(3).enumerate()
    got = list(ds.map(data.decode_random_resized_crop_fn(*out, seed=3)).as_numpy_iterator())
    scales = set()
    for i, image in enumerate(got):
        full = tf.io.decode_jpeg(jpegs[i % 4], channels=3)
        height, width = full.shape[:2]
        y, x, h, w = _rrc_box(3, i, height, width)
        r = max([1] + [r for r in (2, 4, 8) if h >= 2 * r * out[0] and w >= 2 * r * out[1]])
        scales.add(r)
        y0, x0 = y // r * r, x // r * r
        y1, x1 = min(-(-(y + h) // r) * r, height), min(-(-(x + w) // r) * r, width)
        ref = np.asarray(krl.resized_crop(full, [y0, x0, y1 - y0, x1 - x0], out))
        assert image.shape == out + (3,) and image.dtype == np.float32
        assert np.abs(image - ref).mean() < 1.5, (i, r, np.abs(image - ref).mean())
    assert {1, 2, 8} <= scales  # the window decode at full size and at DCT scales
    pngs = [encode(p, "PNG") for p in photos.values()]
    ds = tf.data.Dataset.from_tensor_slices(pngs).enumerate()
    got = list(ds.map(data.decode_random_resized_crop_fn(*out, seed=5)).as_numpy_iterator())
    decoded = tf.data.Dataset.from_tensor_slices(pngs).map(
        lambda b: tf.io.decode_png(b, channels=3)).enumerate()
    ref = list(decoded.map(data.random_resized_crop_fn(*out, seed=5)).as_numpy_iterator())
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, atol=5e-4)
    # The transformation: seeds per element from Dataset.random, as data.random_resized_crop.
    source = tf.data.Dataset.from_tensor_slices(pngs)
    got = list(source.apply(data.decode_random_resized_crop(*out, seed=9)).as_numpy_iterator())
    ref = list(source.map(lambda b: tf.io.decode_png(b, channels=3)).apply(
        data.random_resized_crop(*out, seed=9)).as_numpy_iterator())
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, atol=5e-4)


@pytest.mark.slow(8)
def test_batched_decode_random_resized_crop_equals_the_per_element_form(photos):
    """JPEGs of several sizes (windows at full and DCT scales) and a PNG, with labels and
    as dicts: the batches hold `decode_random_resized_crop`'s crops, element by element
    (same seeds, boxes, windows), resized in one call per batch; the last batch short."""
    from PIL import Image

    big = np.asarray(Image.fromarray(photos["astronaut"]).resize((1600, 1200)))
    items = [encode(p, "JPEG", quality=90) for p in photos.values()] + [
        encode(big, "JPEG", quality=90), encode(photos["coffee"], "PNG")]
    labels = np.arange(len(items), dtype=np.int32) * 10
    source = tf.data.Dataset.from_tensor_slices((items, labels)).repeat(2)
    want = list(source.apply(data.decode_random_resized_crop(24, 32, seed=4))
                .as_numpy_iterator())
    batches = list(source.apply(data.batched_decode_random_resized_crop(4, 24, 32, seed=4))
                   .as_numpy_iterator())
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    got = [(x, y) for xs, ys in batches for x, y in zip(xs, ys)]
    assert [y for _, y in got] == [y for _, y in want] and batches[0][1].dtype == np.int32
    for (a, _), (b, _) in zip(got, want, strict=True):
        assert a.shape == (24, 32, 3) and a.dtype == np.float32
        np.testing.assert_allclose(a, b, atol=5e-4, rtol=0)
    as_dicts = tf.data.Dataset.from_tensor_slices({"image": items, "path": ["a"] * 5})
    out = next(iter(as_dicts.apply(data.batched_decode_random_resized_crop(
        5, 8, 8, seed=1, dtype="uint8", drop_remainder=True))))
    assert out["image"].shape == (5, 8, 8, 3) and out["image"].dtype == tf.uint8
    with pytest.raises(ValueError, match="batch_size"):
        data.batched_decode_random_resized_crop(0, 8, 8)


def test_decode_random_resized_crop_needs_the_index():
    with pytest.raises(ValueError, match="enumerate"):
        tf.data.Dataset.from_tensor_slices([b"x"]).map(
            data.decode_random_resized_crop_fn(8, 8))


def test_decode_random_resized_crop_refuses_a_jpeg_bomb_naming_the_element():
    import corpus

    bomb = next(k for k in corpus.build() if k.name == "JPEG declaring 60000x60000")
    ds = tf.data.Dataset.from_tensor_slices(
        {"image": [bomb.data], "path": ["photos/bomb.jpg"]}).enumerate()
    fn = data.decode_random_resized_crop_fn(8, 8, name_key="path")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"photos/bomb.jpg.*exceeds max_pixels"):
        list(ds.map(fn))
