"""Aspect-ratio geometry: where each image's source box and output placement lie.

All functions take a backend namespace `bk` (see `backend.py`) and integer
tensors of per-image input heights and widths of shape `(B,)`, and return a
dict of int32 tensors of shape `(B,)`:

- `box_y`, `box_x`, `box_h`, `box_w`: the source box in input pixels;
- `place_y`, `place_x`, `place_h`, `place_w`: where the resampled box lands
  in the `(height, width)` output (the rest is `fill_value`).
"""


def _round_div(bk, num, den):
    """round(num / den) for non-negative int32 tensors, exactly, half up."""
    xnp = bk.numpy
    return xnp.floor_divide(2 * num + den, 2 * den)


def stretch(bk, in_h, in_w, size):
    h, w = size
    zeros = in_h * 0
    return dict(
        box_y=zeros, box_x=zeros, box_h=in_h, box_w=in_w,
        place_y=zeros, place_x=zeros, place_h=zeros + h, place_w=zeros + w,
    )


def center_crop(bk, in_h, in_w, size, crop_fraction=1.0, int_dtype="int32"):
    """Largest centred box with the output's aspect ratio, scaled by `crop_fraction`."""
    xnp = bk.numpy
    h, w = size
    wider = in_w * h > in_h * w
    box_h = xnp.where(wider, in_h, _round_div(bk, in_w * h, w))
    box_w = xnp.where(wider, _round_div(bk, in_h * w, h), in_w)
    if crop_fraction != 1.0:
        f = float(crop_fraction)
        box_h = bk.cast(xnp.floor(bk.cast(box_h, "float32") * f + 0.5), int_dtype)
        box_w = bk.cast(xnp.floor(bk.cast(box_w, "float32") * f + 0.5), int_dtype)
    # Keras's dtype promotion may narrow `where`'s int64 result to int32 (it does
    # inside tf.data while PyTorch is the global backend): cast back before `clip`.
    box_h = xnp.clip(bk.cast(box_h, int_dtype), 1, in_h)
    box_w = xnp.clip(bk.cast(box_w, int_dtype), 1, in_w)
    zeros = in_h * 0
    return dict(
        box_y=xnp.floor_divide(in_h - box_h, 2),
        box_x=xnp.floor_divide(in_w - box_w, 2),
        box_h=box_h, box_w=box_w,
        place_y=zeros, place_x=zeros, place_h=zeros + h, place_w=zeros + w,
    )


def letterbox(bk, in_h, in_w, size, position="center"):
    """Whole image scaled to fit inside `size`, centred (or at the top left);
    the margins are padding."""
    xnp = bk.numpy
    h, w = size
    wider = in_w * h > in_h * w
    place_h = xnp.where(wider, _round_div(bk, in_h * w, in_w), h)
    place_w = xnp.where(wider, w, _round_div(bk, in_w * h, in_h))
    place_h = xnp.clip(place_h, 1, h)
    place_w = xnp.clip(place_w, 1, w)
    zeros = in_h * 0
    centred = position == "center"
    return dict(
        box_y=zeros, box_x=zeros, box_h=in_h, box_w=in_w,
        place_y=xnp.floor_divide(h - place_h, 2) if centred else zeros,
        place_x=xnp.floor_divide(w - place_w, 2) if centred else zeros,
        place_h=place_h, place_w=place_w,
    )


def for_policy(bk, policy, in_h, in_w, size, crop_fraction=1.0, pad_position="center"):
    """The geometry of `policy`, as int32. Products of input and output sides
    (up to 2**31 - 1 each) are formed in int64 where the backend has it
    (TensorFlow, PyTorch, the host plan's NumPy); with JAX as Keras's backend
    they stay in int32, exact while input side x output side < 2**30."""
    import keras

    # Keras canonicalises int64 to int32 in its dtype promotion while JAX is
    # the global backend (x64 off), even for TensorFlow ops inside tf.data;
    # the host plan (`backend.numpy_backend`) is plain NumPy, always int64.
    wide = "int64" if bk.name == "numpy" or (bk.name in ("tensorflow", "torch") and (
        keras.config.backend() != "jax")) else "int32"
    in_h = bk.cast(in_h, wide)
    in_w = bk.cast(in_w, wide)
    if policy == "stretch":
        geometry = stretch(bk, in_h, in_w, size)
    elif policy == "crop":
        geometry = center_crop(bk, in_h, in_w, size, crop_fraction, wide)
    else:
        geometry = letterbox(bk, in_h, in_w, size, pad_position)
    return {k: bk.cast(v, "int32") for k, v in geometry.items()}


def decoded_size_hint(size, policy="stretch", crop_fraction=1.0):
    """The smallest decoded `(height, width)` that still covers `size`: `size /
    crop_fraction` for `policy="crop"`, else `size` (a DCT-domain JPEG decode may
    shrink the image down to it)."""
    f = crop_fraction if policy == "crop" else 1.0
    return (int(-(-size[0] // f)), int(-(-size[1] // f)))
