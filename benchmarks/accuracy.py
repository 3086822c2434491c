"""Accuracy study: how resizing affects prediction accuracy.

    python -m benchmarks.accuracy [--dataset=embedded|synthetic|tfds:NAME|dir:PATH]
        [--quick] [--model=small_cnn|MobileNetV3Small|...] [--seeds=N]
        [--epochs=N] [--output_dir=results]

Experiments (each a report section: table, plot, mean +- std over seeds, and
which differences exceed the seed-to-seed noise):
  resolution  accuracy vs input resolution, against the native baseline
  method      method x antialias at a strong shrink factor
  policy      stretch vs crop vs pad
  skew        trained with the embedded layer, evaluated on inputs
              pre-resized by Pillow, OpenCV, non-antialiased tf.image
  fixres      test-time resolution sweep for a RandomResizedCrop model
Every configuration also reports its preprocessing cost (images/s).
Results are cached per configuration in OUTPUT_DIR/cache: a rerun resumes.
"""

import hashlib
import json
import os
import time

import numpy as np
from absl import app, flags

from benchmarks import common_flags  # noqa: F401  (--quick, --output_dir)
from benchmarks import report_files
from benchmarks.progress import Progress

FLAGS = flags.FLAGS
flags.DEFINE_string("dataset", "embedded", "embedded, synthetic, tfds:NAME or dir:PATH.")
flags.DEFINE_string("data_dir", None, "TFDS data_dir.")
flags.DEFINE_string("train_split", "train", "TFDS train split.")
flags.DEFINE_string("test_split", "test", "TFDS test split.")
flags.DEFINE_string("model", "small_cnn", "small_cnn or a keras.applications class name "
                    "(weights=None), e.g. MobileNetV3Small.")
flags.DEFINE_integer("seeds", None, "Training seeds per configuration.")
flags.DEFINE_integer("epochs", None, "Training epochs.")
flags.DEFINE_integer("max_train", None, "Cap on training images.")
flags.DEFINE_integer("max_test", None, "Cap on test images.")
flags.DEFINE_list("experiments", ["resolution", "method", "policy", "skew", "fixres"],
                  "Experiments to run.")

EXPERIMENTS = ("resolution", "method", "policy", "skew", "fixres")


def settings(quick, seeds=None, epochs=None, max_train=None, max_test=None):
    s = dict(seeds=2, epochs=5, max_train=1200, max_test=400, batch_size=64,
             resolutions=[12, 16, 24, 32, 48], native=48, method_size=16,
             methods=[("nearest", False), ("bilinear", True), ("bilinear", False),
                      ("bicubic", True), ("bicubic", False), ("area", True),
                      ("lanczos3", True), ("lanczos3", False)],
             policy_size=32, skew_size=24, fixres_train=24, fixres_test=[16, 24, 32, 48])
    if not quick:
        s.update(seeds=3, epochs=10, max_train=4000, max_test=1000,
                 resolutions=[8, 12, 16, 24, 32, 48, 64, 96], native=96, method_size=16,
                 fixres_test=[16, 24, 32, 40, 48, 64])
    for key, value in (("seeds", seeds), ("epochs", epochs), ("max_train", max_train),
                       ("max_test", max_test)):
        if value:
            s[key] = value
    return s


# ---- models ------------------------------------------------------------------------

def backbone(name, num_classes):
    import keras

    if name == "small_cnn":
        layers = [keras.Input((None, None, 3)), keras.layers.Rescaling(1 / 255.0)]
        for filters, pool in ((32, True), (64, True), (128, False)):
            layers += [keras.layers.Conv2D(filters, 3, padding="same", use_bias=False),
                       keras.layers.BatchNormalization(momentum=0.9), keras.layers.ReLU()]
            if pool:
                layers.append(keras.layers.MaxPooling2D())
        layers += [keras.layers.GlobalMaxPooling2D(),
                   keras.layers.Dense(num_classes, activation="softmax")]
        return keras.Sequential(layers, name="small_cnn")
    application = getattr(keras.applications, name, None)
    if application is None:
        raise ValueError(f"Unknown --model={name!r}: small_cnn or a keras.applications "
                         "class name.")
    net = application(input_shape=(None, None, 3), weights=None, include_top=False,
                      pooling="avg")
    inputs = keras.Input((None, None, 3))
    x = net(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(x),
                       name=name)


def train(split, prep, seed, cfg, model_name):
    """Trains `Input(uint8, any size) -> prep -> backbone`; returns (model, net)."""
    import keras
    import tensorflow as tf

    from keras_resize_layers import data

    keras.utils.set_random_seed(seed)
    net = backbone(model_name, split.num_classes)
    inputs = keras.Input((None, None, 3), dtype="uint8")
    model = keras.Model(inputs, net(prep(inputs)))
    model.compile(keras.optimizers.Adam(2e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    ds = tf.data.Dataset.from_tensor_slices((data.to_ragged(split.train_images),
                                             split.train_labels))
    ds = ds.shuffle(len(split.train_images), seed=seed).ragged_batch(cfg["batch_size"])
    model.fit(ds.prefetch(2), epochs=cfg["epochs"], verbose=0)
    return model, net


def evaluate(net, prep, images, labels, batch_size=128):
    """Accuracy of `net(prep(images))`; images: list (ragged) or uint8 array."""
    import tensorflow as tf

    from keras_resize_layers import data

    x = data.to_ragged(images) if isinstance(images, list) else images
    ds = tf.data.Dataset.from_tensor_slices(x)
    ds = ds.ragged_batch(batch_size) if isinstance(images, list) else ds.batch(batch_size)
    predictions = np.concatenate([np.asarray(net(prep(b, training=False), training=False))
                                  for b in ds])
    return float(np.mean(predictions.argmax(-1) == labels))


def preprocess_rate(prep, images, repeats=3):
    """images/s of the preprocessing layer, compiled as in a model, on the test
    images as one ragged batch."""
    import tensorflow as tf

    from keras_resize_layers import data

    batch = data.to_ragged(images)
    fn = tf.function(lambda x: prep(x, training=False))
    fn(batch)
    start = time.perf_counter()
    for _ in range(repeats):
        fn(batch).numpy()
    return len(images) * repeats / (time.perf_counter() - start)


# ---- external resizers for the skew matrix ----------------------------------------

def external_resizers(size):
    import cv2
    import tensorflow as tf
    from PIL import Image

    h, w = size

    def to_uint8(x):
        return np.clip(np.round(np.asarray(x, np.float64)), 0, 255).astype(np.uint8)

    return {
        "Pillow BILINEAR (antialiased)": lambda im: np.asarray(
            Image.fromarray(im).resize((w, h), Image.BILINEAR)),
        "OpenCV INTER_LINEAR": lambda im: cv2.resize(im, (w, h), interpolation=cv2.INTER_LINEAR),
        "OpenCV INTER_AREA": lambda im: cv2.resize(im, (w, h), interpolation=cv2.INTER_AREA),
        "tf.image.resize bilinear antialias=False": lambda im: to_uint8(
            tf.image.resize(im, (h, w), antialias=False)),
    }


# ---- experiments --------------------------------------------------------------------

def _key(*parts):
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


class Cache:
    def __init__(self, folder):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)

    def get(self, key):
        path = os.path.join(self.folder, key + ".json")
        if os.path.exists(path):
            with open(path) as f:
                return json.load(f)
        return None

    def put(self, key, value):
        with open(os.path.join(self.folder, key + ".json"), "w") as f:
            json.dump(value, f)
        return value


def plan(cfg, experiments):
    """[(experiment, label, spec)] — one training per (spec, seed)."""
    jobs = []
    if "resolution" in experiments:
        for r in cfg["resolutions"]:
            label = f"{r}x{r}" + (" (native)" if r == cfg["native"] else "")
            jobs.append(("resolution", label, dict(kind="resize", size=r)))
    if "method" in experiments:
        for method, aa in cfg["methods"]:
            jobs.append(("method", f"{method} antialias={aa}",
                         dict(kind="resize", size=cfg["method_size"], method=method,
                              antialias=aa)))
    if "policy" in experiments:
        for policy in ("stretch", "crop", "pad"):
            jobs.append(("policy", policy, dict(kind="resize", size=cfg["policy_size"],
                                                 policy=policy, fill_value=128.0)))
    if "skew" in experiments:
        jobs.append(("skew", "trained with embedded Resize", dict(kind="skew",
                                                                  size=cfg["skew_size"])))
    if "fixres" in experiments:
        jobs.append(("fixres", "RandomResizedCrop", dict(kind="fixres",
                                                         size=cfg["fixres_train"])))
    return jobs


def run_job(split, spec, seed, cfg, model_name):
    """Trains once and returns {label: accuracy, ...} plus cost figures."""
    from keras_resize_layers.layers import RandomResizedCrop, Resize

    size = spec["size"]
    if spec["kind"] == "resize":
        prep = Resize(size, size, method=spec.get("method", "bilinear"),
                      antialias=spec.get("antialias", True),
                      policy=spec.get("policy", "stretch"),
                      fill_value=spec.get("fill_value", 0.0))
        _, net = train(split, prep, seed, cfg, model_name)
        return dict(accuracy=evaluate(net, prep, split.test_images, split.test_labels),
                    images_per_s=preprocess_rate(prep, split.test_images))
    if spec["kind"] == "skew":
        prep = Resize(size, size)
        _, net = train(split, prep, seed, cfg, model_name)
        out = {"embedded Resize layer (same as training)": dict(
            accuracy=evaluate(net, prep, split.test_images, split.test_labels),
            images_per_s=preprocess_rate(prep, split.test_images))}
        for name, fn in external_resizers((size, size)).items():
            start = time.perf_counter()
            resized = np.stack([fn(im) for im in split.test_images])
            rate = len(resized) / (time.perf_counter() - start)
            out[name] = dict(accuracy=evaluate(net, prep, resized, split.test_labels),
                             images_per_s=rate)
        return out
    # fixres: RandomResizedCrop in training, centre crop at several test sizes.
    crop = RandomResizedCrop(size, size, scale=(0.35, 1.0), crop_fraction=0.875, seed=seed)
    _, net = train(split, crop, seed, cfg, model_name)
    out = {}
    for test_size in cfg["fixres_test"]:
        prep = Resize(test_size, test_size, policy="crop", crop_fraction=0.875)
        out[f"test {test_size}x{test_size}"] = dict(
            accuracy=evaluate(net, prep, split.test_images, split.test_labels),
            images_per_s=preprocess_rate(prep, split.test_images))
    return out


def summarize(values):
    values = np.array(values, np.float64)
    return dict(mean=float(values.mean()), std=float(values.std(ddof=1)) if len(values) > 1
                else 0.0, n=int(len(values)), values=values.tolist())


def noise_verdicts(rows):
    """Marks rows whose mean differs from the best row's by more than 2 x pooled std."""
    best = max(rows, key=lambda r: r["accuracy"]["mean"])
    for r in rows:
        a, b = r["accuracy"], best["accuracy"]
        pooled = np.sqrt((a["std"] ** 2 + b["std"] ** 2) / 2)
        delta = b["mean"] - a["mean"]
        r["delta_vs_best"] = float(delta)
        if min(a["n"], b["n"]) < 2:
            r["exceeds_noise"] = None  # one seed: no noise estimate
        else:
            r["exceeds_noise"] = bool(r is not best and delta > 2 * pooled)
    return best["label"]


def run(dataset, cfg, experiments, model_name, output_dir, data_kwargs=None):
    from benchmarks import datasets

    split = datasets.load(dataset, max_train=cfg["max_train"], max_test=cfg["max_test"],
                          **(data_kwargs or {}))
    cache = Cache(os.path.join(output_dir, "cache", "accuracy"))
    jobs = plan(cfg, experiments)
    raw = {}
    train_keys = {k: cfg[k] for k in ("epochs", "max_train", "max_test", "batch_size")}
    with Progress(len(jobs) * cfg["seeds"], "accuracy") as progress:
        for experiment, label, spec in jobs:
            for seed in range(cfg["seeds"]):
                progress.step(f"{experiment}: {label} seed {seed}")
                key = _key(dataset, model_name, spec, seed, train_keys,
                           cfg.get("fixres_test"))
                result = cache.get(key)
                if result is None:
                    result = cache.put(key, run_job(split, spec, seed, cfg, model_name))
                raw.setdefault((experiment, label), []).append(result)
    sections = {}
    for (experiment, label), results in raw.items():
        if "accuracy" in results[0]:
            rows = [dict(label=label, accuracy=summarize([r["accuracy"] for r in results]),
                         images_per_s=float(np.median([r["images_per_s"] for r in results])))]
        else:
            rows = [dict(label=name, accuracy=summarize([r[name]["accuracy"] for r in results]),
                         images_per_s=float(np.median([r[name]["images_per_s"]
                                                       for r in results])))
                    for name in results[0]]
        sections.setdefault(experiment, []).extend(rows)
    for rows in sections.values():
        noise_verdicts(rows)
    report = dict(benchmark="accuracy", date=time.strftime("%Y-%m-%d"), dataset=dataset,
                  dataset_description=split.description, model=model_name,
                  train_images=len(split.train_images), test_images=len(split.test_images),
                  skipped_files=[p for p, _ in split.skipped],
                  config={k: v for k, v in cfg.items()}, sections=sections)
    write(report, output_dir)
    return report


TITLES = {
    "resolution": "Accuracy vs input resolution (stretch, bilinear, antialias)",
    "method": "Method x antialias at a strong shrink",
    "policy": "Aspect-ratio policy",
    "skew": "Train/serve skew: trained with the embedded Resize layer, served other resizes",
    "fixres": "Test-time resolution for a RandomResizedCrop-trained model (FixRes effect)",
}


def markdown(report):
    cfg = report["config"]
    lines = [f"# Accuracy study — {report['dataset']}, model {report['model']} "
             f"({report['date']})", "",
             f"{report['dataset_description']}. {report['train_images']} training / "
             f"{report['test_images']} test images; {cfg['epochs']} epochs; "
             f"{cfg['seeds']} seeds per configuration (mean ± std). A difference "
             "*exceeds noise* when the gap to the best row is more than twice the pooled "
             "seed-to-seed standard deviation.", ""]
    if report["skipped_files"]:
        lines += [f"Skipped {len(report['skipped_files'])} undecodable files: "
                  + ", ".join(report["skipped_files"][:10]), ""]
    for name in EXPERIMENTS:
        rows = report["sections"].get(name)
        if not rows:
            continue
        lines += [f"## {TITLES[name]}", "", f"![{name}](accuracy_{name}.png)", "",
                  "| configuration | accuracy | gap to best | exceeds noise | "
                  "preprocessing images/s |", "|---|---|---|---|---|"]
        for r in rows:
            a = r["accuracy"]
            lines.append(f"| {r['label']} | {a['mean']:.3f} ± {a['std']:.3f} | "
                         f"{-r['delta_vs_best']:+.3f} | "
                         f"{ {True: 'yes', False: 'no', None: 'n/a (1 seed)'}[r['exceeds_noise']]} | "
                         f"{r['images_per_s']:.0f} |")
        lines.append("")
    return "\n".join(lines)


def plot(report, output_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for name, rows in report["sections"].items():
        fig, ax = plt.subplots(figsize=(7, 1.6 + 0.38 * len(rows)))
        labels = [r["label"] for r in rows]
        means = [r["accuracy"]["mean"] for r in rows]
        stds = [r["accuracy"]["std"] for r in rows]
        colors = ["tab:red" if r["exceeds_noise"] else "tab:blue" for r in rows]  # None: blue
        ax.barh(labels, means, xerr=stds, color=colors, capsize=3)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("test accuracy (red: below the best by more than the seed noise)")
        ax.set_title(TITLES[name], fontsize=9)
        ax.tick_params(labelsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(output_dir, f"accuracy_{name}.png"), dpi=90)
        plt.close(fig)


def write(report, output_dir):
    report_files.write(output_dir, "accuracy", report, markdown, plot)


def main(argv):
    del argv
    unknown = set(FLAGS.experiments) - set(EXPERIMENTS)
    if unknown:
        raise SystemExit(f"Unknown --experiments {sorted(unknown)}; choose from {EXPERIMENTS}")
    cfg = settings(FLAGS.quick, FLAGS.seeds, FLAGS.epochs, FLAGS.max_train, FLAGS.max_test)
    report = run(FLAGS.dataset, cfg, FLAGS.experiments, FLAGS.model, FLAGS.output_dir,
                 dict(data_dir=FLAGS.data_dir, train_split=FLAGS.train_split,
                      test_split=FLAGS.test_split) if FLAGS.dataset.startswith("tfds:")
                 else None)
    print(markdown(report))


if __name__ == "__main__":
    app.run(main)
