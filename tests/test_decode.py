"""Decoding: every format, alpha, 16-bit PNG, DCT-domain JPEG downscaling, bad bytes."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from conftest import encode
from keras_resize_layers import data, decode


@pytest.mark.parametrize("fmt, kwargs, lossless", [
    ("PNG", {}, True), ("BMP", {}, True), ("WEBP", {"lossless": True}, True),
    ("GIF", {}, False), ("JPEG", {"quality": 95}, False)])
def test_formats_decode_to_rgb_uint8(photos, fmt, kwargs, lossless):
    photo = photos["chelsea"]
    out = decode.decode_image(encode(photo, fmt, **kwargs)).numpy()
    assert out.shape == photo.shape and out.dtype == np.uint8
    err = np.abs(out.astype(float) - photo).mean()
    assert err == 0 if lossless else err < 12  # GIF palette / JPEG loss


def test_grayscale_alpha_and_16_bit(photos):
    gray = photos["chelsea"][..., 0]
    out = decode.decode_image(encode(gray, "PNG")).numpy()
    np.testing.assert_array_equal(out, np.repeat(gray[..., None], 3, -1))
    rgba = np.dstack([photos["chelsea"], np.full(gray.shape, 64, np.uint8)])
    out = decode.decode_image(encode(rgba, "PNG"), fill_value=255).numpy()
    expected = np.round(photos["chelsea"] * (64 / 255) + 255 * (1 - 64 / 255))
    np.testing.assert_allclose(out, expected, atol=1)
    sixteen = gray.astype(np.uint16) * 257
    out = decode.decode_image(encode(sixteen, "PNG")).numpy()
    np.testing.assert_array_equal(out[..., 0], gray)


@pytest.mark.parametrize("size, expected", [
    ((224, 224), (300, 451)), ((150, 200), (150, 226)), ((75, 112), (75, 113)),
    ((30, 30), (38, 57))])
def test_jpeg_dct_downscale_keeps_the_target_covered(photos, size, expected):
    out = decode.decode_image(encode(photos["chelsea"], "JPEG"), size=size)
    assert out.shape[:2] == expected
    assert out.shape[0] >= size[0] and out.shape[1] >= size[1]


@pytest.mark.parametrize("size", [(224, 224), (150, 200), (1, 9), (17, 1), (1, 1), (2, 2)])
def test_jpeg_ratio_index_is_the_largest_ratio_libjpeg_keeps_covering(size):
    """Against libjpeg's rounding written out (a side of h at scale 1/r is ceil(h / r)), for
    a static size and the same size as a tensor, at each side next to a ratio's edge and
    others from 1 to 60,000."""
    edges = [r * (t - 1) + d for r in decode.RATIOS for t in size for d in (-1, 0, 1, 2)]
    sides = np.unique(np.clip(edges + list(range(1, 1800, 13)) + [4000, 8191, 60000], 1, None))
    h, w = np.meshgrid(sides, np.unique(np.clip(edges + [1, 3, 500, 4000], 1, None)),
                       indexing="ij")
    shapes = np.stack([h.ravel(), w.ravel(), np.full(h.size, 3)], 1)
    expected = np.zeros(len(shapes), int)
    for i, r in enumerate(decode.RATIOS):
        fits = (-(-shapes[:, 0] // r) >= size[0]) & (-(-shapes[:, 1] // r) >= size[1])
        expected[fits] = i
    for given in (size, tf.constant(size)):
        got = tf.data.Dataset.from_tensor_slices(shapes).map(
            lambda shape, s=given: decode.jpeg_ratio_index(None, s, shape),
            num_parallel_calls=tf.data.AUTOTUNE).batch(len(shapes)).get_single_element()
        np.testing.assert_array_equal(got.numpy(), expected)


@pytest.mark.parametrize("contents, message", [
    (b"", "empty"), (b"hello, world", "not an image")])
def test_bad_bytes_name_the_problem_and_the_element(contents, message):
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        decode.decode_image(contents, name="photos/cat.jpg")
    with pytest.raises(tf.errors.InvalidArgumentError, match="photos/cat.jpg"):
        decode.decode_image(contents, name="photos/cat.jpg")


def test_truncated_bytes_fail_loudly(photos):
    jpeg = encode(photos["chelsea"], "JPEG")
    with pytest.raises(tf.errors.InvalidArgumentError):
        decode.decode_image(jpeg[: len(jpeg) // 2])
    png = encode(photos["chelsea"], "PNG")
    with pytest.raises(tf.errors.InvalidArgumentError):
        decode.decode_image(png[:300])


def test_decode_and_resize_fn_in_tf_data(photos):
    from keras_resize_layers.layers import Resize

    encoded = [encode(p, "PNG") for p in photos.values()]
    fn = data.decode_and_resize_fn(64, 64, policy="crop", crop_fraction=0.875)
    ds = tf.data.Dataset.from_tensor_slices((encoded, [0, 1, 2])).map(fn)
    layer = Resize(64, 64, policy="crop", crop_fraction=0.875)
    for (image, label), photo in zip(ds, photos.values()):
        # Size unknown in the pipeline (TF kernels) vs fixed (XLA taps): float rounding.
        np.testing.assert_allclose(image.numpy(), layer(photo).numpy(), atol=5e-4, rtol=0)
    names = tf.data.Dataset.from_tensor_slices(
        {"image": [b"junk"], "path": ["a/b.png"]}).map(data.decode_fn(name_key="path"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="a/b.png"):
        list(names)


def test_dct_downscale_stays_close_to_full_decode(photos):
    jpeg = encode(photos["astronaut"], "JPEG", quality=95)
    full = data.decode_and_resize_fn(112, 112, dct_downscale=False)(tf.constant(jpeg))
    fast = data.decode_and_resize_fn(112, 112)(tf.constant(jpeg))
    err = np.sqrt(np.mean((full.numpy() - fast.numpy()) ** 2))
    assert 0 < err < 6  # the DCT's own box-like filter differs a little


def test_to_ragged_round_trip(photos):
    images = list(photos.values())
    ragged = data.to_ragged(images)
    assert ragged.shape.as_list() == [3, None, None, 3]
    for i, image in enumerate(images):
        np.testing.assert_array_equal(ragged[i].to_tensor().numpy(), image)
    with pytest.raises(ValueError, match="same C"):
        data.to_ragged([images[0], images[0][..., :1]])


def _bad_batch(photos):
    good = encode(photos["chelsea"], "JPEG")
    png = encode(photos["coffee"], "PNG")
    gif = encode(photos["coffee"], "GIF")
    return [good, b"", png[:300], b"hello", png, good[: len(good) // 2], gif[:100], gif]


@pytest.mark.parametrize("index, ok, reason, size", [
    (0, True, "", (300, 451)), (1, False, "empty", (0, 0)), (2, True, "", (400, 600)),
    (3, False, "not an image", (0, 0)), (7, True, "", (400, 600))])
def test_inspect_reads_headers_only(photos, index, ok, reason, size):
    got_ok, got_reason, h, w = decode.inspect(_bad_batch(photos)[index])
    assert bool(got_ok) == ok and reason in got_reason.numpy().decode()
    assert (int(h), int(w)) == size


@pytest.mark.parametrize("size", [None, (32, 32)])
def test_max_pixels_refuses_before_decoding(photos, size):
    jpeg = encode(photos["chelsea"], "JPEG")
    png = encode(photos["chelsea"], "PNG")
    full = (300, 451) if size is None else (38, 57)  # 1/8 scale of a JPEG; PNG: full size
    for contents, shape in ((jpeg, full), (png, (300, 451))):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"(?s)a\.img.*300,? 451.*exceeds max_pixels=1000"
                           if contents is jpeg else "(?s)a.img.*exceeds max_pixels=1000"):
            decode.decode_image(contents, size, name="a.img", max_pixels=1000)
        assert decode.decode_image(contents, size, max_pixels=300 * 451).shape[:2] == shape
        with pytest.raises(tf.errors.InvalidArgumentError, match="max_pixels=135299"):
            decode.decode_image(contents, size, max_pixels=300 * 451 - 1)  # one pixel over
        assert decode.decode_image(contents, size, max_pixels=None).shape[:2] == shape
    assert "max_pixels=1000" in decode.reason_of_failure(png, 1000).numpy().decode()


def test_decode_images_skip_counts_and_names_bad_elements(photos, caplog):
    items = _bad_batch(photos)
    paths = [f"photos/{i}.img" for i in range(len(items))]
    ds = tf.data.Dataset.from_tensor_slices({"image": items, "path": paths, "label": range(8)})
    images = data.decode_images(ds, (32, 32), on_error="skip", name_key="path")
    out = list(images)
    assert [int(x["label"]) for x in out] == [0, 4, 7]
    assert all(x["image"].shape == (32, 32, 3) for x in out)
    assert images.skipped_count == 5
    assert [name for name, _ in images.skipped] == [f"photos/{i}.img" for i in (1, 2, 3, 5, 6)]
    assert dict(images.skipped)["photos/5.img"] == (
        "the JPEG decoder rejected the data (truncated or corrupt)")
    assert "Skipped 5 undecodable image(s)" in caplog.text
    # A second epoch counts afresh; the dataset for model.fit keeps the same elements.
    assert len(list(images)) == 3 and images.skipped_count == 5
    assert [int(x["label"]) for x in images.dataset] == [0, 4, 7]
    assert int(images.dataset_skipped.numpy()) == 5  # counted by the model.fit dataset too
    list(images.dataset)
    assert int(images.dataset_skipped.numpy()) == 10  # cumulative over its passes


def test_decode_images_raise_names_index_and_reason(photos):
    ds = tf.data.Dataset.from_tensor_slices((_bad_batch(photos), list(range(8))))
    images = data.decode_images(ds)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"element 1.*empty"):
        list(images)
    truncated = tf.data.Dataset.from_tensor_slices(
        {"image": [_bad_batch(photos)[5]], "path": ["shots/cut.jpg"]})
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"shots/cut.jpg.*JPEG decoder rejected"):
        list(data.decode_images(truncated, name_key="path"))
    with pytest.raises(ValueError, match="on_error"):
        data.decode_images(ds, on_error="ignore")


def _rle_bmp(stream, bpp, width, height, gap=0):
    """An RLE BMP (compression 1 for 8 bits, 2 for 4) with 16 grey levels; `gap` bytes
    between the palette and the pixel data (an odd gap puts the data at an odd offset)."""
    import struct

    table = b"".join(bytes([17 * i, 17 * i, 17 * i, 0]) for i in range(16))
    offset = 14 + 40 + len(table) + gap
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bpp, 1 if bpp == 8 else 2,
                       len(stream), 2835, 2835, 16, 0)
    return (b"BM" + struct.pack("<IHHI", offset + len(stream), 0, 0, offset) + info + table
            + b"\0" * gap + stream)


RLE_STREAMS = {  # (bits per pixel, width, height, gap, stream[, the same image written out
    # in full for Pillow, which refuses a stream that ends before the image is filled])
    "runs, end of line, end of bitmap": (8, 5, 3, 0, b"\x05\x01\x00\x00\x02\x03\x03\x04"
                                                     b"\x00\x00\x05\x0f\x00\x01"),
    "absolute run of odd length, aligned": (8, 6, 2, 0, b"\x00\x03\x01\x02\x03\x00\x03\x09"
                                                        b"\x00\x00\x00\x04\x05\x06\x07\x08"
                                                        b"\x02\x0e\x00\x01"),
    "absolute run, data at an odd offset": (8, 6, 2, 1, b"\x00\x03\x01\x02\x03\x03\x09\x00"
                                                        b"\x00\x06\x05\x00\x01"),
    "delta, a second end of line, early end of bitmap": (
        8, 7, 4, 0, b"\x02\x03\x00\x02\x02\x01\x02\x0c\x00\x00\x00\x00\x03\x07\x00\x01",
        b"\x02\x03\x05\x00\x00\x00\x04\x00\x02\x0c\x01\x00\x00\x00\x03\x07\x04\x00\x00\x00"
        b"\x07\x00\x00\x01"),
    "the last row without an end of bitmap": (8, 4, 2, 0, b"\x04\x02\x00\x00\x04\x03"),
    "RLE4 runs of odd length": (4, 7, 2, 0, b"\x07\x1e\x00\x00\x03\x45\x04\x6a\x00\x01"),
    "RLE4 absolute run, odd count": (4, 8, 2, 0, b"\x00\x05\x12\x34\x50\x00\x03\xff\x00\x00"
                                                 b"\x08\x9a\x00\x01"),
    "RLE4 delta": (4, 6, 3, 0, b"\x02\x11\x00\x02\x01\x01\x03\x22\x00\x00\x06\x33\x00\x01"),
}


def _rle_case(name):
    """(the BMP's bytes, Pillow's pixels) of RLE_STREAMS[name]."""
    import io

    bpp, width, height, gap, stream, *written_out = RLE_STREAMS[name]
    contents = _rle_bmp(stream, bpp, width, height, gap)
    reference = _rle_bmp(written_out[0], bpp, width, height, gap) if written_out else contents
    return contents, np.asarray(Image.open(io.BytesIO(reference)).convert("RGB"))


@pytest.mark.parametrize("name", RLE_STREAMS)
def test_rle_bmps_decode_as_pillow_reads_them(name):
    contents, expected = _rle_case(name)
    ok, reason, h, w = decode.inspect(contents)
    assert bool(ok) and (int(h), int(w)) == expected.shape[:2], reason.numpy()
    np.testing.assert_array_equal(decode.decode_image(contents).numpy(), expected)


def test_rle_bmps_decode_in_tf_data():
    """Every stream through one traced pipeline (the decoding graph, not eager ops)."""
    cases = [_rle_case(name) for name in RLE_STREAMS]
    decoded = tf.data.Dataset.from_tensor_slices([c for c, _ in cases]).map(decode.decode_image)
    for (_, expected), out in zip(cases, decoded, strict=True):
        np.testing.assert_array_equal(out.numpy(), expected)


@pytest.mark.parametrize("stream, message", [
    (b"\x06\x05\x00\x00\x03\x07\x00\x05\x01\x02", "truncated BMP RLE data"),  # cut mid-run
    (b"\x06\x05\x00\x00", "truncated BMP RLE data"),  # a row missing, no end of bitmap
    (b"\x03\x01\x00\x00\x09\x02\x00\x01", r"past the end of its row at byte\] \[122\]")])  # 9 > 6
def test_malformed_rle_streams_are_refused_saying_why(stream, message):
    contents = _rle_bmp(stream, 8, 6, 2)
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        decode.decode_image(contents)
    assert "BMP decoder rejected" in decode.reason_of_failure(contents).numpy().decode()


def test_the_format_branch_stays_a_functional_if_in_graphs():
    """Grappler lowers an `If` to Switch/Merge in a plain `Dataset.map`, and then every
    JPEG paid for the non-JPEG branch's hundreds of ops (half the bare decoder's rate);
    `decode_image` asks for no lowering, and still decodes both kinds in a plain map."""
    graph = tf.function(lambda c: decode.decode_image(c, (8, 8))).get_concrete_function(
        tf.TensorSpec([], tf.string)).graph
    ifs = [op for op in graph.get_operations() if op.type in ("If", "StatelessIf")]
    assert len(ifs) == 1 and ifs[0].get_attr("_lower_using_switch_merge") is False
    pixels = np.full((20, 30, 3), 90, np.uint8)
    ds = tf.data.Dataset.from_tensor_slices([encode(pixels, "JPEG"), encode(pixels, "PNG")])
    out = [x.numpy() for x in ds.map(decode.decode_image)]
    assert [x.shape for x in out] == [(20, 30, 3), (20, 30, 3)]
    np.testing.assert_array_equal(out[1], pixels)
    assert np.abs(out[0].astype(int) - 90).max() <= 2
