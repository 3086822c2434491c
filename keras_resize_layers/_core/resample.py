"""Separable resampling as two matrix products, written with backend ops.

For every image, each output axis gets a weight matrix whose row `o` holds the
kernel weights of output pixel `o` over the input pixels of that axis: zero
outside the image's source box, all-zero for padding rows. The resize is then
`out = Wy @ image @ Wx^T` per channel. Crop, resize and pad fuse into one
pass, a batch of boxes is a batch of matrices, and the work is matmul, which
runs on every device and under XLA.

The weights reproduce TensorFlow's kernels: ScaleAndTranslate for the
antialiased and lanczos/gaussian/mitchellcubic paths, ResizeBilinear,
ResizeBicubic (including its 1/1024-pixel weight table) and
ResizeNearestNeighbor with half-pixel centres, and ResizeArea.
"""

from keras_resize_layers._core import kernels

_TINY = 1000.0 * 1.1754944e-38  # ScaleAndTranslate's "zero total weight" threshold


def _onehot(bk, index, positions):
    return bk.cast(bk.numpy.equal(index[..., None], positions), "float32")


def fixed_taps(method, antialias):
    """True where TF uses ResizeNearestNeighbor / ResizeBilinear / ResizeBicubic
    (1, 2 or 4 taps); area has its own op, everything else is ScaleAndTranslate."""
    return method in ("nearest", "bilinear", "bicubic") and not (
        antialias and method != "nearest")


def _span(xnp, t, blen, plen, radius, antialias):
    """ScaleAndTranslate's sample position, kernel scale and first/last input
    pixel (relative to the box) of each output; all `(B, O)` but kernel scale `(B, 1)`.
    Like the op, the inverse scale is `1 / (out / in)` (two roundings)."""
    inv_scale = 1.0 / (plen / blen)
    kernel_scale = xnp.maximum(inv_scale, 1.0) if antialias else inv_scale * 0 + 1.0
    sample = (t + 0.5) * inv_scale
    reach = radius * kernel_scale
    first = xnp.maximum(xnp.ceil(sample - reach - 0.5), 0.0)
    last = xnp.minimum(xnp.floor(sample + reach - 0.5), blen - 1.0)
    return sample, kernel_scale, first, last


def _sum_in_tap_order(xnp, weights):
    """The sum over the last axis, `(..., 1)`, added in tap order: a row's total
    (and so its normalised weights) does not depend on how many zero taps
    follow it. `sum` reduces in packets whose grouping changes with the
    length, so an image's weights changed by an ulp with its batch's K
    (BUILD_NOTES, "Exact equality across batches")."""
    return xnp.cumsum(weights, axis=-1)[..., -1:]


def axis_weights(bk, out_size, in_extent, box_start, box_len, place_start,
                 place_len, method, antialias, cols=None):
    """Weight matrices of one axis.

    Args:
        bk: backend namespace.
        out_size: int, output pixels along the axis.
        in_extent: int or scalar tensor, input pixels along the axis (the
            padded extent for ragged batches).
        box_start, box_len: int32 `(B,)`, the source interval of each image.
        place_start, place_len: int32 `(B,)`, where it lands in the output.
        method, antialias: as in `resize`.
        cols: optional float32 `(B, out_size, K)` input positions (the taps
            of `tap_starts`); the weights are then computed at those
            positions only. Defaults to every input pixel.

    Returns:
        float32 `(B, out_size, in_extent)`, or `(B, out_size, K)` with `cols`.
    """
    xnp = bk.numpy
    f32 = lambda v: bk.cast(v, "float32")  # noqa: E731
    out_pos = f32(xnp.arange(out_size))[None, :]  # (1, O)
    t = out_pos - f32(place_start)[:, None]  # (B, O) position inside placement
    valid = xnp.logical_and(t >= 0.0, t < f32(place_len)[:, None])
    b0 = f32(box_start)[:, None]  # (B, 1)
    blen = f32(box_len)[:, None]
    plen = f32(place_len)[:, None]
    if cols is None:
        cols = f32(xnp.arange(in_extent))[None, None, :]  # (1, 1, I)

    if fixed_taps(method, antialias):
        # TF's ResizeNearestNeighbor / ResizeBilinear / ResizeBicubic with
        # half-pixel centres, expressed as taps (index, weight).
        scale = blen / plen  # input pixels per output pixel
        if method == "nearest":
            index = xnp.minimum(xnp.floor((t + 0.5) * scale), blen - 1.0)
            weights = _onehot(bk, xnp.maximum(index, 0.0) + b0, cols)
        elif method == "bilinear":
            pos = (t + 0.5) * scale - 0.5
            low_f = xnp.floor(pos)
            lerp = (pos - low_f)[..., None]
            low = xnp.maximum(low_f, 0.0) + b0
            high = xnp.minimum(xnp.ceil(pos), blen - 1.0) + b0
            weights = (1.0 - lerp) * _onehot(bk, low, cols) + lerp * _onehot(
                bk, high, cols
            )
        else:
            pos = (t + 0.5) * scale - 0.5
            low = xnp.floor(pos)
            # ResizeBicubic reads its weights from a table of 1024 steps per pixel.
            delta = xnp.round((pos - low) * 1024.0) / 1024.0
            cubic, _ = kernels.KERNELS["bicubic"]
            weights = 0.0
            for k in (-1.0, 0.0, 1.0, 2.0):
                index = low + k
                inside = f32(xnp.logical_and(index >= 0.0, index <= blen - 1.0))
                w = (cubic(xnp, k - delta) * inside)[..., None]
                weights = weights + w * _onehot(bk, index + b0, cols)
            total = _sum_in_tap_order(xnp, weights)
            weights = weights / xnp.where(xnp.abs(total) >= _TINY, total, 1.0)
    elif method == "area":
        # ResizeArea: each output pixel averages the input interval it covers.
        # Computed exactly in integers, on a grid of 1/place_len input pixels.
        i32 = lambda v: bk.cast(v, "int32")  # noqa: E731
        p_len = i32(place_len)[:, None, None]
        b_len = i32(box_len)[:, None, None]
        t_int = i32(t)[..., None]
        rel = i32(cols) - i32(box_start)[:, None, None]
        overlap = xnp.minimum((rel + 1) * p_len, (t_int + 1) * b_len) - xnp.maximum(
            rel * p_len, t_int * b_len
        )
        inside = xnp.logical_and(rel >= 0, rel < b_len)
        weights = f32(xnp.where(inside, xnp.maximum(overlap, 0), 0)) / f32(b_len)
    else:
        # ScaleAndTranslate: kernel widened by 1/scale when shrinking (antialias).
        kernel, radius = kernels.KERNELS[method]
        sample, kernel_scale, first, last = _span(xnp, t, blen, plen, radius, antialias)
        sample, first, last = sample[..., None], first[..., None], last[..., None]
        rel = cols - b0[..., None]
        in_span = xnp.logical_and(rel >= first, rel <= last)
        w = kernel(xnp, (rel + 0.5 - sample) * (1.0 / kernel_scale[..., None]))
        weights = xnp.where(in_span, w, 0.0)
        total = _sum_in_tap_order(xnp, weights)
        weights = xnp.where(
            xnp.abs(total) >= _TINY, weights / xnp.where(total == 0.0, 1.0, total), 0.0
        )
    return xnp.where(valid[..., None], weights, 0.0)


def tap_counts(bk, box_len, place_len, method, antialias):
    """int32 `(B,)`: an upper bound on the non-zero weights of any output
    pixel along one axis (the taps a sparse resampler must read).

    Computed exactly in integers. A kernel of reach R covers at most
    floor(2R) + 1 pixels; one more is allowed when 2R falls within 1e-4 below
    an integer, where float rounding of the span ends could add a pixel.
    """
    xnp = bk.numpy
    if method == "area":
        exact = xnp.equal(xnp.mod(box_len, place_len), 0)
        return xnp.floor_divide(box_len, place_len) + xnp.where(exact, 1, 2)
    if fixed_taps(method, antialias):
        return box_len * 0 + {"nearest": 1, "bilinear": 2, "bicubic": 4}[method]
    width = int(round(2 * kernels.KERNELS[method][1]))  # 2 * radius, an integer
    span = width * (xnp.maximum(box_len, place_len) if antialias else place_len)
    near_integer = 10000 * (place_len - xnp.mod(span, place_len)) <= place_len
    return xnp.floor_divide(span, place_len) + xnp.where(near_integer, 2, 1)


def tap_starts(bk, out_size, box_start, box_len, place_start, place_len, method,
               antialias):
    """float32 `(B, out_size)`: the first input pixel each output pixel reads,
    such that its `tap_counts` taps from there hold all its non-zero weights."""
    xnp = bk.numpy
    f32 = lambda v: bk.cast(v, "float32")  # noqa: E731
    t = f32(xnp.arange(out_size))[None, :] - f32(place_start)[:, None]
    b0 = f32(box_start)[:, None]
    blen = f32(box_len)[:, None]
    plen = f32(place_len)[:, None]
    if method == "area":
        t_int = xnp.maximum(bk.cast(t, "int32"), 0)
        first = xnp.floor_divide(t_int * box_len[:, None], place_len[:, None])
        return f32(first) + b0
    if fixed_taps(method, antialias):
        pos = (t + 0.5) * (blen / plen)
        if method == "nearest":
            return xnp.maximum(xnp.minimum(xnp.floor(pos), blen - 1.0), 0.0) + b0
        if method == "bilinear":
            return xnp.maximum(xnp.floor(pos - 0.5), 0.0) + b0
        return xnp.floor(pos - 0.5) - 1.0 + b0
    _, _, first, _ = _span(xnp, t, blen, plen, kernels.KERNELS[method][1], antialias)
    return first + b0


def resample(bk, images, size, geometry, method, antialias, fill_value,
             policy, shared):
    """Resamples a float32 batch `(N, H, W, C)` to `(N, h, w, C)` by matmul.

    `geometry` holds `(B,)` int32 tensors (see `geometry.py`); `shared=True`
    means B == 1 and every image uses the same box (dense input, fixed policy).
    """
    xnp = bk.numpy
    h, w = size
    shape = bk.shape(images)
    in_h, in_w = shape[1], shape[2]
    wy = axis_weights(bk, h, in_h, geometry["box_y"], geometry["box_h"],
                      geometry["place_y"], geometry["place_h"], method, antialias)
    wx = axis_weights(bk, w, in_w, geometry["box_x"], geometry["box_w"],
                      geometry["place_x"], geometry["place_w"], method, antialias)
    # Contract the axis whose pass shrinks the data most first.
    rows_first = True
    if isinstance(in_h, int) and isinstance(in_w, int):
        rows_first = h * in_h * in_w + h * w * in_w <= w * in_w * in_h + h * w * in_h
    if shared:
        wy, wx = wy[0], wx[0]
        if rows_first:
            out = xnp.einsum("oh,nhwc->nowc", wy, images)
            out = xnp.einsum("pw,nowc->nopc", wx, out)
        else:
            out = xnp.einsum("pw,nhwc->nhpc", wx, images)
            out = xnp.einsum("oh,nhpc->nopc", wy, out)
    elif rows_first:
        out = xnp.einsum("noh,nhwc->nowc", wy, images)
        out = xnp.einsum("npw,nowc->nopc", wx, out)
    else:
        out = xnp.einsum("npw,nhwc->nhpc", wx, images)
        out = xnp.einsum("noh,nhpc->nopc", wy, out)
    if policy == "pad":
        out = add_fill(bk, out, size, geometry, fill_value, shared)
    return out


def placement_mask(bk, size, geometry):
    """float32 `(B, h, w)`: 1 inside each image's placement, 0 in the padding."""
    xnp = bk.numpy
    h, w = size
    ys = xnp.arange(h)[None, :]
    xs = xnp.arange(w)[None, :]
    py, ph = geometry["place_y"][:, None], geometry["place_h"][:, None]
    px, pw = geometry["place_x"][:, None], geometry["place_w"][:, None]
    in_y = bk.cast(xnp.logical_and(ys >= py, ys < py + ph), "float32")
    in_x = bk.cast(xnp.logical_and(xs >= px, xs < px + pw), "float32")
    return in_y[:, :, None] * in_x[:, None, :]


def add_fill(bk, out, size, geometry, fill_value, shared):
    if fill_value == 0.0:
        return out
    mask = placement_mask(bk, size, geometry)
    if shared:
        mask = mask[0]
    return out + (1.0 - mask)[..., None] * fill_value
