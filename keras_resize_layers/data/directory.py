"""`data.image_dataset_from_directory`: Keras's loader, minus the resize at load time."""

import os

import numpy as np

from keras_resize_layers.data import decoding

FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # Keras's allowlist
LABEL_MODES = ("int", "categorical", "binary", None)
_RESIZE_ARGUMENTS = ("image_size", "interpolation", "crop_to_aspect_ratio",
                     "pad_to_aspect_ratio", "data_format")


def _check_split(validation_split, subset, shuffle, seed):
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must "
                         "provide a `seed` argument, so that the training and validation "
                         "subsets do not overlap.")


def _walk(directory, follow_links, formats):
    """Files under `directory` in Keras's order: folders sorted by path, files by name."""
    found = []
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links),
                                 key=lambda entry: entry[0]):
        found += [os.path.join(root, f) for f in sorted(files) if f.lower().endswith(formats)]
    return found


def index_directory(directory, labels="inferred", class_names=None, shuffle=True, seed=None,
                    follow_links=False, formats=FORMATS):
    """`(file_paths, labels, class_names)` with the semantics of Keras's
    `image_dataset_from_directory`: one sub-folder per class (sorted, or in
    `class_names` order), files sorted, then both shuffled with
    `np.random.RandomState(seed)`."""
    if not os.path.isdir(directory):
        raise ValueError(f"`directory` {directory!r} is not a directory.")
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError(
                    "The `class_names` passed did not match the names of the "
                    f"subdirectories of {directory!r}. Expected: {subdirs} (or a subset "
                    f"of it), but received: class_names={list(class_names)}")
            subdirs = list(class_names)
        paths, label_list = [], []
        for index, subdir in enumerate(subdirs):
            files = _walk(os.path.join(directory, subdir), follow_links, formats)
            paths += files
            label_list += [index] * len(files)
        label_array, names = np.asarray(label_list, "int32"), subdirs
    else:
        if class_names is not None:
            raise ValueError("`class_names` is only valid with labels='inferred' (with "
                             "explicit labels the class names are the sorted labels).")
        paths = _walk(directory, follow_links, formats)
        if labels is None:
            label_array, names = None, None
        else:
            if len(labels) != len(paths):
                raise ValueError(
                    f"Expected the lengths of `labels` to match the number of files in "
                    f"{directory!r}: len(labels) is {len(labels)} while {len(paths)} "
                    "files were found.")
            label_array = np.asarray(labels)
            names = [str(label) for label in sorted(set(labels))]
    if shuffle:
        np.random.RandomState(seed).shuffle(paths)
        if label_array is not None:
            np.random.RandomState(seed).shuffle(label_array)
    return paths, label_array, names


def _split(paths, labels, validation_split, subset):
    if not validation_split:
        return paths, labels
    count = int(validation_split * len(paths))
    part = slice(None, -count) if subset == "training" else slice(-count, None)
    if count == 0:  # Keras's `[:-0]` / `[-0:]`: the training part is empty, validation all
        part = slice(0, 0) if subset == "training" else slice(None)
    return paths[part], None if labels is None else labels[part]


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 shuffle=True, seed=None, validation_split=None, subset=None,
                                 follow_links=False, verbose=True, min_size=None,
                                 max_pixels=None, formats=FORMATS, **resize_arguments):
    """Keras's `image_dataset_from_directory`, yielding images at their own size.

    The same files, order, labels, class names and training/validation split
    as `keras.utils.image_dataset_from_directory` with the same arguments
    (tested on one folder against it), but **no resize at load**: batches
    are ragged `(batch, None, None, channels)` uint8 images as decoded, so the
    model's own `layers.Resize` decides the pixels (Keras's loader resizes
    every image with non-antialiased bilinear before any layer sees it).
    Files that cannot be decoded are skipped and counted, never fatal.

    Args:
        directory: folder with one sub-folder per class (`labels="inferred"`),
            or any folder of images for `labels=None` or a list of labels.
        labels, label_mode, class_names, batch_size, shuffle, seed,
            validation_split, subset, follow_links, verbose: as in Keras.
            `subset="both"` returns `[training, validation]`.
        color_mode: `"rgb"` (default) or `"grayscale"`.
        min_size: optional `(height, width)`: JPEGs are decoded at 1/2, 1/4 or
            1/8 scale in the DCT domain while the decoded image still covers
            it (set it to the model's input size, or `size / crop_fraction`).
        max_pixels: decompression-bomb guard, as in `decode_images`.
        formats: file extensions listed (Keras's: bmp, gif, jpeg, jpg, png;
            add `".webp"` to read WebP too).

    Returns:
        A `tf.data.Dataset` of `(images, labels)` ragged batches (images
        alone for `labels=None`) with Keras's `class_names` and `file_paths`
        attributes, plus `skipped_count`, a `tf.Variable` counting the files
        skipped so far (each is also reported on stderr with its path and
        reason).

    Example:

    >>> ds = image_dataset_from_directory("photos", validation_split=0.2,
    ...                                   subset="training", seed=1)
    >>> model.fit(ds)  # the model starts with Resize(224, 224)
    """
    import tensorflow as tf

    given = [k for k in resize_arguments if k in _RESIZE_ARGUMENTS]
    if given:
        raise TypeError(
            f"image_dataset_from_directory does not resize at load ({', '.join(given)} "
            "given): put `keras_resize_layers.layers.Resize(height, width, ...)` first "
            "in the model, and pass `min_size=(height, width)` here to decode JPEGs no "
            "larger than needed.")
    if resize_arguments:
        raise TypeError(f"Unexpected arguments: {sorted(resize_arguments)}")
    if label_mode not in LABEL_MODES:
        raise ValueError(f"`label_mode` must be one of {LABEL_MODES}. Received: {label_mode!r}")
    if labels is None or label_mode is None:
        labels, label_mode = (None, None) if labels is None else (labels, None)
    if color_mode not in ("rgb", "grayscale"):
        raise ValueError(f"`color_mode` must be 'rgb' or 'grayscale'. Received: {color_mode!r} "
                         "(images are decoded to RGB with alpha composited).")
    _check_split(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, label_array, names = index_directory(directory, labels, class_names, shuffle,
                                                seed, follow_links, tuple(formats))
    if label_mode == "binary" and len(names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={names}")
    if verbose:
        print(f"Found {len(paths)} files" + ("." if names is None else
                                            f" belonging to {len(names)} classes."))

    def build(part):
        part_paths, part_labels = _split(paths, label_array, validation_split, part)
        if not part_paths:
            raise ValueError(f"No images found in directory {directory}. Allowed formats: "
                             f"{tuple(formats)}")
        if verbose and validation_split:
            print(f"Using {len(part_paths)} files for {part}.")
        columns = {"path": tf.constant(part_paths)}
        if part_labels is not None:
            columns["label"] = tf.constant(part_labels)
        ds = tf.data.Dataset.from_tensor_slices(columns)
        if shuffle and part != "validation":
            ds = ds.shuffle(8 * batch_size if batch_size else 1024, seed=seed)
        ds = ds.map(lambda e: dict(e, image=tf.io.read_file(e["path"])))
        decoded = decoding.decode_images(ds, on_error="skip", name_key="path",
                                     max_pixels=max_pixels, min_size=min_size)

        def output(element):
            image = element["image"]
            if color_mode == "grayscale":
                image = tf.image.rgb_to_grayscale(image)
            if "label" not in element:
                return image
            label = element["label"]
            if label_mode == "categorical":
                label = tf.one_hot(label, len(names))
            elif label_mode == "binary":
                label = tf.cast(label, tf.float32)[None]
            return image, label

        ds = decoded.dataset.map(output, num_parallel_calls=tf.data.AUTOTUNE)
        if batch_size is not None:
            ds = ds.ragged_batch(batch_size)
        ds = ds.prefetch(tf.data.AUTOTUNE)
        ds.class_names, ds.file_paths = names, part_paths
        ds.skipped_count = decoded.dataset_skipped
        return ds

    if subset == "both":
        return [build("training"), build("validation")]
    return build(subset)
