"""Real photos shipped by scikit-image, at any size, and encoded as JPEG."""

import io

import numpy as np

PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")


def load(name):
    from skimage import data

    image = getattr(data, name)()
    return image if image.ndim == 3 else np.repeat(image[..., None], 3, -1)


def at_size(name, size):
    """The photo centre-cropped to the aspect of `size`, resized with Pillow LANCZOS."""
    from PIL import Image

    image = load(name)
    h, w = image.shape[:2]
    target = size[1] / size[0]
    if w / h > target:
        cw = int(round(h * target))
        image = image[:, (w - cw) // 2:(w - cw) // 2 + cw]
    else:
        ch = int(round(w / target))
        image = image[(h - ch) // 2:(h - ch) // 2 + ch]
    return np.asarray(Image.fromarray(image).resize((size[1], size[0]), Image.LANCZOS))


def batch(size, n):
    """n photos (cycling through PHOTOS) at `size`, uint8 (n, h, w, 3)."""
    return np.stack([at_size(PHOTOS[i % len(PHOTOS)], size) for i in range(n)])


def encode_jpeg(image, quality=90):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def decode(encoded):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(encoded)).convert("RGB"))
