"""Random box sampling for RandomResizedCrop, as pure functions of uniforms.

The callers draw the randomness (a layer from its seed generator, a tf.data
map function from a per-element stateless seed) and pass uniform numbers in
[0, 1); these functions turn them into boxes. Tests pass fixed uniforms.
"""

import math

from keras_resize_layers._core import exact_math

ATTEMPTS = 10  # boxes tried per image before the centre-crop fallback


def check_range(name, value, low_bound, upper_bound=None):
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a pair (min, max). Received: {name}={value!r}") from None
    if not low_bound < lo <= hi or (upper_bound is not None and hi > upper_bound):
        bounds = f"({low_bound}, {upper_bound}]" if upper_bound else f"> {low_bound}"
        raise ValueError(
            f"`{name}` must satisfy min <= max, both {bounds}. Received: {name}={value!r}"
        )
    return lo, hi


def random_resized_crop_boxes(bk, uniforms, in_h, in_w, scale, ratio):
    """Boxes of the Inception / torchvision RandomResizedCrop recipe.

    For each image, up to `ATTEMPTS` candidates: area fraction uniform in
    `scale`, aspect ratio (width / height) log-uniform in `ratio`, position
    uniform. The first candidate that fits is taken; if none fits, the
    centre crop of the whole image clipped to `ratio`.

    Args:
        bk: backend namespace.
        uniforms: float32 `(N, ATTEMPTS, 4)` in [0, 1): area, log-ratio, y, x.
        in_h, in_w: int32 `(N,)` image heights and widths.
        scale, ratio: `(min, max)` pairs.

    Returns:
        int32 `(N,)` tensors `box_y, box_x, box_h, box_w`.
    """
    xnp = bk.numpy
    f32 = lambda v: bk.cast(v, "float32")  # noqa: E731
    height, width = f32(in_h)[:, None], f32(in_w)[:, None]
    area = height * width * (scale[0] + uniforms[..., 0] * (scale[1] - scale[0]))
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    # exact_math.exp: the same box for an image in any batch (TF's exp rounds
    # by position in the tensor)
    aspect = exact_math.exp(xnp, log_lo + uniforms[..., 1] * (log_hi - log_lo))
    w = xnp.floor(xnp.sqrt(area * aspect) + 0.5)
    h = xnp.floor(xnp.sqrt(area / aspect) + 0.5)
    fits = xnp.logical_and(
        xnp.logical_and(w >= 1.0, w <= width), xnp.logical_and(h >= 1.0, h <= height)
    )
    first = xnp.argmax(bk.cast(fits, "int32"), axis=1)[:, None]
    found = xnp.any(fits, axis=1)

    def pick(v):
        return xnp.take_along_axis(v, first, axis=1)[:, 0]

    h, w = pick(h), pick(w)
    y = xnp.minimum(xnp.floor(pick(uniforms[..., 2]) * (height[:, 0] - h + 1.0)),
                    height[:, 0] - h)
    x = xnp.minimum(xnp.floor(pick(uniforms[..., 3]) * (width[:, 0] - w + 1.0)),
                    width[:, 0] - w)
    # Fallback: the whole image, clipped to the allowed aspect ratios, centred.
    hh, ww = height[:, 0], width[:, 0]
    in_ratio = ww / hh
    fb_w = xnp.where(in_ratio > ratio[1], xnp.floor(hh * ratio[1] + 0.5), ww)
    fb_h = xnp.where(in_ratio < ratio[0], xnp.floor(ww / ratio[0] + 0.5), hh)
    fb_w, fb_h = xnp.clip(fb_w, 1.0, ww), xnp.clip(fb_h, 1.0, hh)
    fb_y, fb_x = xnp.floor((hh - fb_h) / 2.0), xnp.floor((ww - fb_w) / 2.0)
    i32 = lambda v: bk.cast(v, "int32")  # noqa: E731
    return dict(
        box_y=i32(xnp.where(found, y, fb_y)), box_x=i32(xnp.where(found, x, fb_x)),
        box_h=i32(xnp.where(found, h, fb_h)), box_w=i32(xnp.where(found, w, fb_w)),
    )


def full_placement(bk, boxes, size):
    """Adds the placement of a box that fills the whole `(height, width)` output."""
    zeros = boxes["box_h"] * 0
    return dict(boxes, place_y=zeros, place_x=zeros, place_h=zeros + size[0],
                place_w=zeros + size[1])
