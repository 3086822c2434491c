"""A corpus of encoded files as phones, scanners and web uploads produce them.

Pillow writes each variant it can; the others (16-bit RGB PNG, 4-bit, 16-bit,
top-down, alpha-mask and RLE BMPs, declared-size bombs, corrupt data) are
built byte by byte here. Each kind carries the pixels an independent decoder
gives (Pillow, or the source array for formats Pillow reads lossily) and the
tolerance: exact for lossless formats, mean <= 2 grey levels for JPEG and
lossy WebP.
"""

import io
import struct
import zlib

import numpy as np
from PIL import Image


class Kind:
    def __init__(self, name, data, expected=None, tolerance=0.0, reason=None):
        self.name, self.data, self.expected = name, data, expected
        self.tolerance = tolerance  # max mean absolute difference, 0 = exact
        self.reason = reason  # substring of the refusal reason, for bad kinds

    @property
    def good(self):
        return self.expected is not None


def _save(image, fmt, **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def pillow_rgb(data, fill_value=0.0):
    """Pillow's decode of the first frame, alpha composited as decode_image does."""
    image = Image.open(io.BytesIO(data))
    image.seek(0)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if not has_alpha:
        return np.asarray(image.convert("RGB"))
    rgba = np.asarray(image.convert("RGBA")).astype(np.float32)
    alpha = rgba[..., 3:] / np.float32(255.0)
    out = rgba[..., :3] * alpha + np.float32(fill_value) * (np.float32(1.0) - alpha)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _png_chunk(kind, payload):
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def png_bytes(array, bit_depth, color_type, width=None, height=None):
    """A PNG written by hand (16-bit RGB, which Pillow cannot write; bombs)."""
    h, w = array.shape[:2]
    dtype = ">u2" if bit_depth == 16 else "u1"
    raw = b"".join(b"\0" + row.astype(dtype).tobytes() for row in array.reshape(h, w, -1))
    ihdr = struct.pack(">IIBBBBB", width or w, height or h, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(raw)) + _png_chunk(b"IEND", b""))


def bmp_bytes(rows, bpp, width, height, palette=None, compression=0, masks=None,
              header=40, top_down=False):
    """A BMP from already packed, padded rows (bottom-up unless `top_down`)."""
    masks_bytes = b"" if masks is None else struct.pack("<" + "I" * len(masks), *masks)
    table = b"" if palette is None else b"".join(bytes([b, g, r, 0]) for r, g, b in palette)
    info = struct.pack("<IiiHHIIiiII", header, width, -height if top_down else height, 1, bpp,
                       compression, len(rows), 2835, 2835,
                       0 if palette is None else len(palette), 0)
    if header > 40:
        info += masks_bytes.ljust(header - 40, b"\0")
    elif masks is not None:
        info += masks_bytes
    offset = 14 + len(info) + len(table)
    return (b"BM" + struct.pack("<IHHI", offset + len(rows), 0, 0, offset) + info + table
            + rows)


def rle_bytes(indices, rle4=False):
    """An RLE8 (or RLE4) stream of palette indices (top row first), as Windows and
    GIMP write them: runs of repeats, absolute runs (word-aligned) between them, an
    end of line after each row (stored bottom-up) and an end of bitmap."""
    out = bytearray()
    for row in indices[::-1].tolist():
        i = 0
        while i < len(row):
            same = 1
            while i + same < len(row) and same < 255 and row[i + same] == row[i]:
                same += 1
            if same >= 3 or len(row) - i < 3:
                out += bytes([same, row[i] * 17 if rle4 else row[i]])
                i += same
                continue
            end = i + 3
            while end < len(row) and end - i < 254 and not (
                    end + 2 < len(row) and row[end] == row[end + 1] == row[end + 2]):
                end += 1
            literal = row[i:end]
            if rle4:
                packed = bytes(16 * literal[k] + (literal[k + 1] if k + 1 < len(literal) else 0)
                               for k in range(0, len(literal), 2))
            else:
                packed = bytes(literal)
            out += bytes([0, len(literal)]) + packed + b"\0" * (len(packed) % 2)
            i = end
        out += b"\0\0"
    return bytes(out + b"\0\1")


def _pad_rows(rows):
    stride = (len(rows[0]) + 3) // 4 * 4
    return b"".join(bytes(r).ljust(stride, b"\0") for r in rows)


def build(seed=0):
    """Every kind: a list of `Kind`."""
    rng = np.random.default_rng(seed)
    from skimage import data as skdata

    photo = skdata.chelsea()[60:140, 120:230]  # 80 x 110, a real photo
    h, w = photo.shape[:2]
    gray = photo[..., 0]
    alpha = np.tile(np.linspace(0, 255, w).astype(np.uint8), (h, 1))
    rgba = np.dstack([photo, alpha])
    pil = Image.fromarray(photo)
    kinds = []

    def good(name, data, tolerance=0.0, expected=None):
        kinds.append(Kind(name, data, pillow_rgb(data) if expected is None else expected,
                          tolerance))

    def bad(name, data, reason):
        kinds.append(Kind(name, data, None, reason=reason))

    # JPEG
    jpeg = _save(pil, "JPEG", quality=90)
    good("JPEG baseline", jpeg, 2.0)
    good("JPEG progressive", _save(pil, "JPEG", quality=90, progressive=True), 2.0)
    good("JPEG 4:4:4", _save(pil, "JPEG", quality=95, subsampling=0), 2.0)
    good("JPEG quality 20", _save(pil, "JPEG", quality=20), 2.0)
    good("JPEG grayscale", _save(Image.fromarray(gray), "JPEG"), 2.0)
    good("JPEG CMYK", _save(pil.convert("CMYK"), "JPEG", quality=95), 2.0)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90; decoders return the stored pixels
    good("JPEG with EXIF orientation 6", _save(pil, "JPEG", exif=exif.tobytes()), 2.0)
    good("JPEG + trailing bytes (motion photo)", jpeg + b"\0\0\0\x18ftypmp42" + bytes(200), 2.0)
    # PNG
    png = _save(pil, "PNG")
    good("PNG RGB 8-bit", png)
    good("PNG RGBA 8-bit", _save(Image.fromarray(rgba), "PNG"))
    good("PNG gray 8-bit", _save(Image.fromarray(gray), "PNG"))
    good("PNG gray+alpha", _save(Image.fromarray(np.dstack([gray, alpha]), "LA"), "PNG"))
    good("PNG palette", _save(pil.convert("P"), "PNG"))
    palette = pil.convert("P")
    good("PNG palette + transparency", _save(palette, "PNG", transparency=0))
    good("PNG gray 1-bit", _save(pil.convert("1"), "PNG"))
    gray16 = rng.integers(0, 65536, (h, w), dtype=np.uint16)
    expected16 = np.round(gray16.astype(np.float32) * np.float32(255 / 65535)).astype(np.uint8)
    good("PNG gray 16-bit", png_bytes(gray16, 16, 0),
         expected=np.repeat(expected16[..., None], 3, -1))
    rgb16 = rng.integers(0, 65536, (h, w, 3), dtype=np.uint16)
    good("PNG RGB 16-bit", png_bytes(rgb16, 16, 2), expected=np.round(
        rgb16.astype(np.float32) * np.float32(255 / 65535)).astype(np.uint8))
    good("PNG + trailing bytes", png + b"trailing data" * 20)
    # GIF
    gif = _save(pil, "GIF")
    good("GIF", gif)
    frames = [Image.fromarray(np.roll(photo, 7 * i, axis=1)) for i in range(3)]
    good("GIF animated (first frame)", _save(frames[0], "GIF", save_all=True,
                                            append_images=frames[1:], duration=50, loop=0))
    good("GIF + trailing bytes", gif + b"junk" * 10)
    # BMP
    good("BMP 24-bit", _save(pil, "BMP"))
    bgrx = [np.column_stack([photo[y, :, ::-1], np.zeros(w, np.uint8)]).tobytes()
            for y in range(h - 1, -1, -1)]
    good("BMP 32-bit, reserved byte 0", bmp_bytes(b"".join(bgrx), 32, w, h), expected=photo)
    bgra = [np.column_stack([rgba[y, :, 2::-1], rgba[y, :, 3]]).tobytes() for y in range(h - 1, -1, -1)]
    good("BMP 32-bit with alpha mask (V5)",
         bmp_bytes(b"".join(bgra), 32, w, h, compression=3, header=124,
                   masks=[0xFF0000, 0xFF00, 0xFF, 0xFF000000]))
    good("BMP 8-bit palette", _save(pil.convert("P"), "BMP"))
    good("BMP 8-bit gray", _save(Image.fromarray(gray), "BMP"))
    good("BMP 1-bit", _save(pil.convert("1"), "BMP"))
    index4 = (gray // 16).astype(np.uint8)
    colors16 = [tuple(int(v) for v in rng.integers(0, 256, 3)) for _ in range(16)]
    rows4 = [bytes((int(a) << 4) | int(b) for a, b in zip(r[0::2], np.append(r[1::2], 0)[
        :len(r[0::2])])) for r in index4[::-1]]
    good("BMP 4-bit palette", bmp_bytes(_pad_rows(rows4), 4, w, h, palette=colors16),
         expected=np.array(colors16, np.uint8)[index4])
    rows24 = [photo[y, :, ::-1].tobytes() for y in range(h)]
    good("BMP 24-bit top-down", bmp_bytes(_pad_rows(rows24), 24, w, h, top_down=True),
         expected=photo)
    rgb565 = ((photo[..., 0].astype(np.uint16) >> 3) << 11) | (
        (photo[..., 1].astype(np.uint16) >> 2) << 5) | (photo[..., 2].astype(np.uint16) >> 3)
    rows16 = [rgb565[y].astype("<u2").tobytes() for y in range(h - 1, -1, -1)]
    good("BMP 16-bit 5:6:5 bit fields",
         bmp_bytes(_pad_rows(rows16), 16, w, h, compression=3, masks=[0xF800, 0x7E0, 0x1F]))
    good("BMP + trailing bytes", _save(pil, "BMP") + b"\0" * 50)
    # WebP
    good("WebP lossy", _save(pil, "WEBP", quality=90), 2.0)
    good("WebP lossless", _save(pil, "WEBP", lossless=True))
    good("WebP lossy + alpha", _save(Image.fromarray(rgba), "WEBP", quality=90), 2.0)
    good("WebP lossless + alpha", _save(Image.fromarray(rgba), "WEBP", lossless=True))
    for n, lossless in ((2, True), (3, False)):
        anim = _save(frames[0], "WEBP", save_all=True, append_images=frames[1:n],
                     lossless=lossless, quality=90, duration=50)
        good(f"WebP animated, {n} frames (first frame)", anim, 0.0 if lossless else 2.0)
    good("WebP + trailing bytes", _save(pil, "WEBP", lossless=True) + b"\0" * 40)

    # Bad kinds: refused with a reason, never a crash.
    bad("empty", b"", "empty")
    bad("text file", b"hello, this is not an image\n" * 4, "not an image")
    bad("HTML error page", b"<!DOCTYPE html><html><body>404</body></html>", "not an image")
    bad("JPEG truncated", jpeg[: len(jpeg) // 2], "decoder rejected")
    bad("JPEG header only", jpeg[:200], "decoder rejected")
    bad("JPEG start marker + garbage", b"\xff\xd8\xff" + rng.bytes(500), "JPEG")
    sof = jpeg.find(b"\xff\xc0")
    bomb = bytearray(jpeg)
    bomb[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)
    bad("JPEG declaring 60000x60000", bytes(bomb), "max_pixels")
    bad("PNG truncated", png[: len(png) // 2], "decoder rejected")
    crc = bytearray(png)
    idat = png.find(b"IDAT")
    crc[idat + 40] ^= 0xFF
    bad("PNG with a bad CRC", bytes(crc), "decoder rejected")
    bad("PNG declaring 60000x60000",
        png_bytes(np.zeros((1, 1, 3), np.uint8), 8, 2, width=60000, height=60000), "max_pixels")
    bad("PNG header only", png[:30], "decoder rejected")
    bad("GIF truncated", gif[: len(gif) // 2], "decoder rejected")
    bmp = _save(pil, "BMP")
    bad("BMP truncated", bmp[: len(bmp) // 2], "truncated BMP")
    quantized = pil.quantize(256)
    colours = np.array(quantized.getpalette()[:768]).reshape(-1, 3)
    good("BMP RLE8", bmp_bytes(rle_bytes(np.asarray(quantized)), 8, w, h,
                               palette=[tuple(c) for c in colours], compression=1))
    quantized = pil.quantize(16)
    colours = np.array(quantized.getpalette()[:48]).reshape(-1, 3)
    good("BMP RLE4", bmp_bytes(rle_bytes(np.asarray(quantized), rle4=True), 4, w, h,
                               palette=[tuple(c) for c in colours], compression=2))
    bad("BMP RLE8 run past the end of its row", bmp_bytes(
        bytes([w + 5, 1, 0, 1]), 8, w, h, palette=[(0, 0, 0), (9, 9, 9)], compression=1),
        "decoder rejected")
    webp = _save(pil, "WEBP", quality=90)
    bad("WebP truncated", webp[: len(webp) // 2], "truncated WebP")
    return kinds
