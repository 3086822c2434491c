"""Bounding boxes and segmentation masks that follow the pixels' geometry.

Keras 3's dict inputs, `{"images", "labels", "bounding_boxes": {"boxes",
"labels"}, "segmentation_masks"}`: one geometry per image (the source box
and where it lands, see `geometry.py`) drives the pixels (the chosen kernel),
the masks (`nearest`, no antialias: class ids stay class ids) and the boxes
(the same affine map, then clipped to the output). A box left with no area
gets label -1 and zeros, as Keras marks boxes to ignore; padded box tensors
(rows with label -1) and ragged ones (TensorFlow) are both accepted.
Backend-agnostic (`bk`, see `backend.py`), except ragged boxes.
"""

from keras_resize_layers._core import backend as backend_lib

BOX_FORMATS = ("xyxy", "yxyx", "xywh", "center_xywh", "center_yxhw", "rel_xyxy", "rel_yxyx",
               "rel_xywh", "rel_center_xywh", "rel_center_yxhw")
KEYS = ("images", "labels", "bounding_boxes", "segmentation_masks")


def check_box_format(bounding_box_format, required=False):
    if bounding_box_format is None and not required:
        return None
    if bounding_box_format not in BOX_FORMATS:
        raise ValueError(
            f"Unknown `bounding_box_format`: {bounding_box_format!r}. Expected one of "
            f"{', '.join(BOX_FORMATS)}.")
    return bounding_box_format


def check_inputs(inputs, bounding_box_format):
    """Validates a dict input's keys; returns it."""
    unknown = sorted(set(inputs) - set(KEYS))
    if "images" not in inputs or unknown:
        raise ValueError(
            "A dict input needs an 'images' entry and may hold only "
            f"{', '.join(KEYS)}; got keys {sorted(inputs)}.")
    if "bounding_boxes" in inputs:
        check_box_format(bounding_box_format, required=True)
        if not isinstance(inputs["bounding_boxes"], dict) or "boxes" not in inputs[
                "bounding_boxes"]:
            raise ValueError("`bounding_boxes` must be a dict with 'boxes' (and 'labels').")
    return inputs


def to_xyxy(bk, boxes, fmt, height, width):
    """float32 `(..., 4)` boxes in `fmt` -> absolute `(x1, y1, x2, y2)` tuple."""
    a, b, c, d = (boxes[..., i] for i in range(4))
    rel = fmt.startswith("rel_")
    base = fmt[4:] if rel else fmt
    if base == "xyxy":
        x1, y1, x2, y2 = a, b, c, d
    elif base == "yxyx":
        y1, x1, y2, x2 = a, b, c, d
    elif base == "xywh":
        x1, y1, x2, y2 = a, b, a + c, b + d
    elif base == "center_xywh":
        x1, y1, x2, y2 = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    else:  # center_yxhw
        y1, x1, y2, x2 = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    if rel:
        x1, x2 = x1 * width, x2 * width
        y1, y2 = y1 * height, y2 * height
    return x1, y1, x2, y2


def from_xyxy(bk, x1, y1, x2, y2, fmt, height, width):
    """Absolute corners -> float32 `(..., 4)` boxes in `fmt`."""
    xnp = bk.numpy
    rel = fmt.startswith("rel_")
    base = fmt[4:] if rel else fmt
    if rel:
        x1, x2 = x1 / width, x2 / width
        y1, y2 = y1 / height, y2 / height
    if base == "xyxy":
        parts = (x1, y1, x2, y2)
    elif base == "yxyx":
        parts = (y1, x1, y2, x2)
    elif base == "xywh":
        parts = (x1, y1, x2 - x1, y2 - y1)
    elif base == "center_xywh":
        parts = ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)
    else:
        parts = ((y1 + y2) / 2, (x1 + x2) / 2, y2 - y1, x2 - x1)
    return xnp.stack(parts, axis=-1)


def transform_boxes(bk, boxes, labels, fmt, geometry, in_h, in_w, size):
    """Boxes `(N, M, 4)` (and labels `(N, M)` or None) through `geometry`.

    `geometry` and `in_h`/`in_w` hold `(N,)` or shared `(1,)` values. Returns
    `(boxes, labels)` in `fmt` relative to the output `size`; boxes with no
    area inside the output get label -1 and zeros.
    """
    xnp = bk.numpy
    f32 = [bk.cast(geometry[k], "float32")[:, None] for k in (
        "box_y", "box_x", "box_h", "box_w", "place_y", "place_x", "place_h", "place_w")]
    by, bx, bh, bw, py, px, ph, pw = f32
    boxes = bk.cast(boxes, "float32")
    x1, y1, x2, y2 = to_xyxy(bk, boxes, fmt, bk.cast(in_h, "float32")[:, None],
                             bk.cast(in_w, "float32")[:, None])
    h, w = float(size[0]), float(size[1])
    x1 = xnp.clip((x1 - bx) * (pw / bw) + px, 0.0, w)
    x2 = xnp.clip((x2 - bx) * (pw / bw) + px, 0.0, w)
    y1 = xnp.clip((y1 - by) * (ph / bh) + py, 0.0, h)
    y2 = xnp.clip((y2 - by) * (ph / bh) + py, 0.0, h)
    valid = xnp.logical_and(x2 - x1 > 0, y2 - y1 > 0)
    if labels is not None:
        valid = xnp.logical_and(valid, bk.cast(labels, "float32") >= 0)
    out = from_xyxy(bk, x1, y1, x2, y2, fmt, h, w)
    out = xnp.where(valid[..., None], out, 0.0)
    if labels is not None:
        labels = xnp.where(valid, labels, bk.cast(-1, labels.dtype))
    return out, labels


def boxes_dense(bk, bounding_boxes, batched):
    """(boxes (N, M, 4), labels (N, M) or None, ragged row lengths or None)."""
    boxes, labels = bounding_boxes["boxes"], bounding_boxes.get("labels")
    lengths = None
    if backend_lib.is_ragged(boxes):
        lengths = boxes.row_lengths()
        boxes = boxes.to_tensor(0.0)
        if labels is not None:
            labels = labels.to_tensor(-1)
    boxes = bk.convert_to_tensor(boxes)
    if labels is not None:
        labels = bk.convert_to_tensor(labels)
    if not batched:
        boxes = boxes[None]
        labels = None if labels is None else labels[None]
    return boxes, labels, lengths


def boxes_restore(bk, boxes, labels, lengths, batched, template):
    if not batched:
        boxes = boxes[0]
        labels = None if labels is None else labels[0]
    out = dict(template)
    if lengths is not None:
        import tensorflow as tf

        boxes = tf.RaggedTensor.from_tensor(boxes, lengths=lengths)
        labels = None if labels is None else tf.RaggedTensor.from_tensor(labels, lengths=lengths)
    out["boxes"] = boxes
    if labels is not None:
        out["labels"] = labels
    return out
