"""`python -m keras_resize_layers.audit`: audit a saved model on a folder or a TFDS set."""

import os

import numpy as np

from keras_resize_layers.audit.evaluation import resize_sensitivity
from keras_resize_layers.audit.report import write_report
from keras_resize_layers.audit.variants import DEFAULT_REFERENCE, default_variants

def _load_data(spec, labels, limit):
    """`(images, labels or None, skipped files as [{"file", "reason"}])`."""
    if spec.startswith("dir:"):
        import tensorflow as tf

        from keras_resize_layers.data import decoding, directory

        paths, label_array, _ = directory.index_directory(
            spec[4:], labels="inferred" if labels == "inferred" else None, shuffle=False)
        if limit:
            paths = paths[:limit]
        columns = {"path": tf.constant(paths, tf.string)}
        if labels == "inferred":
            columns["label"] = tf.constant(label_array[:len(paths)])
        files = tf.data.Dataset.from_tensor_slices(columns).map(
            lambda e: dict(e, image=tf.io.read_file(e["path"])))
        decoded = decoding.decode_images(files, on_error="skip", name_key="path")
        images, ys = [], []
        for element in decoded:
            images.append(element["image"].numpy())
            ys.append(int(element["label"]) if labels == "inferred" else None)
        skipped = [{"file": name, "reason": reason} for name, reason in decoded.skipped]
        if not images:
            raise ValueError(f"No decodable images in {spec[4:]} ({len(skipped)} skipped).")
        return images, (ys if labels == "inferred" else None), skipped
    if spec.startswith("tfds:"):
        import tensorflow_datasets as tfds

        ds = tfds.load(spec[5:], split="test", as_supervised=True)
        images, ys = [], []
        for image, y in ds.take(limit or 1000):
            image = image.numpy()
            images.append(np.repeat(image, 3, -1) if image.shape[-1] == 1 else image)
            ys.append(int(y))
        return images, (ys if labels == "inferred" else None), []
    raise ValueError(f"--data must be dir:PATH or tfds:NAME. Received: {spec!r}")


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(prog="python -m keras_resize_layers.audit",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help=".keras file or SavedModel folder")
    parser.add_argument("--data", required=True, help="dir:PATH or tfds:NAME")
    parser.add_argument("--labels", choices=["inferred", "none"], default="none")
    parser.add_argument("--input_size", default=None, help="HxW when the model takes any size")
    parser.add_argument("--reference", default=DEFAULT_REFERENCE)
    parser.add_argument("--limit", type=int, default=0, help="at most this many images")
    parser.add_argument("--batch_size", type=int, default=32)
    parser.add_argument("--variants", default=None,
                        help="comma-separated pipeline names to audit (the reference always "
                        "runs); default: every pipeline")
    parser.add_argument("--output_dir", default="audit")
    args = parser.parse_args(argv)
    import keras

    if os.path.isdir(args.model):
        if args.input_size is None:
            raise SystemExit("--input_size HxW is needed for a SavedModel")
        layer = keras.layers.TFSMLayer(args.model, call_endpoint="serving_default")
        inputs = keras.Input((*(int(v) for v in args.input_size.split("x")), 3))
        outputs = layer(inputs)
        if isinstance(outputs, dict):
            outputs = next(iter(outputs.values()))
        model = keras.Model(inputs, outputs)
    else:
        model = keras.models.load_model(args.model)
    size = None if args.input_size is None else tuple(int(v) for v in args.input_size.split("x"))
    variants = None
    if args.variants:
        try:
            variants = default_variants(size or model.input_shape[1:3], sweep=size is not None,
                                        reference=args.reference,
                                        names=args.variants.split(","))
        except ValueError as error:
            raise SystemExit(f"--variants: {error}") from None
    images, labels, skipped = _load_data(args.data, args.labels, args.limit)
    result = resize_sensitivity(model, images, labels, reference=args.reference,
                                variants=variants, batch_size=args.batch_size, input_size=size)
    result["unreadable_files_skipped"] = len(skipped)
    result["skipped_files"] = skipped
    paths = write_report(result, args.output_dir)
    print(result["recommendation"])
    print("wrote", ", ".join(paths.values()))
