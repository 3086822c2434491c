"""Decoding encoded images to uint8 RGB, with DCT-domain downscaling for JPEG.

TensorFlow only. JPEG, PNG (8 and 16 bit), GIF (first frame), BMP and WebP.
Grayscale becomes RGB; an alpha channel is composited over `fill_value`.
When a target size is given, a JPEG is decoded at 1/2, 1/4 or 1/8 scale in the
DCT domain (libjpeg's `scale_denom`) as long as the decoded image stays at
least as large as the target in both dimensions.
"""

import tensorflow as tf

FORMATS = ("jpeg", "png", "gif", "bmp", "webp")
_JPEG, _PNG, _GIF, _BMP, _WEBP, _UNKNOWN = range(6)  # sniff_format codes


def sniff_format(contents):
    """int32 format code of encoded bytes from their magic number (5 = unknown)."""
    head = tf.strings.substr(tf.strings.join([contents, b"\0" * 12]), 0, 12)
    code = tf.constant(_UNKNOWN)
    checks = [
        (_WEBP, tf.logical_and(tf.equal(tf.strings.substr(head, 0, 4), b"RIFF"),
                               tf.equal(tf.strings.substr(head, 8, 4), b"WEBP"))),
        (_BMP, tf.equal(tf.strings.substr(head, 0, 2), b"BM")),
        (_GIF, tf.equal(tf.strings.substr(head, 0, 4), b"GIF8")),
        (_PNG, tf.equal(tf.strings.substr(head, 0, 8), b"\x89PNG\r\n\x1a\n")),
        (_JPEG, tf.equal(tf.strings.substr(head, 0, 3), b"\xff\xd8\xff")),
    ]
    for value, matches in checks:
        code = tf.where(matches, value, code)
    return code


RATIOS = (1, 2, 4, 8)


def _le_uint32(contents, offset):
    raw = tf.cast(tf.io.decode_raw(tf.strings.substr(contents, offset, 4), tf.uint8), tf.int64)
    return raw[0] + raw[1] * 256 + raw[2] * 65536 + raw[3] * 16777216


def check_bytes(contents):
    """`(ok, reason)` for encoded bytes, without decoding and without raising.

    ok is False for empty bytes, an unknown format, or a truncated file:
    JPEG must end with its EOI marker, PNG with the IEND chunk, GIF with its
    trailer byte; BMP and WebP must be as long as their header says. Corrupt
    data inside a complete file is left to the decoder.
    """
    contents = tf.convert_to_tensor(contents, tf.string)
    length = tf.strings.length(contents)
    padded = tf.strings.join([contents, b"\0" * 12])
    code = sniff_format(contents)

    def tail(n):
        return tf.strings.substr(padded, tf.maximum(length - n, 0), n)

    def header_length(offset, extra):
        return tf.cond(length >= offset + 4,
                       lambda: tf.equal(_le_uint32(padded, offset) + extra,
                                        tf.cast(length, tf.int64)),
                       lambda: tf.constant(False))

    complete = tf.switch_case(code, [
        lambda: tf.equal(tail(2), b"\xff\xd9"),
        lambda: tf.equal(tail(12), b"\x00\x00\x00\x00IEND\xaeB`\x82"),
        lambda: tf.equal(tail(1), b"\x3b"),
        lambda: header_length(2, 0),
        lambda: header_length(4, 8),
        lambda: tf.constant(False),
    ])
    names = tf.constant([f"truncated {f.upper()} data" for f in FORMATS] + [""])
    reason = tf.where(length == 0, "empty (0 bytes)", tf.where(
        code == _UNKNOWN, "not an image (unknown format; supported: JPEG, PNG, GIF, BMP, "
        "WebP)", tf.where(complete, "", tf.gather(names, code))))
    return tf.logical_and(length > 0, complete), reason


def jpeg_ratio_index(contents, size):
    """Index into RATIOS of the largest DCT scale denominator keeping the decode
    >= `size` in both dimensions."""
    shape = tf.image.extract_jpeg_shape(contents)
    index = tf.constant(0)
    for i, r in enumerate(RATIOS[1:], start=1):
        fits = tf.logical_and(
            # libjpeg rounds the scaled size up.
            (shape[0] + r - 1) // r >= size[0], (shape[1] + r - 1) // r >= size[1])
        index = tf.where(fits, i, index)
    return index


def _to_rgb(image, fill_value):
    """uint8 or uint16 (H, W, 1..4) -> uint8 (H, W, 3)."""
    if image.dtype == tf.uint16:
        # 8-bit sources arrive as x * 257, so this is exact for them.
        image = tf.cast(tf.round(tf.cast(image, tf.float32) * (255.0 / 65535.0)), tf.uint8)
    static = image.shape[-1]

    def composite():
        rgb = tf.cast(image[..., :3], tf.float32)
        alpha = tf.cast(image[..., 3:4], tf.float32) / 255.0
        rgb = rgb * alpha + float(fill_value) * (1.0 - alpha)
        return tf.cast(tf.clip_by_value(tf.round(rgb), 0, 255), tf.uint8)

    def gray_alpha():
        gray = tf.cast(image[..., :1], tf.float32)
        alpha = tf.cast(image[..., 1:2], tf.float32) / 255.0
        value = gray * alpha + float(fill_value) * (1.0 - alpha)
        return tf.tile(tf.cast(tf.clip_by_value(tf.round(value), 0, 255), tf.uint8),
                       [1, 1, 3])

    branches = [lambda: tf.tile(image[..., :1], [1, 1, 3]), gray_alpha,
                lambda: image[..., :3], composite]
    if static is not None:
        return branches[static - 1]()
    return tf.switch_case(tf.shape(image)[-1] - 1, branches)


def decode_image(contents, size=None, fill_value=0.0, name=None):
    """Decodes one encoded image to uint8 `(H, W, 3)`.

    Args:
        contents: scalar `tf.string`, the encoded bytes.
        size: optional `(height, width)` target; enables DCT-domain JPEG
            downscaling that keeps the result at least this large.
        fill_value: background for transparent pixels.
        name: optional text (e.g. a file path) to name the element in errors.

    Raises:
        InvalidArgumentError: empty bytes, unknown format, or bytes the
            decoder rejects (truncated or corrupt), naming the element.
    """
    contents = tf.convert_to_tensor(contents, tf.string)
    label = tf.constant("") if name is None else tf.convert_to_tensor(name)
    if label.dtype != tf.string:
        label = tf.strings.as_string(label)

    def jpeg():
        if size is None:
            return tf.io.decode_jpeg(contents, channels=3)
        return tf.switch_case(jpeg_ratio_index(contents, size), [
            lambda r=r: tf.io.decode_jpeg(contents, channels=3, ratio=r) for r in RATIOS])

    def not_jpeg():
        code = sniff_format(contents)
        length = tf.strings.length(contents)
        checks = [
            tf.debugging.Assert(length > 0,
                                ["Cannot decode image", label, ": empty (0 bytes)."]),
            tf.debugging.Assert(
                tf.logical_or(length == 0, code != _UNKNOWN),
                ["Cannot decode image", label, ": not an image (unknown format; "
                 "supported: JPEG, PNG, GIF, BMP, WebP)."]),
        ]
        with tf.control_dependencies(checks):
            data = tf.identity(contents)

        def png():
            # 8- and 16-bit PNGs; decode_png scales 8-bit data to uint16 by 257 exactly.
            return _to_rgb(tf.io.decode_png(data, channels=0, dtype=tf.uint16), fill_value)

        def other():
            # GIF (first frame), BMP, WebP; native channel count.
            return _to_rgb(tf.io.decode_image(data, channels=0, expand_animations=False),
                           fill_value)

        return tf.cond(tf.equal(code, _PNG), png, other)

    # The hot path (JPEG) is tested with one 3-byte comparison; the format
    # sniffing and its assertions run only for the other formats. Functional
    # control flow and assertions cost per element in tf.data (BUILD_NOTES).
    is_jpeg = tf.equal(tf.strings.substr(contents, 0, 3), b"\xff\xd8\xff")
    image = tf.cond(is_jpeg, jpeg, not_jpeg)
    image.set_shape([None, None, 3])
    return image
