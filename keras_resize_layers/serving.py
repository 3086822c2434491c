"""Export a Keras model to a SavedModel that decodes and resizes by itself.

TensorFlow only. The exported signatures run the same layers the model was
trained with (taken from the model when it starts with them, or given as
`preprocessing`), so serving resizes exactly as training did, and the
SavedModel loads with `tf.saved_model.load` in a process that never imports
this library.
"""

import keras
import tensorflow as tf

from keras_resize_layers import decode
from keras_resize_layers._core import geometry

__all__ = ["export", "INPUTS"]

INPUTS = ("bytes", "pixels", "both")


def _find_resize_target(layers):
    from keras_resize_layers.layers import RandomResizedCrop, Resize

    for layer in layers:
        if isinstance(layer, (Resize, RandomResizedCrop)):
            return layer
        if hasattr(layer, "layers"):
            found = _find_resize_target(layer.layers)
            if found is not None:
                return found
    return None


def _split_at_input(model, target):
    """`model` as `(target, rest)` when `target` is applied to the model's only
    input and nothing else reads that input; None otherwise."""
    if isinstance(model, keras.Sequential):
        if model.layers and model.layers[0] is target:
            return keras.Sequential(model.layers[1:]) if len(model.layers) > 1 else (
                lambda x, training=False: x)
        return None
    try:
        if len(model.inputs) != 1 or target.input is not model.inputs[0]:
            return None
        readers = [layer for layer in model.layers if layer is not target and any(
            node.input_tensors and any(t is model.inputs[0] for t in node.input_tensors)
            for node in getattr(layer, "_inbound_nodes", []))]
        if readers:
            return None
        return keras.Model(target.output, model.outputs)
    except (AttributeError, ValueError, TypeError):
        return None


def _classes(model):
    shape = getattr(model, "output_shape", None)
    return shape[-1] if isinstance(shape, (tuple, list)) and shape and isinstance(
        shape[-1], int) else None


def export(model, path, preprocessing=None, input="both", class_names=None,
           fill_value=0.0, max_pixels=decode.MAX_PIXELS, dct_downscale=True):
    """Writes a SavedModel with a `bytes` and/or a `pixels` signature.

    Args:
        model: a Keras model. Without `preprocessing`, it must take uint8
            images of any size and contain the library's layers (e.g. it
            starts with `layers.Resize`); with `preprocessing`, it takes the
            preprocessed images.
        path: output folder.
        preprocessing: optional layer (or list of layers) applied before
            `model`, in inference mode.
        input: `"bytes"`, `"pixels"` or `"both"` (default).
        class_names: optional list of class names, one per model output:
            adds `label` and `score`. A list of another length is a ValueError.
        fill_value: background for transparent pixels when decoding.
        max_pixels: largest declared `height * width` decoded (read from the
            header before decoding); larger images get `ok=False`. Defaults to
            `decode.MAX_PIXELS` (Pillow's decompression-bomb limit, ~179 M).
        dct_downscale: decode JPEGs at 1/2, 1/4 or 1/8 scale in the DCT
            domain while they still cover the `Resize` layer's output, exactly
            as `data.decode_and_resize_fn(..., dct_downscale=True)` does in
            training (the default there too). Set it as the training pipeline
            had it, so serving decodes as training decoded.

    Signatures:
        `bytes(contents: string[N])`: JPEG/PNG/GIF/BMP/WebP of any size ->
        `probabilities` (float32 `[N, classes]`), `ok` (bool `[N]`),
        `reason` (string `[N]`, empty when ok) and with `class_names` `label`
        (string) and `score`. An element that cannot be decoded, whatever
        the reason (empty, unknown format, truncated, corrupt, over
        `max_pixels`) gets `ok=False`, zero probabilities and its reason;
        every other element is answered exactly as without it. Elements are
        decoded and resized one at a time, so memory is bounded by the
        largest single image plus the batch at the model's input size.
        `pixels(images: uint8[N, H, W, 3])`: the same outputs.

    Example:

    >>> export(model, "/tmp/classifier", class_names=["cat", "dog"])
    >>> served = tf.saved_model.load("/tmp/classifier")
    >>> served.signatures["bytes"](contents=tf.constant([jpeg]))["label"]
    """
    from keras_resize_layers.layers import Resize

    if input not in INPUTS:
        raise ValueError(f"Unknown `input`: {input!r}. Expected one of {', '.join(INPUTS)}.")
    if preprocessing is None:
        target = _find_resize_target(model.layers)
        if target is None:
            raise ValueError(
                "The model contains no keras_resize_layers layer; pass `preprocessing` "
                "(e.g. layers.Resize(224, 224)) so serving resizes like training.")
        head = [target]
        body = _split_at_input(model, target)
    else:
        head = list(preprocessing) if isinstance(preprocessing, (list, tuple)) else [
            preprocessing]
        target = _find_resize_target(head)
        body = model
    classes = _classes(model)
    if class_names is not None:
        class_names = [str(c) for c in class_names]
        if classes is not None and len(class_names) != classes:
            raise ValueError(
                f"`class_names` has {len(class_names)} names but the model outputs "
                f"{classes} classes (output shape {model.output_shape}).")
    names = None if class_names is None else tf.constant(class_names)
    hint = None
    if dct_downscale and isinstance(target, Resize):
        hint = geometry.decoded_size_hint((target.height, target.width), target.policy,
                                          target.crop_fraction)

    def preprocess(images):
        for step in head:
            images = step(images, training=False)
        return images

    def predict(images):
        if body is None:  # the resize is not at the model's input: whole model
            return tf.cast(model(images, training=False), tf.float32)
        return tf.cast(body(preprocess(images), training=False), tf.float32)

    def outputs(probabilities, ok, reason):
        out = {"probabilities": probabilities, "ok": ok, "reason": reason}
        if names is not None:
            top = tf.argmax(probabilities, axis=-1)
            out["label"] = tf.where(ok, tf.gather(names, top), "")
            out["score"] = tf.reduce_max(probabilities, axis=-1)
        return out

    def one(index, contents):
        image = decode.decode_image(contents, hint, fill_value, max_pixels=max_pixels)[None]
        if body is None:
            return index, predict(image)[0]
        return index, preprocess(image)[0]

    def serve_bytes(contents):
        n = tf.shape(contents)[0]
        # One element at a time; an element whose decoding fails in any op is
        # dropped by ignore_errors and reported below, the others go on.
        good = tf.data.Dataset.from_tensor_slices((tf.range(n), contents)).map(
            one).ignore_errors()
        spec = good.element_spec[1]
        sentinel = tf.data.Dataset.from_tensors(
            (tf.constant(-1), tf.zeros([d or 1 for d in spec.shape], spec.dtype)))
        index, values = good.concatenate(sentinel).batch(
            tf.cast(n, tf.int64) + 1).get_single_element()
        keep = index >= 0
        index, values = tf.boolean_mask(index, keep), tf.boolean_mask(values, keep)
        answered = values if body is None else tf.cast(body(values, training=False),
                                                       tf.float32)
        ok = tf.scatter_nd(index[:, None], tf.ones_like(index, tf.int32), [n]) > 0
        probabilities = tf.scatter_nd(index[:, None], answered,
                                      tf.concat([[n], tf.shape(answered)[1:]], 0))
        failed = tf.where(tf.logical_not(ok))[:, 0]
        reasons = tf.map_fn(lambda c: decode.reason_of_failure(c, max_pixels),
                            tf.gather(contents, failed), fn_output_signature=tf.string)
        reason = tf.tensor_scatter_nd_update(tf.fill([n], ""), failed[:, None], reasons)
        return outputs(probabilities, ok, reason)

    def serve_pixels(images):
        n = tf.shape(images)[0]
        return outputs(predict(images), tf.ones([n], tf.bool), tf.fill([n], ""))

    archive = keras.export.ExportArchive()
    archive.track(model)
    for step in head:
        archive.track(step)
    if input in ("bytes", "both"):
        archive.add_endpoint("bytes", serve_bytes, input_signature=[
            tf.TensorSpec([None], tf.string, name="contents")])
    if input in ("pixels", "both"):
        archive.add_endpoint("pixels", serve_pixels, input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
    archive.write_out(path, verbose=False)
    return path
