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

INPUTS = ("bytes", "pixels", "both")
# A 1x1 PNG that stands in for elements that fail validation, so that one bad
# element never stops the batch.
_PLACEHOLDER_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
    b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc```\x00\x00\x00\x04\x00\x01\xf6\x178U\x00"
    b"\x00\x00\x00IEND\xaeB`\x82")


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


def export(model, path, preprocessing=None, input="both", class_names=None,
           fill_value=0.0):
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
        class_names: optional list of class names: adds `label` and `score`.
        fill_value: background for transparent pixels when decoding.

    Signatures:
        `bytes(contents: string[N])`: JPEG/PNG/GIF/BMP/WebP of any size ->
        `probabilities` (float32 `[N, classes]`), `ok` (bool `[N]`; False
        for an empty, unknown or truncated element, whose probabilities are
        zero), and with `class_names` `label` (string) and `score`.
        `pixels(images: uint8[N, H, W, 3])`: the same outputs.

    Example:

    >>> export(model, "/tmp/classifier", class_names=["cat", "dog"])
    >>> served = tf.saved_model.load("/tmp/classifier")
    >>> served.signatures["bytes"](contents=tf.constant([jpeg]))["label"]
    """
    if input not in INPUTS:
        raise ValueError(f"Unknown `input`: {input!r}. Expected one of {', '.join(INPUTS)}.")
    if preprocessing is None:
        steps = []
        if _find_resize_target(model.layers) is None:
            raise ValueError(
                "The model contains no keras_resize_layers layer; pass `preprocessing` "
                "(e.g. layers.Resize(224, 224)) so serving resizes like training.")
    else:
        steps = list(preprocessing) if isinstance(preprocessing, (list, tuple)) else [
            preprocessing]
    names = None if class_names is None else tf.constant([str(c) for c in class_names])

    def predict(images):
        x = images
        for step in steps:
            x = step(x, training=False)
        return tf.cast(model(x, training=False), tf.float32)

    def outputs(probabilities, ok):
        mask = tf.reshape(ok, tf.concat([tf.shape(ok), tf.ones_like(
            tf.shape(probabilities)[1:])], 0))
        probabilities = tf.where(mask, probabilities, 0.0)
        out = {"probabilities": probabilities, "ok": ok}
        if names is not None:
            top = tf.argmax(probabilities, axis=-1)
            out["label"] = tf.where(ok, tf.gather(names, top), "")
            out["score"] = tf.reduce_max(probabilities, axis=-1)
        return out

    def serve_bytes(contents):
        ok = tf.map_fn(lambda c: decode.check_bytes(c)[0], contents,
                       fn_output_signature=tf.bool)
        safe = tf.where(ok, contents, _PLACEHOLDER_PNG)
        images = tf.map_fn(
            lambda c: tf.RaggedTensor.from_tensor(decode.decode_image(c, None, fill_value)),
            safe, fn_output_signature=tf.RaggedTensorSpec([None, None, 3], tf.uint8, 1))
        return outputs(predict(images), ok)

    def serve_pixels(images):
        return outputs(predict(images), tf.ones([tf.shape(images)[0]], tf.bool))

    archive = keras.export.ExportArchive()
    archive.track(model)
    for step in steps:
        archive.track(step)
    if input in ("bytes", "both"):
        archive.add_endpoint("bytes", serve_bytes, input_signature=[
            tf.TensorSpec([None], tf.string, name="contents")])
    if input in ("pixels", "both"):
        archive.add_endpoint("pixels", serve_pixels, input_signature=[
            tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
    archive.write_out(path, verbose=False)
    return path
