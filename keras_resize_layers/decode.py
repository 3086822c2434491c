"""Decoding encoded images to uint8 RGB, safely, with DCT-domain downscaling for JPEG.

TensorFlow only, graph ops only (no `tf.py_function`), so every function here
runs in `tf.data` (tf.data service workers included) and in an exported
SavedModel.

- Formats: JPEG (baseline, progressive, grayscale, CMYK), PNG (1-16 bit, gray,
  gray+alpha, palette with transparency, RGB, RGBA), GIF (first frame), BMP
  (1/4/8-bit palette, RLE8/RLE4, 24-bit, 32-bit with or without an alpha mask,
  16-bit bit fields; read by this module, not by TF's BMP decoder, which misreads
  them) and WebP (lossy, lossless, alpha; the first frame of an animation,
  rebuilt as a still image because TF's WebP decoder corrupts the heap on
  animations). Bytes after an image's end marker are ignored.
- Grayscale becomes RGB; an alpha channel is composited over `fill_value`.
  EXIF orientation is not applied (as in `tf.io.decode_image`, Pillow's
  `Image.open` and Keras's `load_img`).
- `inspect` reads the header only and never raises: `(ok, reason, height,
  width)`; `decode_image` refuses what `inspect` refuses (naming the
  element) before any decoder runs, so declared sizes above `max_pixels`
  (decompression bombs) never allocate.
"""

import functools
import operator

import tensorflow as tf

from keras_resize_layers import _compat
from keras_resize_layers import _tf  # noqa: F401  (AutoGraph calls this package as written)

__all__ = ["decode_image", "inspect", "reason_of_failure", "sniff_format", "jpeg_ratio_index",
           "FORMATS", "MAX_PIXELS", "RATIOS"]

FORMATS = ("jpeg", "png", "gif", "bmp", "webp")
_JPEG, _PNG, _GIF, _BMP, _WEBP, _UNKNOWN = range(6)  # sniff_format codes
# Pillow's DecompressionBombError threshold (2 x Image.MAX_IMAGE_PIXELS).
MAX_PIXELS = 178_956_970
RATIOS = (1, 2, 4, 8)
_PAD = b"\0" * 64  # read past the end of short inputs without a range error
_BYTES = [bytes([i]) for i in range(256)]


def sniff_format(contents):
    """int32 format code of encoded bytes from their magic number (5 = unknown)."""
    # The first 12 bytes, zero-padded (joining the whole contents would copy them).
    head = tf.strings.substr(tf.strings.join([tf.strings.substr(contents, 0, 12),
                                              b"\0" * 12]), 0, 12)
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


class _Reader:
    """Little- and big-endian integers at byte offsets of a string, as int64;
    offsets past the end read zeros instead of raising. Static offsets within
    the first `HEAD` bytes read from one decoded header vector (few ops:
    decoding graphs stay small, which tf.data pays for per element)."""

    HEAD = 80

    def __init__(self, contents):
        self.contents = contents
        self.length = tf.cast(tf.strings.length(contents), tf.int64)
        self._head_text = tf.strings.join([tf.strings.substr(contents, 0, self.HEAD),
                                           _PAD + _PAD])
        self.head = tf.cast(tf.io.decode_raw(tf.strings.substr(self._head_text, 0, self.HEAD),
                                             tf.uint8), tf.int64)
        self._padded = {}

    @property
    def padded(self):
        # One copy per graph (a cond branch or loop body cannot use another's).
        graph = tf.compat.v1.get_default_graph()
        if graph not in self._padded:
            self._padded[graph] = tf.strings.join([self.contents, _PAD])
        return self._padded[graph]

    def _static(self, offset, n):
        return isinstance(offset, int) and offset + n <= self.HEAD

    def bytes(self, offset, n):
        if self._static(offset, n):
            return self.head[offset:offset + n]
        offset = tf.clip_by_value(tf.cast(offset, tf.int64), 0, self.length)
        raw = tf.io.decode_raw(tf.strings.substr(self.padded, offset, n), tf.uint8)
        return tf.cast(raw, tf.int64)

    def uint(self, offset, n, big_endian=False):
        b = self.bytes(offset, n)
        weights = [256 ** (n - 1 - i) if big_endian else 256 ** i for i in range(n)]
        return tf.reduce_sum(b * tf.constant(weights, tf.int64))

    def int32(self, offset):
        value = self.uint(offset, 4)
        return tf.where(value >= 2 ** 31, value - 2 ** 32, value)

    def text(self, offset, n):
        if self._static(offset, n):
            return tf.strings.substr(self._head_text, offset, n)
        offset = tf.clip_by_value(tf.cast(offset, tf.int64), 0, self.length)
        return tf.strings.substr(self.padded, offset, n)


def _le_bytes(value, n):
    """`n` little-endian bytes of an int64 scalar, as a string."""
    digits = [tf.math.floormod(tf.math.floordiv(value, 256 ** i), 256) for i in range(n)]
    return tf.strings.reduce_join(tf.gather(tf.constant(_BYTES), tf.stack(digits)))


def _jpeg_header(r):
    """(height, width, found) of a JPEG's frame header (SOFn), walking its
    marker segments by their lengths (EXIF thumbnails are skipped whole)."""
    sof = tf.constant([0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                       0xCE, 0xCF], tf.int64)

    def cond(pos, h, w, done):
        return tf.logical_and(tf.logical_not(done), pos + 4 <= r.length)

    def body(pos, h, w, done):
        b = r.bytes(pos, 2)
        marker = b[1]
        broken = tf.not_equal(b[0], 0xFF)
        fill = tf.equal(marker, 0xFF)
        standalone = tf.logical_or(tf.equal(marker, 0x01),
                                   tf.logical_and(marker >= 0xD0, marker <= 0xD8))
        seg = r.uint(pos + 2, 2, big_endian=True)
        is_sof = tf.reduce_any(tf.equal(marker, sof))
        h = tf.where(is_sof, r.uint(pos + 5, 2, True), h)
        w = tf.where(is_sof, r.uint(pos + 7, 2, True), w)
        one, two = tf.constant(1, tf.int64), tf.constant(2, tf.int64)
        step = tf.where(fill, one, tf.where(standalone, two, 2 + tf.maximum(seg, 2)))
        stop = broken | is_sof | tf.equal(marker, 0xDA) | tf.equal(marker, 0xD9)
        return pos + step, h, w, stop

    zero = tf.constant(0, tf.int64)
    _, h, w, _ = tf.while_loop(cond, body, (tf.constant(2, tf.int64), zero, zero,
                                            tf.constant(False)), maximum_iterations=100000)
    return h, w, tf.logical_and(h > 0, w > 0)


def _webp_header(r):
    """(height, width, animated) of a WebP from its first chunk."""
    chunk = r.text(12, 4)
    vp8 = r.uint(26, 2), r.uint(28, 2)
    lossless = r.uint(21, 4)
    h = tf.where(tf.equal(chunk, b"VP8 "), vp8[1] % 16384, tf.where(
        tf.equal(chunk, b"VP8L"), (lossless // 16384) % 16384 + 1,
        tf.where(tf.equal(chunk, b"VP8X"), r.uint(27, 3) + 1, 0)))
    w = tf.where(tf.equal(chunk, b"VP8 "), vp8[0] % 16384, tf.where(
        tf.equal(chunk, b"VP8L"), lossless % 16384 + 1,
        tf.where(tf.equal(chunk, b"VP8X"), r.uint(24, 3) + 1, 0)))
    animated = tf.equal(chunk, b"VP8X") & tf.equal(r.uint(20, 1) // 2 % 2, 1)
    return h, w, animated


def _bmp_fields(r):
    """The BMP header fields the decoder needs (core, info and V4/V5 headers)."""
    header = r.uint(14, 4)
    core = tf.equal(header, 12)
    f = dict(
        header=header,
        offset=r.uint(10, 4),
        width=tf.where(core, r.uint(18, 2), r.int32(18)),
        height=tf.where(core, r.uint(20, 2), r.int32(22)),
        bpp=tf.where(core, r.uint(24, 2), r.uint(28, 2)),
        compression=tf.where(core, tf.constant(0, tf.int64), r.uint(30, 4)),
        colors=tf.where(core, tf.constant(0, tf.int64), r.uint(46, 4)),
        core=core,
    )
    # Bit fields follow a 40-byte header; larger headers hold them at 54.
    masks_at = tf.constant(54, tf.int64)
    f["masks"] = [r.uint(masks_at + 4 * i, 4) for i in range(4)]
    # An alpha mask exists in V4/V5 headers (>= 56 bytes) or with ALPHABITFIELDS.
    f["has_alpha_mask"] = (header >= 56) | tf.equal(f["compression"], 6)
    return f


def _bmp_problem(f, length):
    """'' for a BMP this module decodes, else why not."""
    bpp, comp = f["bpp"], f["compression"]
    supported_bpp = tf.reduce_any(tf.equal(bpp, tf.constant([1, 4, 8, 16, 24, 32], tf.int64)))
    fields = tf.equal(comp, 3) | tf.equal(comp, 6)
    rle = (tf.equal(comp, 1) & tf.equal(bpp, 8)) | (tf.equal(comp, 2) & tf.equal(bpp, 4))
    ok_comp = tf.equal(comp, 0) | rle | (fields & (tf.equal(bpp, 16) | tf.equal(bpp, 32)))
    stride = (tf.abs(f["width"]) * bpp + 31) // 32 * 4
    needed = f["offset"] + tf.where(rle, tf.constant(0, tf.int64), stride * tf.abs(f["height"]))
    return tf.where(
        tf.logical_not(tf.reduce_any(tf.equal(f["header"], tf.constant(
            [12, 40, 52, 56, 64, 108, 124], tf.int64)))),
        "unsupported BMP header", tf.where(
            tf.logical_not(supported_bpp),
            tf.strings.join(["unsupported BMP bit depth (", tf.strings.as_string(bpp),
                             " bits per pixel)"]),
            tf.where(tf.logical_not(ok_comp), tf.strings.join([
                "unsupported BMP compression (", tf.strings.as_string(comp), " with ",
                tf.strings.as_string(bpp), " bits per pixel)"]),
                     tf.where(needed > length, "truncated BMP pixel data", ""))))


def inspect(contents, max_pixels=MAX_PIXELS, jpeg=True):
    """Reads an encoded image's header; never raises, decodes nothing.

    Args:
        contents: scalar `tf.string`.
        max_pixels: largest `height * width` accepted (`None`: no limit).
        jpeg: walk a JPEG's marker segments to its frame header (a loop);
            `decode_image` passes False and reads JPEG sizes with
            `tf.image.extract_jpeg_shape` instead, so that its graph holds no
            loop (loops keep tf.data from lowering the function's control
            flow, which made decoding 8x slower, BUILD_NOTES).

    Returns:
        `(ok, reason, height, width)`: bool, string (empty when ok), and the
        declared int64 size (0 when unknown). ok is False for empty bytes, an
        unknown format, a header too short or inconsistent to give a size, a
        size above `max_pixels`, and BMP variants this module cannot read
        (RLE compression, unusual bit depths). Corrupt data past the header
        is the decoder's to find.
    """
    contents = tf.convert_to_tensor(contents, tf.string)
    r = _Reader(contents)
    code = sniff_format(contents)
    zero = tf.constant(0, tf.int64)

    def bmp():
        f = _bmp_fields(r)
        return tf.abs(f["height"]), tf.abs(f["width"]), _bmp_problem(f, r.length)

    def webp():
        h, w, _ = _webp_header(r)
        return h, w, tf.where(r.uint(4, 4) + 8 > r.length, "truncated WebP data", "")

    def png():
        ihdr = tf.equal(r.text(12, 4), b"IHDR")
        return (tf.where(ihdr, r.uint(20, 4, True), 0), tf.where(ihdr, r.uint(16, 4, True), 0),
                tf.constant(""))

    def gif():
        return r.uint(8, 2), r.uint(6, 2), tf.constant("")

    def jpeg_header():
        if not jpeg:
            return zero, zero, tf.constant("")
        h, w, _ = _jpeg_header(r)
        return h, w, tf.constant("")

    h, w, problem = tf.switch_case(code, [
        jpeg_header, png, gif, bmp, webp, lambda: (zero, zero, tf.constant(""))])
    reason = _reason(r.length, code, h, w, problem, max_pixels)
    return tf.equal(tf.strings.length(reason), 0), reason, h, w


_NAMES = [f.upper() if f != "webp" else "WebP" for f in FORMATS]


def _reason(length, code, h, w, problem, max_pixels):
    """The refusal reason ('' when fine) from a header's fields."""
    name = tf.gather(tf.constant(_NAMES + [""]), code)
    limit = tf.constant(-1 if max_pixels is None else int(max_pixels), tf.int64)
    size = tf.strings.join([tf.strings.as_string(h), "x", tf.strings.as_string(w)])
    return tf.where(
        length == 0, "empty (0 bytes)", tf.where(
            code == _UNKNOWN, "not an image (unknown format; supported: JPEG, PNG, GIF, BMP, "
            "WebP)", tf.where(
                tf.strings.length(problem) > 0, problem, tf.where(
                    (h <= 0) | (w <= 0),
                    tf.strings.join(["truncated or corrupt ", name, " header (no image size)"]),
                    tf.where((limit >= 0) & (h * w > limit), tf.strings.join([
                        name, " of ", size, " pixels exceeds max_pixels=",
                        tf.strings.as_string(limit), " (decompression bomb guard)"]), "")))))


def jpeg_ratio_index(contents, size, shape=None):
    """Index into RATIOS of the largest DCT scale denominator keeping the decode
    >= `size` in both dimensions (`shape`: the JPEG's, when already read)."""
    if shape is None:
        shape = tf.image.extract_jpeg_shape(contents)
    return _ratio_index(shape[:2], size)


def _static_size(size):
    """`size` as two Python ints when known while tracing, else None."""
    if tf.is_tensor(size):
        size = tf.get_static_value(size)
        if size is None:
            return None
    try:
        return [operator.index(t) for t in size]
    except TypeError:
        return None


def _ratio_index(hw, size):
    """`jpeg_ratio_index` from the header's `(height, width)`."""
    static = _static_size(size)
    if static is not None:
        # libjpeg rounds the scaled side up: ceil(h / r) >= t  <=>  (h - 1) // (t - 1) >= r,
        # so one division per side, the smaller quotient, and its bucket among 2, 4, 8
        # (four ops: tf.data pays per op and element, ~2.5 us each; BUILD_NOTES). A side
        # of target 1 fits at every ratio: its quotient is made >= 8.
        offset = tf.constant([-1 if t > 1 else 7 for t in static], hw.dtype)
        divisor = tf.constant([max(t - 1, 1) for t in static], hw.dtype)
        quotient = tf.reduce_min((hw + offset) // divisor)
        return tf.raw_ops.Bucketize(input=quotient, boundaries=[float(r) for r in RATIOS[1:]])
    # A size given as a tensor: all ratios at once; fitting is monotone in the ratio.
    ratios = tf.constant([[r] for r in RATIOS[1:]], hw.dtype)
    scaled = (hw[None] + ratios - 1) // ratios
    fits = tf.reduce_all(scaled >= tf.cast(tf.reshape(size, [1, 2]), hw.dtype), axis=1)
    return tf.reduce_sum(tf.cast(fits, tf.int32))


def _to_rgb(image, fill_value):
    """uint8 or uint16 (H, W, 1..4) -> uint8 (H, W, 3)."""
    if image.dtype == tf.uint16:
        # 8-bit sources arrive as x * 257, so this is exact for them.
        image = tf.cast(tf.round(tf.cast(image, tf.float32) * (255.0 / 65535.0)), tf.uint8)
    static = image.shape[-1]

    def composite(color, alpha):
        alpha = tf.cast(alpha, tf.float32) / 255.0
        out = tf.cast(color, tf.float32) * alpha + float(fill_value) * (1.0 - alpha)
        return tf.cast(tf.clip_by_value(tf.round(out), 0, 255), tf.uint8)

    branches = [lambda: tf.tile(image[..., :1], [1, 1, 3]),
                lambda: tf.tile(composite(image[..., :1], image[..., 1:2]), [1, 1, 3]),
                lambda: image[..., :3],
                lambda: composite(image[..., :3], image[..., 3:4])]
    if static is not None:
        return branches[static - 1]()
    return tf.switch_case(tf.shape(image)[-1] - 1, branches)


def _decode_bmp(contents, fill_value):
    """BMP -> uint8 (H, W, 3), as Pillow reads it: palette colours for 1/4/8
    bits (stored or RLE8/RLE4-compressed), the 4th byte of 32-bit BI_RGB ignored
    (reserved), alpha only with a declared alpha mask, bit fields scaled to
    0..255. Two vectorised paths (palette, direct) keep the graph small."""
    r = _Reader(contents)
    f = _bmp_fields(r)
    width, height, bpp = tf.abs(f["width"]), tf.abs(f["height"]), f["bpp"]
    x = tf.range(width, dtype=tf.int64)

    def stored_rows():
        stride = (width * bpp + 31) // 32 * 4
        rows = tf.reshape(r.bytes(f["offset"], stride * height), tf.stack([height, stride]))
        return tf.cond(f["height"] > 0, lambda: tf.reverse(rows, [0]), lambda: rows)

    def unpacked():
        bits = x * bpp
        byte = tf.gather(stored_rows(), bits // 8, axis=1)
        return tf.bitwise.right_shift(byte, 8 - bpp - bits % 8) % tf.bitwise.left_shift(
            tf.constant(1, tf.int64), bpp)

    def palette():
        index = tf.cond(tf.equal(f["compression"], 0), unpacked,
                        lambda: _rle_indices(contents))
        entry = tf.where(f["core"], tf.constant(3, tf.int64), 4)
        count = tf.where(f["colors"] > 0, f["colors"], tf.bitwise.left_shift(
            tf.constant(1, tf.int64), bpp))
        table = tf.reshape(r.bytes(14 + f["header"], entry * count),
                           tf.stack([count, entry]))[:, 2::-1]
        return tf.cast(tf.gather(table, tf.minimum(index, count - 1)), tf.uint8)

    def direct():
        nbytes = bpp // 8
        k = tf.range(4, dtype=tf.int64)
        columns = x[:, None] * nbytes + tf.minimum(k, nbytes - 1)
        weights = tf.where(k < nbytes, tf.bitwise.left_shift(tf.constant(1, tf.int64), 8 * k), 0)
        px = tf.reduce_sum(tf.gather(stored_rows(), columns, axis=1) * weights, -1)
        fields = tf.equal(f["compression"], 3) | tf.equal(f["compression"], 6)
        sixteen = tf.equal(bpp, 16)
        default = [tf.where(sixteen, tf.constant(m16, tf.int64), m32)
                   for m16, m32 in ((0x7C00, 0xFF0000), (0x3E0, 0xFF00), (0x1F, 0xFF))]
        masks = [tf.where(fields, m, d) for m, d in zip(f["masks"][:3], default)]
        alpha_mask = tf.where(f["has_alpha_mask"] & fields, f["masks"][3], 0)
        rgba = tf.cast(tf.stack([_mask_channel(px, m) for m in masks + [alpha_mask]], -1),
                       tf.uint8)
        return tf.cond(alpha_mask > 0, lambda: _to_rgb(rgba, fill_value),
                       lambda: rgba[..., :3])

    image = tf.cond(bpp <= 8, palette, direct)
    return tf.reshape(image, tf.stack([height, width, 3]))


_RLE_STEPS = 32  # pointer-doubling rounds: follows command chains of up to 2**32 steps


@tf.function(autograph=False, input_signature=[tf.TensorSpec([], tf.string)])
def _rle_indices(contents):
    """Palette indices (height, width), top row first, of an RLE8 or RLE4 BMP, as
    Pillow decodes it: a flat stream of indices in which a run emits `count`
    copies (RLE4: two alternating nibbles), an absolute run its literal indices
    (then the file position aligned to 2 bytes), end of line pads with index 0 to
    the next multiple of the width, a delta skips `dx + dy * width` pixels, end of
    bitmap stops; pixels never written are index 0 (Pillow refuses a stream that
    ends early, the format allows it). Data that ends before the end-of-bitmap mark
    with pixels left, or a run that Pillow would cut at the end of its row (a
    malformed stream), raises `InvalidArgumentError` saying which.

    No loop (loops slow every tf.data decoding graph, BUILD_NOTES): the command
    chain is found for all byte positions at once by pointer doubling. One function
    traced once per process: the decoding graphs that hold it only call it."""
    r = _Reader(contents)
    f = _bmp_fields(r)
    width, height = tf.abs(f["width"]), tf.abs(f["height"])
    rle4 = tf.equal(f["compression"], 2)
    start = f["offset"]
    data = r.bytes(start, tf.maximum(r.length - start, 0))
    n = tf.size(data, out_type=tf.int64)
    padded = tf.concat([data, tf.zeros([4], tf.int64)], 0)
    pos = tf.range(n)
    first, second = tf.gather(padded, pos), tf.gather(padded, pos + 1)
    literal_bytes = tf.where(rle4, (second + 1) // 2, second)
    after_literal = pos + 2 + literal_bytes
    after_literal += (start + after_literal) % 2  # word-aligned in the file
    following = tf.where(first > 0, pos + 2, tf.where(
        tf.equal(second, 0), pos + 2, tf.where(
            tf.equal(second, 1), n, tf.where(tf.equal(second, 2), pos + 4, after_literal))))
    following = tf.where(pos + 2 <= n, tf.minimum(following, n), n)
    # Positions reached from 0: after round k, those within 2**k commands.
    jump = tf.concat([following, [n]], 0)
    reached = tf.cast(tf.equal(tf.range(n + 1), 0), tf.int32)
    for _ in range(_RLE_STEPS):
        reached = tf.maximum(reached, tf.math.unsorted_segment_max(reached, jump, n + 1))
        jump = tf.gather(jump, jump)
    at = tf.where((reached[:-1] > 0) & (pos + 2 <= n))[:, 0]
    a, b = tf.gather(first, at), tf.gather(second, at)
    run, escape = a > 0, tf.equal(a, 0)
    eol = escape & tf.equal(b, 0)
    delta = escape & tf.equal(b, 2) & (at + 4 <= n)
    literal = escape & (b >= 3)
    available = tf.where(rle4, 2 * (n - at - 2), n - at - 2)
    count = tf.where(run, a, tf.where(literal, tf.minimum(b, available), 0))
    dx, dy = tf.gather(padded, at + 2), tf.gather(padded, at + 3)
    advance = count + tf.where(delta, dx + dy * width, 0)
    # End of line pads to the next multiple of the width: after the previous one
    # the stream sat on a multiple, so its pad depends only on what came since.
    before = tf.cumsum(advance, exclusive=True)
    since = tf.gather(before, tf.where(eol)[:, 0])
    pad_at_eol = -(since - tf.concat([[0], since[:-1]], 0)) % width
    pad = tf.scatter_nd(tf.where(eol), pad_at_eol, tf.shape(advance, out_type=tf.int64))
    length = before + tf.cumsum(pad, exclusive=True)  # stream length before each command
    # Pillow's column: from the last end of line or delta, without wrapping.
    resync = eol | delta
    synced = tf.concat([[0], tf.gather(length + pad + tf.where(delta, advance, 0),
                                       tf.where(resync)[:, 0])], 0)
    segment = tf.cumsum(tf.cast(resync, tf.int64), exclusive=True)
    column = length - tf.gather(synced, segment) // width * width
    total = width * height
    cut = run & (length < total) & (column + a > width)
    ended = tf.reduce_any(escape & tf.equal(b, 1))
    filled = tf.reduce_max(tf.concat([length + advance + pad, [0]], 0)) >= total
    checks = [tf.debugging.Assert(tf.logical_not(tf.reduce_any(cut)), [
        "BMP RLE run past the end of its row at byte", tf.gather(at, tf.argmax(
            tf.cast(cut, tf.int32))) + start]),
        tf.debugging.Assert(ended | filled, [
            "truncated BMP RLE data: it ends before the end-of-bitmap mark"])]
    # Every pixel written inside the image (runs are disjoint stretches of the
    # stream; what lies past its end is never made): its command, its place in
    # the run, its value.
    written = tf.minimum(count, tf.maximum(total - length, 0))
    which = tf.repeat(tf.range(tf.size(at, out_type=tf.int64)), written)
    offset = tf.range(tf.size(which, out_type=tf.int64)) - tf.gather(
        tf.cumsum(written, exclusive=True), which)
    is_literal = tf.gather(literal, which)
    source = tf.where(is_literal, tf.gather(at, which) + 2 + tf.where(rle4, offset // 2, offset),
                      tf.gather(at, which) + 1)
    byte = tf.gather(padded, source)
    value = tf.where(rle4, tf.where(offset % 2 == 0, byte // 16, byte % 16), byte)
    with tf.control_dependencies(checks):
        flat = tf.scatter_nd((tf.gather(length, which) + offset)[:, None], value,
                             tf.reshape(total, [1]))
    rows = tf.reshape(flat, tf.stack([height, width]))
    return tf.cond(f["height"] > 0, lambda: tf.reverse(rows, [0]), lambda: rows)


def _mask_channel(px, mask):
    """`(px & mask)` shifted down and scaled to 0..255 as Pillow does
    (`value * 255 // mask_max`, exact for 8-bit fields); 0 for mask 0."""
    mask = tf.cast(mask, tf.int64)
    low = tf.maximum(tf.bitwise.bitwise_and(mask, -mask), 1)  # lowest set bit
    top = tf.maximum(mask // low, 1)
    value = tf.bitwise.bitwise_and(px, mask) // low
    return tf.where(mask > 0, value * 255 // top, 0)


def _webp_first_frame(contents):
    """A still WebP holding the first frame of an animated one, and the frame's
    (y, x, height, width) on the canvas."""
    r = _Reader(contents)
    # The first ANMF chunk (after VP8X, ANIM and optional ICCP/EXIF/XMP).
    before = tf.strings.split(contents, sep="ANMF", maxsplit=1)
    at = tf.where(tf.size(before) > 1,
                  tf.cast(tf.strings.length(before[0]), tf.int64), tf.constant(-1, tf.int64))
    checks = [tf.debugging.Assert(at >= 0, ["animated WebP without an ANMF frame chunk"])]
    with tf.control_dependencies(checks):
        at = tf.identity(at)
    size = r.uint(at + 4, 4)
    x, y = r.uint(at + 8, 3) * 2, r.uint(at + 11, 3) * 2
    w, h = r.uint(at + 14, 3) + 1, r.uint(at + 17, 3) + 1
    frame = r.text(at + 24, size - 16)
    # ALPH (lossy + alpha) and VP8L (lossless) frames may carry alpha.
    alpha = tf.equal(tf.strings.substr(frame, 0, 4), b"ALPH") | tf.equal(
        tf.strings.substr(frame, 0, 4), b"VP8L")
    vp8x = tf.strings.join([
        b"VP8X", _le_bytes(tf.constant(10, tf.int64), 4),
        tf.where(alpha, b"\x10", b"\x00"), b"\0\0\0", _le_bytes(w - 1, 3), _le_bytes(h - 1, 3)])
    body_bytes = tf.strings.join([b"WEBP", vp8x, frame])
    still = tf.strings.join([b"RIFF", _le_bytes(tf.cast(tf.strings.length(body_bytes),
                                                        tf.int64), 4), body_bytes])
    return still, (y, x, h, w), (r.uint(27, 3) + 1, r.uint(24, 3) + 1)


def _decode_webp(contents, fill_value):
    r = _Reader(contents)
    _, _, animated = _webp_header(r)

    def still():
        return _to_rgb(tf.io.decode_webp(contents)[0], fill_value)

    def first_frame():
        data, (y, x, h, w), (canvas_h, canvas_w) = _webp_first_frame(contents)
        image = tf.io.decode_webp(data)[0]
        opaque = tf.fill(tf.concat([tf.shape(image)[:2], [1]], 0), tf.constant(255, tf.uint8))
        image = tf.concat([image[..., :3], tf.cond(tf.shape(image)[-1] > 3,
                                                   lambda: image[..., 3:4], lambda: opaque)], -1)
        # Frames smaller than the canvas sit on a transparent background.
        pads = tf.cast(tf.stack([[y, canvas_h - y - h], [x, canvas_w - x - w], [0, 0]]),
                       tf.int32)
        return _to_rgb(tf.ensure_shape(tf.pad(image, tf.maximum(pads, 0)), [None, None, 4]),
                       fill_value)

    return tf.cond(animated, first_frame, still)


def _decode_rare(contents, fill_value, label, limit):
    """BMP and animated WebP, after `inspect`'s checks."""
    ok, reason, _, _ = inspect(contents, limit, jpeg=False)
    with tf.control_dependencies([tf.debugging.Assert(
            ok, ["Cannot decode image", label, ":", reason])]):
        data = tf.identity(contents)
    image = tf.cond(tf.equal(sniff_format(data), _BMP), lambda: _decode_bmp(data, fill_value),
                    lambda: _decode_webp(data, fill_value))
    image.set_shape([None, None, 3])
    return image


@functools.lru_cache(maxsize=None)
def _rare_decoder(fill_value, limit):
    """`_decode_rare` traced once per setting and process: eager calls run it, graphs
    (tf.data maps, serving signatures) call it as a function, which runs only when a rare
    file arrives."""
    return tf.function(lambda contents, label: _decode_rare(contents, fill_value, label, limit),
                       autograph=False, input_signature=[tf.TensorSpec([], tf.string)] * 2)


def _label(name):
    """`name` as a string tensor for error messages ("" when None)."""
    label = tf.constant("") if name is None else tf.convert_to_tensor(name)
    return label if label.dtype == tf.string else tf.strings.as_string(label)


def jpeg_shape(contents, name=None, max_pixels=MAX_PIXELS):
    """A JPEG header's `(height, width, channels)` (int32); with `max_pixels`, an image
    larger than that is refused, naming `name` (the decompression bomb guard)."""
    shape = tf.image.extract_jpeg_shape(contents)
    if max_pixels is None:
        return shape
    wide = tf.cast(shape[:2], tf.int64)
    check = _jpeg_bomb_assert(tf.reduce_prod(wide) <= int(max_pixels), _label(name), wide,
                              int(max_pixels))
    with tf.control_dependencies([check]):
        return tf.identity(shape)


def _jpeg_bomb_assert(condition, label, hw, limit):
    """The decompression bomb guard's refusal of a JPEG of `hw` pixels, naming `label`."""
    return tf.debugging.Assert(condition, [
        "Cannot decode image", label, ": JPEG of (height, width)", hw,
        f"pixels exceeds max_pixels={limit} (decompression bomb guard)."])


def decode_image(contents, size=None, fill_value=0.0, name=None, max_pixels=MAX_PIXELS):
    """Decodes one encoded image to uint8 `(H, W, 3)`.

    Args:
        contents: scalar `tf.string`, the encoded bytes.
        size: optional `(height, width)` target; enables DCT-domain JPEG
            downscaling that keeps the result at least this large.
        fill_value: background for transparent pixels.
        name: optional text (e.g. a file path) to name the element in errors.
        max_pixels: largest declared `height * width` decoded (default
            `MAX_PIXELS`, Pillow's decompression-bomb limit); `None`: no limit.

    Raises:
        InvalidArgumentError: what `inspect` refuses (empty, unknown format,
            broken header, too many pixels), naming the element; bytes the
            decoder rejects (truncated or corrupt data) raise the decoder's
            own error. `data.decode_images` and serving catch both per element.
    """
    contents = tf.convert_to_tensor(contents, tf.string)
    label = _label(name)
    limit = None if max_pixels is None else int(max_pixels)

    def jpeg():
        if limit is None and size is None:
            return tf.io.decode_jpeg(contents, channels=3)
        # The header, parsed once for the DCT ratio and the decompression bomb guard; both
        # pick a branch of one `Case` (no Assert on the hot path: tf.data pays per op).
        hw = tf.image.extract_jpeg_shape(contents, output_type=tf.int64)[:2]
        branches = [lambda r=r: tf.io.decode_jpeg(contents, channels=3, ratio=r)
                    for r in (RATIOS if size is not None else RATIOS[:1])]
        index = tf.constant(0) if size is None else _ratio_index(hw, size)
        if limit is not None:
            def refuse():
                with tf.control_dependencies([_jpeg_bomb_assert(False, label, hw, limit)]):
                    return tf.zeros([0, 0, 3], tf.uint8)

            index = tf.where(tf.reduce_prod(hw) > limit, len(branches), index)
            branches.append(refuse)
        return tf.switch_case(index, branches)

    def not_jpeg():
        # PNG, GIF and still WebP: a few header reads and TF's decoders. BMP
        # and animated WebP (this module's own readers, large graphs) run in
        # a function of their own, traced once per process: their ops are not
        # part of every element's function (tf.data's per-element cost grows
        # with the graph: 8x for JPEGs when they were inline, BUILD_NOTES) nor
        # of every pipeline's trace.
        r = _Reader(contents)
        code = sniff_format(contents)
        webp_h, webp_w, animated = _webp_header(r)
        rare = tf.equal(code, _BMP) | (tf.equal(code, _WEBP) & animated)

        def common():
            png = tf.equal(code, _PNG)
            h = tf.where(png, r.uint(20, 4, True), tf.where(tf.equal(code, _GIF), r.uint(8, 2),
                                                             webp_h))
            w = tf.where(png, r.uint(16, 4, True), tf.where(tf.equal(code, _GIF), r.uint(6, 2),
                                                             webp_w))
            h = tf.where(png & tf.not_equal(r.text(12, 4), b"IHDR"), tf.constant(0, tf.int64), h)
            reason = _reason(r.length, code, h, w, tf.constant(""), limit)
            with tf.control_dependencies([tf.debugging.Assert(
                    tf.equal(tf.strings.length(reason), 0),
                    ["Cannot decode image", label, ":", reason])]):
                data = tf.identity(contents)

            def png_image():
                return tf.cond(
                    tf.equal(r.uint(24, 1), 16),
                    lambda: _to_rgb(tf.io.decode_png(data, channels=0, dtype=tf.uint16),
                                    fill_value),
                    lambda: _to_rgb(tf.io.decode_png(data, channels=0), fill_value))

            return tf.switch_case(code - _PNG, [
                png_image, lambda: tf.io.decode_gif(data)[0],
                lambda: _to_rgb(tf.io.decode_webp(data)[0], fill_value)])

        def rare_formats():
            if isinstance(fill_value, (int, float)):
                # Traced once per process, not once per pipeline built (~0.7 s each).
                return _rare_decoder(float(fill_value), limit)(contents, label)
            return tf.data.Dataset.from_tensors(contents).map(
                lambda c: _decode_rare(c, fill_value, label, limit)).get_single_element()

        return tf.cond(rare, rare_formats, common)

    # The hot path (JPEG) is tested with one 3-byte comparison; the format
    # sniffing and its assertions run only for the other formats, in a branch
    # kept functional (not lowered to Switch/Merge, whose untaken branch costs
    # per element in a plain `Dataset.map`; BUILD_NOTES).
    is_jpeg = tf.equal(tf.strings.substr(contents, 0, 3), b"\xff\xd8\xff")
    image = _compat.unlowered_cond(is_jpeg, jpeg, not_jpeg)
    image.set_shape([None, None, 3])
    return image


def reason_of_failure(contents, max_pixels=MAX_PIXELS):
    """Why an element failed: `inspect`'s reason, or for a header that looked
    fine, that the format's decoder rejected the data."""
    ok, reason, _, _ = inspect(contents, max_pixels)
    name = tf.gather(tf.constant(_NAMES + ["image"]), sniff_format(contents))
    return tf.where(ok, tf.strings.join([
        "the ", name, " decoder rejected the data (truncated or corrupt)"]), reason)
