"""tf.data map functions: the twins of the layers, for input pipelines.

TensorFlow only. Each function returns a map function built on the same core
as the matching layer, so a pipeline and a model give the same pixels.
"""

from keras_resize_layers import options
from keras_resize_layers.resize import resize


def _map_image(transform, image_key="image"):
    """Applies `transform` to the image of an element: a tensor, a tuple whose
    first item is the image, or a dict with an `image_key` entry."""

    def fn(*element):
        if len(element) > 1:
            return (transform(element[0]),) + tuple(element[1:])
        (element,) = element
        if isinstance(element, dict):
            if image_key not in element:
                raise KeyError(
                    f"The dataset element is a dict without an {image_key!r} key "
                    f"(keys: {sorted(element)})."
                )
            return {**element, image_key: transform(element[image_key])}
        if isinstance(element, tuple):
            return (transform(element[0]),) + tuple(element[1:])
        return transform(element)

    return fn


def resize_fn(height, width, method="bilinear", antialias=True,
              policy="stretch", crop_fraction=1.0, fill_value=0.0,
              dtype="float32", image_key="image"):
    """Returns a `Dataset.map` function that resizes like `layers.Resize`.

    Works on unbatched images `(H, W, C)`, dense batches `(N, H, W, C)` and
    ragged batches (`dataset.ragged_batch(n)`), on elements that are an
    image, an `(image, label, ...)` tuple or a dict with an `"image"` key.
    The output is bit-identical to `layers.Resize` with the same options.

    Example:

    >>> ds = tf.data.Dataset.from_tensor_slices((images, labels))
    >>> ds = ds.map(resize_fn(224, 224, policy="crop"), num_parallel_calls=-1)
    """
    opts = options.check_options(height, width, method, antialias, policy,
                                 crop_fraction, fill_value, dtype)

    def transform(images):
        return resize(
            images, opts["size"], method=opts["method"],
            antialias=opts["antialias"], policy=opts["policy"],
            crop_fraction=opts["crop_fraction"], fill_value=opts["fill_value"],
            dtype=opts["dtype"], backend="tensorflow",
        )

    return _map_image(transform, image_key)
