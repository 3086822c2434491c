"""Dataset elements: where the image sits in an element and how to put it back.

An element (the `*args` of a map function) is an image, an `(image, label, ...)`
tuple, a dict with an image entry, or Keras's dict `{"images", ...}`.
"""


def element_name(element, name_key):
    """The `name_key` entry of a dict element (e.g. its file path), or None."""
    if len(element) == 1 and isinstance(element[0], dict) and name_key:
        return element[0].get(name_key)
    return None


def keras_dict(element):
    """The element when it is Keras's dict input (`{"images", ...}`), else None."""
    if len(element) == 1 and isinstance(element[0], dict) and "images" in element[0]:
        return element[0]
    return None


def split(element, image_key):
    """`(image, rest, kind)` of a dataset element (the `*args` of a map
    function): a tensor, a tuple whose first item is the image, or a dict with
    an `image_key` entry. `join` puts an image back in its place."""
    if len(element) > 1:
        return element[0], tuple(element[1:]), "tuple"
    (element,) = element
    if isinstance(element, dict):
        if image_key not in element:
            raise KeyError(
                f"The dataset element is a dict without an {image_key!r} key "
                f"(keys: {sorted(element)})."
            )
        return element[image_key], {k: v for k, v in element.items() if k != image_key}, "dict"
    if isinstance(element, tuple):
        return element[0], tuple(element[1:]), "tuple"
    return element, (), "image"


def join(image, rest, kind, image_key):
    if kind == "dict":
        return {**rest, image_key: image}
    if kind == "tuple":
        return (image,) + tuple(rest)
    return image


def map_image(transform, image_key="image"):
    """Applies `transform` to the image of an element (see `split`)."""

    def fn(*element):
        image, rest, kind = split(element, image_key)
        return join(transform(image), rest, kind, image_key)

    return fn
