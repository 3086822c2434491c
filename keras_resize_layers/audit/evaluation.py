"""`resize_sensitivity`: every variant against the reference on the same images and model."""

import os
import time

import numpy as np

from keras_resize_layers.audit import stats
from keras_resize_layers.audit.report import percent
from keras_resize_layers.audit.variants import DEFAULT_REFERENCE, Variant, default_variants

def _as_images(images):
    """A list of uint8 (H, W, 3) arrays from arrays, a ragged batch, a dense batch or paths."""
    if hasattr(images, "to_list") and hasattr(images, "row_lengths"):  # tf.RaggedTensor
        images = [images[i].numpy() for i in range(int(images.shape[0]))]
    elif isinstance(images, np.ndarray) and images.ndim == 4:
        images = list(images)
    out = []
    for i, image in enumerate(images):
        if isinstance(image, (str, os.PathLike, bytes)):
            from keras_resize_layers import decode

            contents = open(image, "rb").read() if not isinstance(image, bytes) else image
            image = decode.decode_image(contents).numpy()
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image {i}: expected uint8 (H, W, 3), got {image.dtype} "
                             f"{image.shape}")
        out.append(image)
    if not out:
        raise ValueError("`images` is empty: the audit needs at least one image.")
    return out


def _input_size(model, input_size):
    shape = tuple(model.inputs[0].shape)
    fixed = len(shape) == 4 and None not in shape[1:3]
    if input_size is not None:
        input_size = tuple(int(v) for v in input_size)
        if fixed and tuple(shape[1:3]) != input_size:
            raise ValueError(f"input_size={input_size} but the model takes {tuple(shape[1:3])}")
        return input_size, not fixed
    if not fixed:
        raise ValueError("The model's input size is unknown (its input is "
                         f"{shape}): pass input_size=(height, width), the size it was trained "
                         "at.")
    return tuple(shape[1:3]), False


def _probabilities(outputs, kind):
    outputs = np.asarray(outputs, np.float64)
    if kind == "auto":
        kind = "probabilities" if (outputs.min() >= 0 and np.allclose(
            outputs.sum(-1), 1, atol=1e-3)) else "logits"
    if kind == "logits":
        outputs = np.exp(outputs - outputs.max(-1, keepdims=True))
        outputs /= outputs.sum(-1, keepdims=True)
    return outputs


def _predict(model, inputs, batch_size):
    import keras

    dtype = str(model.inputs[0].dtype)
    if "int" in dtype:
        inputs = np.clip(np.round(inputs), 0, 255).astype(dtype)
    out = []
    for start in range(0, len(inputs), batch_size):
        out.append(keras.ops.convert_to_numpy(model(inputs[start:start + batch_size],
                                                    training=False)))
    return np.concatenate(out)


def _interval(estimate):
    return {"value": estimate[0], "low": estimate[1], "high": estimate[2]}


def resize_sensitivity(model, images, labels=None, reference=DEFAULT_REFERENCE, variants=None,
                       batch_size=32, input_size=None, outputs="auto", seed=0):
    """Audits how the resize before `model` changes its predictions.

    Args:
        model: a Keras model (or anything callable like one, e.g. a reloaded `.keras` file)
            taking images on the 0..255 scale (float, or uint8 inputs: rounded).
        images: images of any size: a list of uint8 `(H, W, 3)` arrays, a ragged or dense
            batch, or file paths / encoded bytes.
        labels: optional int labels, one per image: adds accuracy and McNemar's test.
        reference: the name of the variant training used (default this library's
            `Resize(policy="crop", crop_fraction=0.875)`), or a `Variant`.
        variants: list of `Variant`s; default `default_variants(size)`.
        batch_size: images per model call.
        input_size: `(height, width)` when the model's input size is not fixed.
        outputs: `"auto"`, `"logits"` or `"probabilities"`.
        seed: of the bootstrap intervals.

    Returns:
        A dict: `reference`, `size`, `images`, `rows` (one per variant: `name`, `family`,
        `agreement`, `kl`, `top5_overlap` each `{value, low, high}`, `images_per_s`, with
        labels `accuracy`, `accuracy_difference`, `mcnemar_p`, `discordant`), `skipped`
        (variants that could not run, with the reason) and `recommendation`.
    """
    images = _as_images(images)
    size, any_size = _input_size(model, input_size)
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(images):
            raise ValueError(f"{len(labels)} labels for {len(images)} images: one label per "
                             "image is needed.")
    variants = list(default_variants(size, sweep=any_size) if variants is None else variants)
    if isinstance(reference, Variant):
        ref_variant = reference
        variants = [v for v in variants if v.name != reference.name]
    else:
        found = [v for v in variants if v.name == reference]
        if not found:
            raise ValueError(f"reference {reference!r} is not among the variants "
                             f"({', '.join(v.name for v in variants[:8])}, ...)")
        ref_variant = found[0]
        variants = [v for v in variants if v.name != reference]

    def run(variant):
        start = time.perf_counter()
        inputs = variant.fn(images, size)
        seconds = time.perf_counter() - start
        expected = variant.output_size or size
        if inputs.shape[1:3] != tuple(expected):
            raise ValueError(f"produced {inputs.shape[1:3]}, expected {expected}")
        return _probabilities(_predict(model, inputs, batch_size), outputs), seconds

    ref_probs, ref_seconds = run(ref_variant)
    ref_top1 = ref_probs.argmax(-1)
    ref_top5 = np.argsort(-ref_probs, -1)[:, :5]
    rows, skipped = [], []
    ref_correct = None if labels is None else (ref_top1 == labels)

    def row(variant, probs, seconds):
        top1 = probs.argmax(-1)
        top5 = np.argsort(-probs, -1)[:, :5]
        same = top1 == ref_top1
        kl = np.sum(ref_probs * (np.log(np.maximum(ref_probs, 1e-12)) -
                                 np.log(np.maximum(probs, 1e-12))), -1)
        k = ref_top5.shape[-1]  # 5, or the number of classes when fewer
        overlap = np.array([len(set(a) & set(b)) / k for a, b in zip(ref_top5, top5)])
        r = {"name": variant.name, "family": variant.family, "note": variant.note,
             "agreement": _interval(stats.wilson(int(same.sum()), len(same))),
             "kl": _interval(stats.bootstrap_mean(kl, seed=seed)),
             "top5_overlap": _interval(stats.bootstrap_mean(overlap, seed=seed)),
             "images_per_s": len(images) / max(seconds, 1e-9)}
        if labels is not None:
            correct = top1 == labels
            b = int(np.sum(ref_correct & ~correct))
            c = int(np.sum(~ref_correct & correct))
            r["accuracy"] = _interval(stats.wilson(int(correct.sum()), len(correct)))
            r["accuracy_difference"] = _interval(stats.paired_difference(
                ref_correct, correct, seed=seed))
            r["mcnemar_p"] = stats.mcnemar_exact(b, c)
            r["discordant"] = {"reference_only": b, "variant_only": c}
        return r

    rows.append(dict(row(ref_variant, ref_probs, ref_seconds), reference=True))
    for variant in variants:
        try:
            probs, seconds = run(variant)
        except ImportError as error:
            skipped.append({"name": variant.name, "reason": str(error)})
            continue
        except Exception as error:  # a model that cannot take this variant's size, ...
            skipped.append({"name": variant.name,
                            "reason": f"{type(error).__name__}: {str(error)[:300]}"})
            continue
        rows.append(row(variant, probs, seconds))
    result = {"reference": ref_variant.name, "size": list(size), "images": len(images),
              "labels": labels is not None, "rows": rows, "skipped": skipped}
    result["recommendation"] = recommendation(result)
    return result


def recommendation(result):
    """Plain words from the rows: what to serve with, and what changes the most."""
    rows = [r for r in result["rows"] if not r.get("reference")]
    if not rows:
        return f"Only the reference pipeline ({result['reference']}) ran."
    change = lambda r: 1 - r["agreement"]["value"]  # noqa: E731
    same_size = [r for r in rows if not r["name"].startswith("size:")]
    others = [r for r in same_size if not r["name"].startswith(("krl:", "jpeg:", "dct:"))]
    best = max(others or same_size, key=lambda r: r["agreement"]["value"])
    worst = max(others or same_size, key=change)
    words = (f"Serve with the reference pipeline {result['reference']} (this library's layer "
             "inside the model gives training's pixels exactly). Of the other libraries' "
             f"pipelines, {best['name']} keeps the same top-1 on {percent(best['agreement'])} of "
             f"the {result['images']} images; {worst['name']} changes it on "
             f"{100 * change(worst):.1f}% [{100 * (1 - worst['agreement']['high']):.1f}, "
             f"{100 * (1 - worst['agreement']['low']):.1f}].")
    if result["labels"]:
        significant = [r for r in rows if r["mcnemar_p"] < 0.05]
        words += (f" With labels, {len(significant)} of {len(rows)} variants differ in "
                  "accuracy from the reference at p < 0.05 (McNemar's exact test).")
    return words
