"""Boxes and masks follow the pixels; channels-first equals transposed channels-last.

The reference is the image itself: a filled rectangle is drawn into the
pixels and the mask, and after the transform the returned box must match the
rectangle found in the returned pixels and mask (IoU >= 0.95).
"""


import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_resize_layers import data
from keras_resize_layers._core import annotations
from keras_resize_layers._core import backend
from keras_resize_layers.layers import (RandomBrightnessScale, RandomResizedCrop,
                                        RandomResolution, Resize)

H, W = 60, 80
RECT = (10, 20, 40, 50)  # y1, x1, y2, x2 in pixels (edges)


def _scene(n=1):
    images = np.zeros((n, H, W, 3), np.uint8)
    masks = np.zeros((n, H, W, 1), np.int32)
    y1, x1, y2, x2 = RECT
    images[:, y1:y2, x1:x2] = 255
    masks[:, y1:y2, x1:x2] = 7
    return images, masks


def _in_format(fmt, y1, x1, y2, x2, h=H, w=W):
    bk = backend.get("tensorflow")
    box = annotations.from_xyxy(bk, *(tf.constant([float(v)]) for v in (x1, y1, x2, y2)),
                                fmt, float(h), float(w))
    return box.numpy()


def _found(array, threshold):
    """(y1, x1, y2, x2) pixel-edge box of `array > threshold` (2-D), or None."""
    ys, xs = np.nonzero(array > threshold)
    if len(ys) == 0:
        return None
    return ys.min(), xs.min(), ys.max() + 1, xs.max() + 1


def _iou(a, b):
    ih = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iw = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ih * iw
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def _check(out, fmt, size, min_area=0):
    boxes = np.asarray(out["bounding_boxes"]["boxes"])
    labels = np.asarray(out["bounding_boxes"]["labels"])
    images = np.asarray(out["images"])
    masks = np.asarray(out["segmentation_masks"])
    checked = 0
    for i in range(len(images)):
        in_pixels = _found(images[i, ..., 0], 127.0)  # a pixel half covered counts
        in_mask = _found(masks[i, ..., 0], 0)
        if labels[i, 0] == -1:
            assert in_mask is None or _area(in_mask) < 4, (i, in_mask)
            assert not boxes[i, 0].any()
            continue
        assert labels[i, 0] == 3
        bk = backend.get("tensorflow")
        x1, y1, x2, y2 = (float(np.asarray(v)) for v in annotations.to_xyxy(
            bk, tf.constant(boxes[i, 0]), fmt, float(size[0]), float(size[1])))
        box = (y1, x1, y2, x2)
        if _area(box) < min_area:
            continue
        # The pixels a box covers: those whose centres (i + 0.5) lie inside it;
        # a centre exactly on an edge may go either way.
        edges = [sorted({np.ceil(v - 0.5), np.floor(v - 0.5) + 1}) for v in box]
        rasters = [(a, b, c, d) for a in edges[0] for b in edges[1] for c in edges[2]
                   for d in edges[3]]
        assert max(_iou(r, in_mask) for r in rasters) >= 0.95, (fmt, i, box, in_mask)
        # Pixels: the 50% level of the antialiased edge; at the image border
        # the kernel is renormalised, which can move it by up to a pixel.
        assert max(_iou(r, in_pixels) for r in rasters) >= 0.95 or all(
            abs(a - b) <= 1 for a, b in zip(rasters[0], in_pixels)), (fmt, i, box, in_pixels)
        checked += 1
    return checked


def _area(r):
    return (r[2] - r[0]) * (r[3] - r[1])


def _inputs(fmt, n=1):
    images, masks = _scene(n)
    box = _in_format(fmt, *RECT)
    return {"images": images, "segmentation_masks": masks, "labels": np.arange(n),
            "bounding_boxes": {"boxes": np.repeat(box[None], n, 0).astype("float32"),
                               "labels": np.full((n, 1), 3, np.int32)}}


@pytest.mark.parametrize("fmt", annotations.BOX_FORMATS)
@pytest.mark.parametrize("policy, pad_position", [
    ("stretch", "center"), ("crop", "center"), ("pad", "center"), ("pad", "top_left")])
def test_boxes_and_masks_follow_the_pixels(fmt, policy, pad_position):
    size = (48, 48)
    layer = Resize(*size, policy=policy, bounding_box_format=fmt, pad_position=pad_position)
    inputs = _inputs(fmt, 2)
    out = layer(inputs)
    assert _check(out, fmt, size) == 2
    np.testing.assert_array_equal(np.asarray(out["labels"]), [0, 1])  # untouched
    masks = np.asarray(out["segmentation_masks"])
    assert masks.dtype == np.int32 and set(np.unique(masks)) <= {0, 7}  # class ids stay ids
    # The tf.data twin gives the same boxes, pixels and masks.
    fn = data.resize_fn(*size, policy=policy, bounding_box_format=fmt,
                        pad_position=pad_position)
    twin = next(iter(tf.data.Dataset.from_tensors(inputs).map(fn)))
    for key in ("images", "segmentation_masks"):
        np.testing.assert_allclose(np.asarray(twin[key]), np.asarray(out[key]), atol=5e-4)
    np.testing.assert_allclose(twin["bounding_boxes"]["boxes"], out["bounding_boxes"]["boxes"],
                               atol=1e-5)


@pytest.mark.parametrize("fmt", ["xyxy", "rel_yxyx", "center_xywh"])
def test_random_resized_crop_boxes_follow_each_images_crop(fmt):
    size = (32, 32)
    layer = RandomResizedCrop(*size, scale=(0.2, 1.0), seed=3, bounding_box_format=fmt)
    out = layer(_inputs(fmt, 64), training=True)
    assert _check(out, fmt, size, min_area=144) >= 20
    labels = np.asarray(out["bounding_boxes"]["labels"])[:, 0]
    assert (labels == -1).any() or (labels == 3).all()
    # The twin, seeded per element.
    fn = data.random_resized_crop_fn(*size, scale=(0.2, 1.0), seed=5, bounding_box_format=fmt)
    ds = tf.data.Dataset.from_tensor_slices(_inputs(fmt, 32)).batch(1).enumerate().map(fn)
    elements = list(ds)
    merged = {key: np.concatenate([np.asarray(e[key]) for e in elements]) for key in (
        "images", "segmentation_masks")}
    merged["bounding_boxes"] = {k: np.concatenate([np.asarray(e["bounding_boxes"][k])
                                                   for e in elements])
                                for k in ("boxes", "labels")}
    assert _check(merged, fmt, size, min_area=144) >= 10


def test_ragged_and_padded_boxes():
    images, masks = _scene(2)
    boxes = tf.ragged.constant([[[20.0, 10.0, 50.0, 40.0]],
                                [[20.0, 10.0, 50.0, 40.0], [0.0, 0.0, 5.0, 5.0]]],
                               ragged_rank=1)
    labels = tf.ragged.constant([[3], [3, 4]])
    out = Resize(30, 40, bounding_box_format="xyxy")(
        {"images": tf.constant(images), "bounding_boxes": {"boxes": boxes, "labels": labels}})
    got = out["bounding_boxes"]
    assert isinstance(got["boxes"], tf.RaggedTensor)
    assert got["boxes"].row_lengths().numpy().tolist() == [1, 2]
    np.testing.assert_allclose(got["boxes"][1].numpy(), [[10, 5, 25, 20], [0, 0, 2.5, 2.5]])
    # Padded rows (label -1) stay padding.
    padded = Resize(30, 40, bounding_box_format="xyxy")(
        {"images": images, "bounding_boxes": {
            "boxes": np.array([[[20, 10, 50, 40], [0, 0, 0, 0]]] * 2, "float32"),
            "labels": np.array([[3, -1]] * 2)}})
    assert np.asarray(padded["bounding_boxes"]["labels"]).tolist() == [[3, -1], [3, -1]]
    assert not np.asarray(padded["bounding_boxes"]["boxes"])[:, 1].any()


def test_box_formats_round_trip():
    bk = backend.get("tensorflow")
    corners = [tf.constant([v]) for v in (8.0, 6.0, 20.0, 30.0)]  # x1 y1 x2 y2
    expected = {"xyxy": [8, 6, 20, 30], "yxyx": [6, 8, 30, 20], "xywh": [8, 6, 12, 24],
                "center_xywh": [14, 18, 12, 24], "center_yxhw": [18, 14, 24, 12],
                "rel_xyxy": [0.2, 0.1, 0.5, 0.5]}
    for fmt in annotations.BOX_FORMATS:
        box = annotations.from_xyxy(bk, *corners, fmt, 60.0, 40.0)
        if fmt in expected:
            np.testing.assert_allclose(box.numpy()[0], expected[fmt], atol=1e-6)
        back = annotations.to_xyxy(bk, box, fmt, 60.0, 40.0)
        np.testing.assert_allclose([float(v.numpy()[0]) for v in back], [8, 6, 20, 30],
                                   atol=1e-5)
    with pytest.raises(ValueError, match="Unknown `bounding_box_format`: 'xyzw'"):
        Resize(4, 4, bounding_box_format="xyzw")
    with pytest.raises(ValueError, match="bounding_box_format"):
        Resize(4, 4)({"images": np.zeros((8, 8, 3)), "bounding_boxes": {
            "boxes": np.zeros((1, 4)), "labels": np.zeros((1,))}})


LAYERS = [
    lambda df: Resize(6, 10, policy="pad", fill_value=3.0, data_format=df),
    lambda df: Resize(6, 10, policy="crop", method="lanczos3", data_format=df),
    lambda df: RandomResizedCrop(6, 10, seed=4, data_format=df),
    lambda df: RandomResolution([(6, 6), (8, 8)], (6, 6), seed=2, data_format=df),
    lambda df: RandomBrightnessScale((0.5, 1.5), seed=9, data_format=df),
]


@pytest.mark.parametrize("make", LAYERS, ids=["pad", "crop", "rrc", "resolution", "brightness"])
@pytest.mark.parametrize("training", [False, True])
def test_channels_first_is_transposed_channels_last(make, training):
    x = np.random.default_rng(0).integers(0, 256, (2, 12, 16, 3)).astype(np.float32)
    last = np.asarray(make("channels_last")(x, training=training))
    first = np.asarray(make("channels_first")(x.transpose(0, 3, 1, 2), training=training))
    np.testing.assert_array_equal(first, last.transpose(0, 3, 1, 2))
    single = np.asarray(make("channels_first")(x[0].transpose(2, 0, 1), training=False))
    assert single.shape[0] == 3


def test_global_channels_first_default_and_errors():
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        layer = Resize(6, 6)
        assert layer.data_format == "channels_first"
        assert layer(np.zeros((2, 3, 12, 12))).shape == (2, 3, 6, 6)  # was (2, 6, 6, 12)
        assert Resize.from_config(layer.get_config()).data_format == "channels_first"
    finally:
        keras.config.set_image_data_format(previous)
    with pytest.raises(ValueError, match="Unknown `data_format`"):
        Resize(6, 6, data_format="NCHW")
    with pytest.raises(ValueError, match="data_format='channels_first'"):
        Resize(6, 6, data_format="channels_first")(np.zeros((2, 3, 12, 12, 1)))
    fn = tf.function(lambda x: Resize(6, 6, data_format="channels_first")(x),
                     input_signature=[tf.TensorSpec([None, None, 12, 12])])
    with pytest.raises(ValueError, match="channel axis.*data_format='channels_first'"):
        fn.get_concrete_function()


def test_dict_inputs_under_xla_and_after_keras_round_trip(tmp_path):
    inputs = _inputs("xyxy", 2)
    layer = Resize(24, 24, policy="pad", bounding_box_format="xyxy")
    eager = layer(inputs)
    compiled = tf.function(lambda d: layer(d), jit_compile=True)(inputs)
    np.testing.assert_allclose(compiled["images"], eager["images"], atol=5e-4)
    np.testing.assert_allclose(compiled["bounding_boxes"]["boxes"],
                               eager["bounding_boxes"]["boxes"], atol=1e-5)
    model = keras.Sequential([keras.Input((None, None, 3)), Resize(
        24, 24, data_format="channels_last", bounding_box_format="rel_xyxy",
        pad_position="top_left", policy="pad")])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    config = loaded.layers[0].get_config()
    assert (config["bounding_box_format"], config["pad_position"], config["data_format"]) == (
        "rel_xyxy", "top_left", "channels_last")


@pytest.mark.backends("jax")
def test_jax_under_jit_channels_first_and_boxes():
    """Under `KERAS_BACKEND=jax` (.ci/run): channels_first is the transpose of
    channels_last, and boxes follow a centre crop (hand-computed), under `jax.jit`."""
    import jax

    x = np.random.default_rng(0).integers(0, 256, (2, 12, 16, 3)).astype("float32")
    last = jax.jit(lambda a: Resize(6, 10, policy="pad", data_format="channels_last")(a))(x)
    first = jax.jit(lambda a: Resize(6, 10, policy="pad", data_format="channels_first")(a))(
        x.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(np.asarray(first), np.asarray(last).transpose(0, 3, 1, 2))
    images = np.zeros((1, 60, 80, 3), "float32")
    res = jax.jit(lambda d: Resize(48, 48, policy="crop", bounding_box_format="xyxy")(d))(
        {"images": images, "bounding_boxes": {
            "boxes": np.array([[[20, 10, 50, 40]]], "float32"), "labels": np.array([[3]])}})
    # The crop is the centred 60x60 square (x from 10), scaled by 48 / 60.
    np.testing.assert_allclose(np.asarray(res["bounding_boxes"]["boxes"]),
                               [[[8.0, 8.0, 32.0, 32.0]]], atol=1e-5)
