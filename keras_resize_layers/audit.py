"""How resizing choices change a trained model's predictions: the resize sensitivity audit.

    python -m keras_resize_layers.audit --model PATH (.keras or SavedModel)
        --data dir:PATH | tfds:NAME [--labels inferred] [--input_size 224x224]
        [--reference NAME] [--limit N] [--output_dir audit]

Every *variant* is a complete serving pipeline from the original image to the model's input:
this library's methods x antialias x policies, Pillow's and OpenCV's filters, `tf.image.resize`,
Keras's `Resizing`, `load_img(target_size=)` and `image_dataset_from_directory` defaults, a
test-resolution sweep, JPEG re-encoding and DCT-domain decoding. Each is compared with a
*reference* pipeline (the one training used) on the same images and the same model: top-1
agreement, KL divergence and top-5 overlap with 95% intervals; with labels, accuracy and the
paired difference to the reference with McNemar's exact test. Pillow and OpenCV variants need
the `[bench]` extra (`pip install "keras_resize_layers[bench]"`). The library's variants
and Keras's `Resizing` run on any Keras backend (JAX, PyTorch: give the images as arrays);
the tf.image, `image_dataset_from_directory` and DCT variants need TensorFlow and are
listed as skipped, with the reason, without it.
"""

import io
import json
import math
import os
import time

import numpy as np

from keras_resize_layers._core import stats

__all__ = ["resize_sensitivity", "library_variants", "default_variants", "write_report",
           "Variant", "DEFAULT_REFERENCE"]

CROP = 0.875
DEFAULT_REFERENCE = "krl:bilinear+aa"
SWEEP = (0.75, 0.875, 1.143, 1.286)


class Variant:
    """A serving pipeline: `fn(images, size)` maps a list of uint8 `(H, W, 3)` images to
    float32 model inputs `(N, h, w, 3)` on the 0..255 scale. `size` is the model's input
    size; `output_size` (default `size`) the size the variant produces."""

    def __init__(self, name, family, fn, output_size=None, note=""):
        self.name, self.family, self.fn = name, family, fn
        self.output_size, self.note = output_size, note

    def __repr__(self):
        return f"Variant({self.name!r})"


def _needs(module, extra="bench"):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"this variant needs {module}: pip install "
                          f'"keras_resize_layers[{extra}]"') from error


def _crop_boxes(images, size, fraction=CROP):
    """The library's centre-crop boxes `[y, x, h, w]` per image (the same integers as
    `resize(policy="crop")`), so other libraries' variants crop exactly as ours."""
    from keras_resize_layers._core import backend as backend_lib
    from keras_resize_layers._core import geometry

    bk = backend_lib.numpy_backend()
    heights = np.array([i.shape[0] for i in images], np.int32)
    widths = np.array([i.shape[1] for i in images], np.int32)
    g = geometry.for_policy(bk, "crop", heights, widths, size, fraction)
    n = len(images)
    return [[int(np.broadcast_to(g[k], (n,))[i]) for k in ("box_y", "box_x", "box_h", "box_w")]
            for i in range(n)]


def _cropped(images, size, fraction=CROP):
    return [image[y:y + h, x:x + w] for image, (y, x, h, w) in
            zip(images, _crop_boxes(images, size, fraction))]


def _padded(images):
    """Images of any size -> (zero-padded uint8 batch, `image_sizes`)."""
    height = max(i.shape[0] for i in images)
    width = max(i.shape[1] for i in images)
    batch = np.zeros((len(images), height, width, 3), np.uint8)
    for k, image in enumerate(images):
        batch[k, :image.shape[0], :image.shape[1]] = image
    return batch, np.array([i.shape[:2] for i in images], np.int32)


def _library(method, antialias, policy="crop", fraction=CROP):
    """This library's `resize` on padded batches with `image_sizes`: any Keras backend,
    the same pixels as a ragged batch."""
    def fn(images, size):
        from keras import ops

        from keras_resize_layers import resize

        out = []
        for start in range(0, len(images), 32):
            batch, sizes = _padded(images[start:start + 32])
            out.append(ops.convert_to_numpy(resize(
                batch, size, method=method, antialias=antialias, policy=policy,
                crop_fraction=fraction, image_sizes=sizes)))
        return np.concatenate(out)

    return fn


def _pillow(filter_name):
    def fn(images, size):
        image_module = _needs("PIL.Image")
        resample = getattr(image_module.Resampling, filter_name)
        return np.stack([np.asarray(image_module.fromarray(c).resize(
            (size[1], size[0]), resample), np.float32) for c in _cropped(images, size)])

    return fn


def _opencv(flag):
    def fn(images, size):
        cv2 = _needs("cv2")
        return np.stack([cv2.resize(c, (size[1], size[0]), interpolation=getattr(cv2, flag))
                         .astype(np.float32) for c in _cropped(images, size)])

    return fn


def _tf_image(method, antialias, crop=True):
    def fn(images, size):
        import tensorflow as tf

        parts = _cropped(images, size) if crop else images
        return np.stack([tf.image.resize(p, size, method=method, antialias=antialias).numpy()
                         for p in parts]).astype(np.float32)

    return fn


def _keras_resizing(images, size):
    import keras

    layer = keras.layers.Resizing(*size)  # Keras's defaults: bilinear, no antialias, stretch
    return np.stack([keras.ops.convert_to_numpy(layer(i[None].astype(np.float32)))[0]
                     for i in images])


def _keras_load_img(images, size):
    import keras

    image_module = _needs("PIL.Image")
    out = []
    for image in images:
        buffer = io.BytesIO()
        image_module.fromarray(image).save(buffer, "PNG")
        buffer.seek(0)
        out.append(keras.utils.img_to_array(keras.utils.load_img(buffer, target_size=size)))
    return np.stack(out).astype(np.float32)


def _jpeg_bytes(image, quality):
    image_module = _needs("PIL.Image")
    buffer = io.BytesIO()
    image_module.fromarray(image).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _reencoded(decode, quality, reference):
    """A pipeline that JPEG-encodes each image at `quality`, decodes it with `decode`, then
    resizes with `reference`."""
    def fn(images, size):
        return reference([decode(_jpeg_bytes(image, quality)) for image in images], size)

    return fn


def _jpeg(quality, reference):
    def decode(contents):
        image_module = _needs("PIL.Image")
        return np.asarray(image_module.open(io.BytesIO(contents)).convert("RGB"))

    return _reencoded(decode, quality, reference)


def _dct(ratio, reference):
    def decode(contents):
        import tensorflow as tf

        return tf.io.decode_jpeg(contents, channels=3, ratio=ratio).numpy()

    return _reencoded(decode, 95, reference)


def library_variants(methods=("bilinear", "bicubic", "lanczos3", "area", "nearest")):
    """This library's methods x antialias (centre crop 0.875) and its policies."""
    variants = []
    for method in methods:
        for aa in ((True, False) if method not in ("area", "nearest") else (True,)):
            name = f"krl:{method}+aa" if aa and method not in ("area", "nearest") \
                else f"krl:{method}"
            variants.append(Variant(name, "this library (crop 0.875)", _library(method, aa)))
    variants += [
        Variant("krl:bilinear+aa stretch", "this library, policy",
                _library("bilinear", True, "stretch")),
        Variant("krl:bilinear+aa pad", "this library, policy", _library("bilinear", True, "pad")),
        Variant("krl:bilinear+aa crop1.0", "this library, policy",
                _library("bilinear", True, "crop", 1.0)),
    ]
    return variants


def default_variants(size, sweep=True, reference=DEFAULT_REFERENCE):
    """Every variant of the audit for a model of input `size` (see the module docstring).
    `sweep=False` leaves out the test-resolution sweep (a model of fixed input size)."""
    variants = library_variants()
    by_name = {v.name: v for v in variants}
    ref_fn = by_name[reference].fn if reference in by_name else _library("bilinear", True)
    variants += [Variant(f"pillow:{f}", "Pillow (crop 0.875)", _pillow(f))
                 for f in ("NEAREST", "BILINEAR", "BICUBIC", "LANCZOS", "BOX")]
    variants += [Variant(f"opencv:{f}", "OpenCV (crop 0.875)", _opencv(f))
                 for f in ("INTER_NEAREST", "INTER_LINEAR", "INTER_CUBIC", "INTER_AREA",
                           "INTER_LANCZOS4")]
    variants += [
        Variant("tf.image.resize:bilinear+aa", "tf.image (crop 0.875)",
                _tf_image("bilinear", True)),
        Variant("tf.image.resize:bilinear", "tf.image (crop 0.875)",
                _tf_image("bilinear", False)),
        Variant("keras:Resizing()", "Keras defaults", _keras_resizing,
                note="bilinear, no antialias, stretch"),
        Variant("keras:load_img(target_size)", "Keras defaults", _keras_load_img,
                note="Pillow NEAREST, stretch"),
        Variant("keras:image_dataset_from_directory()", "Keras defaults",
                _tf_image("bilinear", False, crop=False),
                note="tf.image.resize bilinear, no antialias, stretch (what it calls)"),
        Variant("jpeg:q90", "re-encoding", _jpeg(90, ref_fn)),
        Variant("jpeg:q75", "re-encoding", _jpeg(75, ref_fn)),
        Variant("dct:1/2", "DCT-domain decoding", _dct(2, ref_fn),
                note="forced, even below the crop size (the library only uses it above)"),
        Variant("dct:1/4", "DCT-domain decoding", _dct(4, ref_fn),
                note="forced, even below the crop size (the library only uses it above)"),
    ]
    if sweep:
        sizes = []
        for factor in SWEEP:
            s = (max(8, int(round(size[0] * factor / 8)) * 8),
                 max(8, int(round(size[1] * factor / 8)) * 8))
            if s == tuple(size) or s in sizes:
                continue
            sizes.append(s)
            variants.append(Variant(f"size:{s[0]}x{s[1]}", "test resolution (FixRes)",
                                    lambda images, _, s=s: ref_fn(images, s), output_size=s))
    return variants


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


def _pct(interval):
    return (f"{100 * interval['value']:.1f}% [{100 * interval['low']:.1f}, "
            f"{100 * interval['high']:.1f}]")


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
             f"pipelines, {best['name']} keeps the same top-1 on {_pct(best['agreement'])} of "
             f"the {result['images']} images; {worst['name']} changes it on "
             f"{100 * change(worst):.1f}% [{100 * (1 - worst['agreement']['high']):.1f}, "
             f"{100 * (1 - worst['agreement']['low']):.1f}].")
    if result["labels"]:
        significant = [r for r in rows if r["mcnemar_p"] < 0.05]
        words += (f" With labels, {len(significant)} of {len(rows)} variants differ in "
                  "accuracy from the reference at p < 0.05 (McNemar's exact test).")
    return words


def markdown(result):
    head = ["# Resize sensitivity audit", "", result["recommendation"], "",
            f"{result['images']} images, model input {result['size'][0]}x{result['size'][1]}, "
            f"reference `{result['reference']}`. Intervals: 95% (Wilson for proportions, "
            "bootstrap over images for means; accuracy differences paired, McNemar's exact "
            "test). images/s: the preprocessing alone, one process, first calls (and this "
            "library's XLA compiles) included.", ""]
    cols = "| variant | family | same top-1 as reference | KL(ref ‖ variant) | top-5 overlap |"
    sep = "|---|---|---|---|---|"
    if result["labels"]:
        cols += " accuracy | Δ accuracy | McNemar p |"
        sep += "---|---|---|"
    cols += " images/s |"
    sep += "---|"
    lines = head + [cols, sep]
    for r in sorted(result["rows"], key=lambda r: -r["agreement"]["value"]):
        kl = r["kl"]
        cells = [f"`{r['name']}`" + (" (reference)" if r.get("reference") else ""),
                 r["family"] + (f"; {r['note']}" if r["note"] else ""), _pct(r["agreement"]),
                 f"{kl['value']:.4f} [{kl['low']:.4f}, {kl['high']:.4f}]",
                 f"{r['top5_overlap']['value']:.3f} [{r['top5_overlap']['low']:.3f}, "
                 f"{r['top5_overlap']['high']:.3f}]"]
        if result["labels"]:
            d = r["accuracy_difference"]
            cells += [_pct(r["accuracy"]),
                      f"{100 * d['value']:+.1f} [{100 * d['low']:+.1f}, {100 * d['high']:+.1f}]",
                      f"{r['mcnemar_p']:.3g}"]
        cells.append(f"{r['images_per_s']:,.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    if result["skipped"]:
        lines += ["", "Not run:"] + [f"- `{s['name']}`: {s['reason']}" for s in result["skipped"]]
    return "\n".join(lines) + "\n"


def plot(result, path):
    """Variants sorted with their intervals, the method x antialias grid, the resolution curve."""
    plt = _needs("matplotlib.pyplot")
    rows = sorted(result["rows"], key=lambda r: r["agreement"]["value"])
    fig, axes = plt.subplots(1, 3, figsize=(17, max(6, 0.28 * len(rows))),
                             gridspec_kw={"width_ratios": [2.2, 1, 1]})
    ax = axes[0]
    y = np.arange(len(rows))
    value = np.array([100 * (1 - r["agreement"]["value"]) for r in rows])
    low = np.array([100 * (1 - r["agreement"]["high"]) for r in rows])
    high = np.array([100 * (1 - r["agreement"]["low"]) for r in rows])
    ax.errorbar(value, y, xerr=[np.maximum(value - low, 0), np.maximum(high - value, 0)],
                fmt="o", capsize=3)
    ax.set_yticks(y, [r["name"] for r in rows], fontsize=8)
    ax.set_xlabel("top-1 changed vs the reference (% of images, 95% Wilson interval)")
    ax.set_title(f"{result['images']} images, reference {result['reference']}", fontsize=10)
    grid_rows = [r for r in result["rows"] if r["name"].startswith("krl:") and " " not in r["name"]]
    methods = sorted({r["name"][4:].replace("+aa", "") for r in grid_rows})
    grid = np.full((len(methods), 2), np.nan)
    for r in grid_rows:
        m = r["name"][4:].replace("+aa", "")
        grid[methods.index(m), 0 if r["name"].endswith("+aa") or m in ("area", "nearest")
             else 1] = 100 * r["agreement"]["value"]
    ax = axes[1]
    image = ax.imshow(grid, cmap="viridis", aspect="auto")
    ax.set_xticks([0, 1], ["antialias", "no antialias"])
    ax.set_yticks(range(len(methods)), methods)
    for (i, j), v in np.ndenumerate(grid):
        if not np.isnan(v):
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", color="w")
    ax.set_title("this library: same top-1 (%)", fontsize=10)
    fig.colorbar(image, ax=ax)
    ax = axes[2]
    sweep = sorted(((int(r["name"].split(":")[1].split("x")[0]), r) for r in result["rows"]
                    if r["name"].startswith("size:")), key=lambda pair: pair[0])
    if sweep:
        sizes = [s for s, _ in sweep] + [result["size"][0]]
        kls = [r["kl"]["value"] for _, r in sweep] + [0.0]
        order = np.argsort(sizes)
        ax.plot(np.array(sizes)[order], 100 * (1 - np.array(
            [r["agreement"]["value"] for _, r in sweep] + [1.0]))[order], "o-",
            label="top-1 changed (%)")
        ax.plot(np.array(sizes)[order], np.array(kls)[order] * 100, "s--", label="KL x 100")
        ax.axvline(result["size"][0], color="grey", lw=0.8)
        ax.legend(fontsize=8)
    ax.set_xlabel("test resolution (side, px)")
    ax.set_title("resolution sweep (reference recipe)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(result, output_dir):
    """Writes `audit.json`, `audit.md` and `audit.png` in `output_dir`; returns the paths."""
    os.makedirs(output_dir, exist_ok=True)
    paths = {k: os.path.join(output_dir, f"audit.{k}") for k in ("json", "md", "png")}
    with open(paths["json"], "w") as f:
        json.dump(result, f, indent=1, default=float)
    with open(paths["md"], "w") as f:
        f.write(markdown(result))
    plot(result, paths["png"])
    return paths


def _load_data(spec, labels, limit):
    if spec.startswith("dir:"):
        from keras_resize_layers import data

        ds = data.image_dataset_from_directory(
            spec[4:], labels="inferred" if labels == "inferred" else None, shuffle=False,
            batch_size=None, verbose=False)
        images, ys = [], []
        for element in ds.take(limit) if limit else ds:
            image, y = element if labels == "inferred" else (element, None)
            images.append(image.numpy())
            ys.append(None if y is None else int(y))
        skipped = int(ds.skipped_count.numpy())
        if not images:
            raise ValueError(f"No decodable images in {spec[4:]} ({skipped} skipped).")
        return images, (ys if labels == "inferred" else None), skipped
    if spec.startswith("tfds:"):
        import tensorflow_datasets as tfds

        ds = tfds.load(spec[5:], split="test", as_supervised=True)
        images, ys = [], []
        for image, y in ds.take(limit or 1000):
            image = image.numpy()
            images.append(np.repeat(image, 3, -1) if image.shape[-1] == 1 else image)
            ys.append(int(y))
        return images, (ys if labels == "inferred" else None), 0
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
    images, labels, skipped = _load_data(args.data, args.labels, args.limit)
    result = resize_sensitivity(model, images, labels, reference=args.reference,
                                batch_size=args.batch_size, input_size=size)
    result["unreadable_files_skipped"] = skipped
    paths = write_report(result, args.output_dir)
    print(result["recommendation"])
    print("wrote", ", ".join(paths.values()))


if __name__ == "__main__":
    main()
