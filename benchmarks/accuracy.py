"""Accuracy study: how resizing affects prediction accuracy, with intervals.

    python -m benchmarks.accuracy [--dataset=embedded|synthetic|tfds:NAME|dir:PATH]
        [--quick] [--model=small_cnn|MobileNetV3Small|...] [--seeds=N] [--epochs=N]
        [--data_path=padded|ragged] [--jit_compile=auto|true|false]
        [--output_dir=results] [--update_readme=README.md]

Two kinds of comparison, each with the statistics that fit it:
- training-time (a model trained per configuration and seed): resolution, method x
  antialias when training and serving agree, aspect policy, learned vs fixed resizer.
  Each row: mean accuracy with a 95% t-interval over seeds and test images; each
  difference against the section's reference configuration (never against the best
  row): paired by seed and image, t-interval, "inconclusive" when it holds zero.
- evaluation-time (one trained model served two ways on the same images): antialias
  when training and serving disagree, serving with other libraries (skew), test-time
  resolution (FixRes). Per seed McNemar's exact test, and a paired bootstrap interval
  over test images combined across seeds.
The report opens with five sentences generated from these numbers.

Data path: `padded` (default, every backend) feeds NumPy batches zero-padded to one
canvas with each image's size (`image_sizes`), so the model compiles once, with XLA on
TensorFlow or under jax.jit; `ragged` (TensorFlow) feeds tf.data ragged batches.
Results are cached per (configuration, seed) in OUTPUT_DIR/cache/accuracy under a key
of the library's source, this module's, the dataset, model and every setting.
"""

import hashlib
import json
import math
import os
import re
import textwrap
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
flags.DEFINE_list("experiments", ["resolution", "method", "policy", "skew", "fixres",
                                  "learned"], "Experiments to run.")
flags.DEFINE_enum("data_path", "padded", ["padded", "ragged"],
                  "padded: NumPy batches with image_sizes (every backend); ragged: "
                  "tf.data ragged batches (TensorFlow).")
flags.DEFINE_enum("jit_compile", "auto", ["auto", "true", "false"],
                  "Keras's jit_compile for training and prediction.")
flags.DEFINE_integer("workers", 0, "Training processes (0: one per core, at most 8, on a "
                     "CPU; 1 on a GPU). Each trains single-threaded.")
flags.DEFINE_string("update_readme", None, "Rewrite the accuracy summary block of this "
                    "README from the run.")
flags.DEFINE_string("from_report", None, "With --update_readme: take the summary from this "
                    "accuracy.json (a finished run, e.g. the main job's) instead of running.")

EXPERIMENTS = ("resolution", "method", "policy", "skew", "fixres", "learned")
SECTIONS = ("resolution", "method", "method_skew", "policy", "learned", "skew", "fixres")
EVALUATION_TIME = ("method_skew", "skew", "fixres")
NO_ANTIALIAS_EFFECT = ("nearest", "area")  # antialias changes nothing for these


def settings(quick, seeds=None, epochs=None, max_train=None, max_test=None):
    """The study's settings; quick is the main job's (BUILD_NOTES: seed-to-seed std)."""
    s = dict(seeds=3, epochs=3, max_train=None, max_test=None, batch_size=64,
             learning_rate=3e-3, resolutions=[16, 24, 48], native=48,
             method_size=24,
             methods=[("nearest", False), ("bilinear", True), ("bilinear", False),
                      ("area", True)],
             policy_size=24, skew_size=24, fixres_train=24, fixres_test=[16, 24, 32, 48],
             learned_size=24, learned_filters=4)
    if not quick:
        s.update(seeds=3, epochs=10, resolutions=[8, 12, 16, 24, 32, 48, 64, 96], native=96,
                 methods=s["methods"] + [("bicubic", True), ("bicubic", False),
                                         ("lanczos3", True), ("lanczos3", False)],
                 policy_size=32, learned_filters=16,
                 fixres_test=[16, 24, 32, 40, 48, 64])
    for key, value in (("seeds", seeds), ("epochs", epochs), ("max_train", max_train),
                       ("max_test", max_test)):
        if value:
            s[key] = value
    return s


# ---- models and data paths ---------------------------------------------------------

def backbone(name, num_classes):
    import keras

    from benchmarks.affine import Affine

    if name == "small_cnn":
        layers = [keras.Input((None, None, 3)), Affine(1 / 255.0)]
        for filters, pool in ((16, True), (32, True), (64, False)):
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


def pad_images(images, canvas):
    """A list of uint8 (h, w, 3) images -> (zero-padded (N, H, W, 3), sizes (N, 2))."""
    out = np.zeros((len(images),) + tuple(canvas) + (3,), np.uint8)
    sizes = np.zeros((len(images), 2), np.int32)
    for i, image in enumerate(images):
        h, w = image.shape[:2]
        out[i, :h, :w] = image
        sizes[i] = (h, w)
    return out, sizes


class DataPath:
    """How images of different sizes reach the model: `padded` (NumPy, any backend) or
    `ragged` (tf.data, TensorFlow). Builds the models and feeds fit / predict."""

    def __init__(self, kind, split, batch_size, jit_compile="auto"):
        import keras

        if kind == "ragged" and keras.backend.backend() != "tensorflow":
            raise ValueError("--data_path=ragged needs the TensorFlow backend; use padded.")
        self.kind, self.batch_size = kind, batch_size
        self.jit_compile = {"auto": "auto", "true": True, "false": False}[str(jit_compile)]
        every = split.train_images + split.test_images
        self.canvas = (max(i.shape[0] for i in every), max(i.shape[1] for i in every))
        self._split = split
        self._padded = {}
        self._resized = (None, None)

    def _inputs(self, name):
        if self.kind == "ragged":
            import tensorflow as tf

            from keras_resize_layers import data

            images = getattr(self._split, name)
            return tf.data.Dataset.from_tensor_slices(data.to_ragged(images))
        if name not in self._padded:
            canvas, sizes = pad_images(getattr(self._split, name), self.canvas)
            self._padded[name] = {"images": canvas, "image_sizes": sizes}
        return self._padded[name]

    def model(self, net, prep):
        """`images (any size) -> prep -> net` as a Functional model."""
        import keras

        if self.kind == "ragged":
            images = keras.Input((None, None, 3), dtype="uint8", name="images")
            return keras.Model(images, net(prep(images)))
        # A static canvas: one compiled program, and the layers allow XLA.
        images = keras.Input(self.canvas + (3,), dtype="uint8", name="images")
        sizes = keras.Input((2,), dtype="int32", name="image_sizes")
        return keras.Model({"images": images, "image_sizes": sizes},
                           net(prep(images, image_sizes=sizes)))

    def fit(self, model, labels, seed, epochs):
        if self.kind == "ragged":
            import tensorflow as tf

            ds = tf.data.Dataset.zip((self._inputs("train_images"),
                                      tf.data.Dataset.from_tensor_slices(labels)))
            ds = ds.shuffle(len(labels), seed=seed).ragged_batch(self.batch_size)
            model.fit(ds.prefetch(2), epochs=epochs, verbose=0)
        else:
            model.fit(self._inputs("train_images"), labels, batch_size=self.batch_size,
                      epochs=epochs, shuffle=True, verbose=0)

    def resized(self, key, prep, name="train_images"):
        """`prep(images)` of the split `name` as one NumPy array, kept for the last `key`
        (the seeds of a configuration share it)."""
        if self._resized[0] != (key, name):
            self._resized = ((key, name), np.asarray(
                self.predict(self.model(lambda x: x, prep), name)))
        return self._resized[1]

    def predict(self, model, name="test_images"):
        if self.kind == "ragged":
            return model.predict(self._inputs(name).ragged_batch(256), verbose=0)
        return model.predict(self._inputs(name), batch_size=256, verbose=0)


def compile_model(model, cfg, jit_compile, steps=None):
    """Adam; with `steps`, its rate decays to zero on a cosine over the run (the last
    epochs settle, which keeps the seed-to-seed spread small)."""
    import keras

    rate = cfg["learning_rate"]
    if steps:
        rate = keras.optimizers.schedules.CosineDecay(rate, steps)
    model.compile(keras.optimizers.Adam(rate), "sparse_categorical_crossentropy",
                  jit_compile=jit_compile)


def correct_of(probabilities, labels):
    return np.asarray(probabilities).argmax(-1) == labels


def predict_dense(net, prep, images, jit_compile):
    """Predictions of `net(prep(images))` for same-size uint8 images (pre-resized)."""
    import keras

    x = keras.Input(images.shape[1:], dtype="uint8")
    model = keras.Model(x, net(prep(x)))
    compile_model(model, dict(learning_rate=1e-3), jit_compile)
    return model.predict(images, batch_size=256, verbose=0)


# ---- external resizers for the skew section ---------------------------------------

def external_resizers(size):
    """Pre-resizers a server might use instead of the model's layer."""
    import cv2
    import keras
    from PIL import Image

    h, w = size
    keras_default = keras.layers.Resizing(h, w)  # bilinear, antialias=False

    def with_keras(image):
        out = np.asarray(keras_default(image.astype(np.float32)))
        return np.clip(np.round(out), 0, 255).astype(np.uint8)

    return {
        "Pillow BILINEAR (antialiased)": lambda im: np.asarray(
            Image.fromarray(im).resize((w, h), Image.BILINEAR)),
        "OpenCV INTER_LINEAR": lambda im: cv2.resize(im, (w, h), interpolation=cv2.INTER_LINEAR),
        "OpenCV INTER_AREA": lambda im: cv2.resize(im, (w, h), interpolation=cv2.INTER_AREA),
        "keras.layers.Resizing default (bilinear, antialias=False)": with_keras,
    }


# ---- jobs: one training, several servings -------------------------------------------

def spec(kind="resize", size=24, method="bilinear", antialias=True, policy="stretch",
         filters=None):
    """A training configuration, normalised so that experiments share trainings
    (`filters`: the LearnedResizer's)."""
    out = dict(kind=kind, size=int(size), method=method, antialias=bool(antialias),
               policy=policy)
    if filters:
        out["filters"] = int(filters)
    return out


def plan(cfg, experiments):
    """{spec key: spec} of the trainings the experiments need (shared where equal)."""
    specs = []
    if "resolution" in experiments:
        specs += [spec(size=r) for r in cfg["resolutions"]]
    if "method" in experiments:
        specs += [spec(size=cfg["method_size"], method=m, antialias=a)
                  for m, a in cfg["methods"]]
    if "policy" in experiments:
        specs += [spec(size=cfg["policy_size"], policy=p) for p in ("stretch", "crop", "pad")]
    if "skew" in experiments:
        specs.append(spec(size=cfg["skew_size"]))
    if "fixres" in experiments:
        specs.append(spec("random_resized_crop", cfg["fixres_train"], policy="crop"))
    if "learned" in experiments:
        specs += [spec("learned", cfg["learned_size"], filters=cfg["learned_filters"]),
                  spec(size=cfg["learned_size"])]
    out = {}
    for s in specs:
        out.setdefault(json.dumps(s, sort_keys=True), s)
    return list(out.values())


def servings(s, cfg, experiments):
    """How a model trained with spec `s` is served on the test images."""
    if s["kind"] == "random_resized_crop":
        return [f"test {t}x{t}" for t in cfg["fixres_test"]]
    names = ["as trained"]
    if s["kind"] == "resize" and s["method"] not in NO_ANTIALIAS_EFFECT and (
            "method" in experiments and s["size"] == cfg["method_size"] and s["policy"]
            == "stretch"):
        names.append(f"antialias={not s['antialias']}")
    if s == spec(size=cfg["skew_size"]) and "skew" in experiments:
        names += list(external_resizers((s["size"], s["size"])))
    return names


def _prep(s, seed):
    from keras_resize_layers.layers import LearnedResizer, RandomResizedCrop, Resize

    size = s["size"]
    if s["kind"] == "learned":
        return LearnedResizer(size, size, filters=s["filters"], method=s["method"],
                              antialias=s["antialias"])
    if s["kind"] == "random_resized_crop":
        return RandomResizedCrop(size, size, scale=(0.35, 1.0), crop_fraction=0.875,
                                 seed=seed)
    return Resize(size, size, method=s["method"], antialias=s["antialias"],
                  policy=s["policy"], fill_value=128.0)


def run_job(split, data, s, seed, cfg, model_name, names):
    """Trains once; returns {serving: per-image correctness as a '0'/'1' string}."""
    import keras

    from keras_resize_layers.layers import Resize

    keras.utils.set_random_seed(seed)
    net = backbone(model_name, split.num_classes)
    prep = _prep(s, seed)
    model = data.model(net, prep)
    labels = split.train_labels
    steps = math.ceil(len(labels) / cfg["batch_size"]) * cfg["epochs"]
    start = time.perf_counter()
    if s["kind"] == "resize":
        # A fixed resize gives every epoch and seed the same pixels: resize the training
        # images once per configuration (the same layer) and train the network on them; the
        # model served below still holds the layer.
        compile_model(net, cfg, data.jit_compile, steps)
        net.fit(data.resized(json.dumps(s, sort_keys=True), prep), labels,
                batch_size=cfg["batch_size"], epochs=cfg["epochs"], shuffle=True, verbose=0)
        compile_model(model, cfg, data.jit_compile)  # for predict: the same jit_compile
    else:
        compile_model(model, cfg, data.jit_compile, steps)
        data.fit(model, labels, seed, cfg["epochs"])
    out = dict(train_seconds=time.perf_counter() - start, serve_seconds={})
    labels = split.test_labels
    for name in names:
        start = time.perf_counter()
        if name == "as trained":
            probabilities = data.predict(model)
        elif name.startswith("antialias="):
            served = Resize(s["size"], s["size"], method=s["method"],
                            antialias=name == "antialias=True", policy=s["policy"],
                            fill_value=128.0)
            probabilities = data.predict(_eval_model(data, net, served))
        elif name.startswith("test "):
            t = int(name.split()[1].split("x")[0])
            served = Resize(t, t, policy="crop", crop_fraction=0.875)
            probabilities = data.predict(_eval_model(data, net, served))
        else:
            fn = external_resizers((s["size"], s["size"]))[name]
            resized = np.stack([fn(im) for im in split.test_images])
            probabilities = predict_dense(net, Resize(s["size"], s["size"]), resized,
                                          data.jit_compile)
        out[name] = "".join("1" if c else "0" for c in correct_of(probabilities, labels))
        out["serve_seconds"][name] = time.perf_counter() - start
    return out


def _eval_model(data, net, prep):
    model = data.model(net, prep)
    compile_model(model, dict(learning_rate=1e-3), data.jit_compile)
    return model


# ---- the cache ---------------------------------------------------------------------

def code_version():
    """The library's version and a digest of its source and of this study's modules."""
    import keras_resize_layers

    root = os.path.dirname(keras_resize_layers.__file__)
    digest = hashlib.sha1()
    files = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs if f.endswith(".py")]
    here = os.path.dirname(__file__)
    files += [os.path.join(here, f) for f in ("accuracy.py", "datasets.py")]
    for path in sorted(files):
        with open(path, "rb") as f:
            digest.update(os.path.relpath(path, os.path.dirname(root)).encode() + f.read())
    return f"{keras_resize_layers.__version__}+{digest.hexdigest()[:12]}"


def cache_key(*parts):
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


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


# ---- statistics and sections --------------------------------------------------------

def _scores(results, name):
    """(seeds, images) array of 0/1 from the cached strings of one serving."""
    return np.array([[c == "1" for c in r[name]] for r in results], np.float64)


def _interval(d):
    return {k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in d.items()}


def _verdict(low, high):
    if low is None or high is None:
        return "n/a (one seed)"
    if low > 0:
        return "higher"
    if high < 0:
        return "lower"
    return "inconclusive"


def _accuracy(scores):
    from keras_resize_layers.audit import stats

    per_seed = scores.mean(axis=1)
    crossed = stats.crossed_difference(np.zeros_like(scores), scores)
    low, high = crossed["low"], crossed["high"]
    if not math.isnan(low):  # a proportion: the interval stays within [0, 1]
        low, high = max(0.0, low), min(1.0, high)
    std = float(per_seed.std(ddof=1)) if len(per_seed) > 1 else None
    return _interval(dict(mean=float(per_seed.mean()), low=low, high=high, seed_std=std,
                          per_seed=per_seed.tolist()))


def training_row(label, scores, reference_scores, is_reference):
    from keras_resize_layers.audit import stats

    row = dict(label=label, accuracy=_accuracy(scores), reference=is_reference)
    if not is_reference:
        diff = _interval(stats.crossed_difference(reference_scores, scores))
        row.update(difference=diff, verdict=_verdict(diff["low"], diff["high"]))
    return row


def evaluation_row(label, scores, reference_scores, is_reference):
    from keras_resize_layers.audit import stats

    row = dict(label=label, accuracy=_accuracy(scores), reference=is_reference)
    if not is_reference:
        diff = stats.paired_over_seeds(reference_scores, scores)
        row.update(difference=diff, verdict=_verdict(diff["low"], diff["high"]),
                   mcnemar_p=[p["p"] for p in diff["per_seed"]])
    return row


def sections(cfg, experiments, results):
    """The report's sections from `results[(spec key, serving)] -> (seeds, images)`."""
    def get(s, serving="as trained"):
        return results[(json.dumps(s, sort_keys=True), serving)]

    out = {}
    if "resolution" in experiments:
        ref = get(spec(size=cfg["native"]))
        out["resolution"] = [
            training_row(f"{r}x{r}" + (" (reference)" if r == cfg["native"] else ""),
                         get(spec(size=r)), ref, r == cfg["native"])
            for r in cfg["resolutions"]]
    if "method" in experiments:
        size = cfg["method_size"]
        ref = get(spec(size=size))
        out["method"] = [
            training_row(f"{m} antialias={a}" + (" (library default)" if (m, a) == (
                "bilinear", True) else ""), get(spec(size=size, method=m, antialias=a)),
                ref, (m, a) == ("bilinear", True)) for m, a in cfg["methods"]]
        rows = []
        for m, a in cfg["methods"]:
            if m in NO_ANTIALIAS_EFFECT:
                continue
            s = spec(size=size, method=m, antialias=a)
            rows.append(evaluation_row(f"{m}: trained antialias={a}, served antialias={a}",
                                       get(s), None, True))
            rows.append(evaluation_row(
                f"{m}: trained antialias={a}, served antialias={not a}",
                get(s, f"antialias={not a}"), get(s), False))
        out["method_skew"] = rows
    if "policy" in experiments:
        size = cfg["policy_size"]
        ref = get(spec(size=size))
        out["policy"] = [training_row(p + (" (reference)" if p == "stretch" else ""),
                                      get(spec(size=size, policy=p)), ref, p == "stretch")
                         for p in ("stretch", "crop", "pad")]
    if "learned" in experiments:
        size, filters = cfg["learned_size"], cfg["learned_filters"]
        ref = get(spec(size=size))
        out["learned"] = [
            training_row(f"Resize {size}x{size} (bilinear, antialias; reference)", ref, ref,
                         True),
            training_row(f"LearnedResizer {size}x{size} (filters={filters})",
                         get(spec("learned", size, filters=filters)), ref, False)]
    if "skew" in experiments:
        s = spec(size=cfg["skew_size"])
        ref = get(s)
        out["skew"] = [evaluation_row("embedded Resize layer (as trained)", ref, ref, True)]
        out["skew"] += [evaluation_row(name, get(s, name), ref, False)
                        for name in external_resizers((s["size"], s["size"]))]
    if "fixres" in experiments:
        s = spec("random_resized_crop", cfg["fixres_train"], policy="crop")
        t0 = cfg["fixres_train"]
        ref = get(s, f"test {t0}x{t0}")
        out["fixres"] = [evaluation_row(f"test {t}x{t}" + (" (= training size)" if t == t0
                                                           else ""),
                                        get(s, f"test {t}x{t}"), ref, t == t0)
                         for t in cfg["fixres_test"]]
    return out


def default_workers():
    """Training processes for this machine: one per core (at most 8) on a CPU, where a
    single-threaded training of the small CNN keeps a core busy better than TensorFlow's
    threads do (two processes: 1.6x the trainings per minute on 2 cores); 1 on a GPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        on_cpu = jax.devices()[0].platform == "cpu"
    elif backend == "torch":
        import torch

        on_cpu = not torch.cuda.is_available()
    else:
        import tensorflow as tf

        on_cpu = not tf.config.list_physical_devices("GPU")
    return max(1, min(8, os.cpu_count() or 1)) if on_cpu else 1


def timed_job(split, data, s, seed, cfg, model_name, names):
    start = time.perf_counter()
    result = run_job(split, data, s, seed, cfg, model_name, names)
    result["job_seconds"] = time.perf_counter() - start
    return result


def run(dataset, cfg, experiments, model_name, output_dir, data_kwargs=None,
        data_path="padded", jit_compile="auto", command="python -m benchmarks.accuracy",
        workers=1):
    """Runs the study; `workers` > 1 trains in that many single-threaded processes
    (results do not depend on which process trains what)."""
    import sys

    import keras

    from benchmarks import datasets, study_workers

    split = datasets.load(dataset, max_train=cfg["max_train"], max_test=cfg["max_test"],
                          **(data_kwargs or {}))
    data = DataPath(data_path, split, cfg["batch_size"], jit_compile)
    cache = Cache(os.path.join(output_dir, "cache", "accuracy"))
    version = code_version()
    specs = plan(cfg, experiments)
    jobs = {}  # key -> (spec, seed, names), in plan order
    for s in specs:
        names = servings(s, cfg, experiments)
        for seed in range(cfg["seeds"]):
            key = cache_key(version, dataset, data_kwargs, model_name, s, seed, names,
                            cfg, data_path, keras.backend.backend())
            jobs[key] = (s, seed, names)
    done = {key: cache.get(key) for key in jobs}
    # Longest first (the learned resizer convolves whole canvases; then larger outputs),
    # so that parallel workers finish together.
    todo = sorted((key for key, result in done.items() if result is None),
                  key=lambda k: (jobs[k][0]["kind"] != "learned", -jobs[k][0]["size"]))
    start = time.perf_counter()
    with Progress(len(jobs), "accuracy") as progress:
        if len(todo) < len(jobs):
            progress.step("cached", len(jobs) - len(todo))
        if workers > 1 and len(todo) > 1:
            import concurrent.futures
            import multiprocessing

            pool = concurrent.futures.ProcessPoolExecutor(
                min(workers, len(todo)), mp_context=multiprocessing.get_context("spawn"),
                initializer=study_workers.init,
                initargs=(dataset, cfg, data_kwargs, data_path, jit_compile,
                          sys.modules.get("tensorflow", 0) is None))
            with pool:
                futures = {pool.submit(study_workers.job, *jobs[key][:2], cfg, model_name,
                                       jobs[key][2]): key for key in todo}
                for future in concurrent.futures.as_completed(futures):
                    key = futures[future]
                    done[key] = cache.put(key, future.result())
                    s, seed, _ = jobs[key]
                    progress.step(f"{s['kind']} {s['size']} {s['method']} {s['policy']} "
                                  f"seed {seed}")
        else:
            for key in todo:
                s, seed, names = jobs[key]
                progress.step(f"{s['kind']} {s['size']} {s['method']} {s['policy']} "
                              f"seed {seed}")
                done[key] = cache.put(key, timed_job(split, data, s, seed, cfg, model_name,
                                                     names))
    results, seconds = {}, []
    for s in specs:
        names = servings(s, cfg, experiments)
        key_s = json.dumps(s, sort_keys=True)
        runs = [done[key] for key, job in jobs.items() if job[0] is s]
        seconds += [r["train_seconds"] for r in runs]
        for name in names:
            results[(key_s, name)] = _scores(runs, name)
    report = dict(
        benchmark="accuracy", date=time.strftime("%Y-%m-%d"), dataset=dataset,
        command=command,
        dataset_description=split.description, model=model_name,
        backend=keras.backend.backend(), data_path=data_path, jit_compile=jit_compile,
        canvas=list(data.canvas) if data_path == "padded" else None,
        code_version=version, machine=_machine(), train_images=len(split.train_images),
        test_images=len(split.test_images), num_classes=split.num_classes,
        skipped_files=[p for p, _ in split.skipped], config=dict(cfg),
        trainings=len(specs) * cfg["seeds"], workers=workers,
        median_train_seconds=float(np.median(seconds)) if seconds else None,
        minutes=(time.perf_counter() - start) / 60,
        sections=sections(cfg, experiments, results))
    report["summary"] = summary(report)
    write(report, output_dir)
    return report


def _machine():
    import platform

    return f"{os.cpu_count()} CPU cores, {platform.machine()}"


# ---- words --------------------------------------------------------------------------

def _pts(x):
    return f"{100 * x:+.1f}"


def _ci(d):
    if d.get("low") is None:
        return "(one seed: no interval)"
    return f"[{_pts(d['low'])}, {_pts(d['high'])}]"


def _says(row):
    d = row["difference"]
    words = {"higher": "beyond noise", "lower": "beyond noise",
             "inconclusive": "inconclusive"}.get(row["verdict"], row["verdict"])
    return f"{_pts(d['mean'])} points {_ci(d)}, {words}"


def _find(rows, prefix):
    return next((r for r in rows if r["label"].startswith(prefix)), None)


def summary(report):
    """Five sentences (resolution, antialias, policy, test-time resolution, serving library)
    and one on the learned resizer, each with its number and interval, from the run."""
    sec, cfg, out = report["sections"], report["config"], []
    if "resolution" in sec:
        rows = sec["resolution"]
        ref = next(r for r in rows if r["reference"])
        others = ", ".join(f"at {r['label']} {_says(r)}" for r in rows if not r["reference"])
        out.append(f"Resolution: trained and served at {ref['label'].split()[0]} the model "
                   f"scores {ref['accuracy']['mean']:.3f} {_acc_ci(ref)}; the change "
                   f"when trained and served smaller is {others}.")
    if "method" in sec:
        size = cfg["method_size"]
        off = _find(sec["method"], "bilinear antialias=False")
        skew = _find(sec["method_skew"], "bilinear: trained antialias=True, served "
                                         "antialias=False")
        if off and skew:
            out.append(f"Antialias (bilinear, {size}x{size}): when training and serving "
                       f"agree, turning it off changes accuracy by {_says(off)}; a model "
                       f"trained with it and served without it changes by {_says(skew)}.")
    if "policy" in sec:
        parts = [f"{r['label']} {_says(r)}" for r in sec["policy"] if not r["reference"]]
        out.append(f"Aspect policy ({cfg['policy_size']}x{cfg['policy_size']}), against "
                   f"stretch: " + "; ".join(parts) + ".")
    if "fixres" in sec:
        rows = [r for r in sec["fixres"] if not r["reference"]]
        best = max(rows, key=lambda r: r["difference"]["mean"])
        t0 = cfg["fixres_train"]
        rest = [f"{r['label']} {_says(r)}" for r in rows if r is not best]
        out.append(f"Test-time resolution (RandomResizedCrop at {t0}x{t0}): the largest "
                   f"change over serving at {t0}x{t0} is at {best['label']}, "
                   f"{_says(best)}" + ("; " + "; ".join(rest) if rest else "") + ".")
    if "skew" in sec:
        parts = [f"{r['label']} {_says(r)}" for r in sec["skew"] if not r["reference"]]
        out.append(f"Serving library (model trained with the Resize layer at "
                   f"{cfg['skew_size']}x{cfg['skew_size']}), against serving with that "
                   "layer: " + "; ".join(parts) + ".")
    if "learned" in sec:
        ref, learned = sec["learned"]
        out.append(f"Learned resizer at {cfg['learned_size']}x{cfg['learned_size']} "
                   f"({cfg['learned_filters']} filters, trained with the network): "
                   f"{learned['accuracy']['mean']:.3f} {_acc_ci(learned)} against "
                   f"{ref['accuracy']['mean']:.3f} {_acc_ci(ref)} for the fixed Resize, "
                   f"{_says(learned)}.")
    return out


def _acc_ci(row):
    a = row["accuracy"]
    if a.get("low") is None:
        return ""
    return f"[{a['low']:.3f}, {a['high']:.3f}]"


TITLES = {
    "resolution": "Accuracy vs input resolution (trained and served at that size; stretch, "
                  "bilinear, antialias)",
    "method": "Method x antialias, trained and served alike",
    "method_skew": "Antialias when training and serving disagree (one trained model per "
                   "seed, served both ways)",
    "policy": "Aspect-ratio policy",
    "learned": "Learned vs fixed resizer at a strong shrink",
    "skew": "Train/serve skew: trained with the Resize layer, served pre-resized by other "
            "libraries",
    "fixres": "Test-time resolution for a RandomResizedCrop-trained model (FixRes effect)",
}


def _size_words(report):
    cfg = report["config"]
    return (f"{cfg['seeds']} seeds x {report['test_images']} test images, "
            f"{report['train_images']} training images, {cfg['epochs']} epochs")


def _bars_words(name):
    if name in EVALUATION_TIME:
        return ("whiskers: 95% t-interval of the accuracy over seeds and images; "
                "differences: paired bootstrap over images, McNemar per seed")
    return "whiskers: 95% t-interval over seeds and images; differences paired by seed"


def markdown(report):
    cfg = report["config"]
    lines = [f"# Accuracy study — {report['dataset']}, model {report['model']} "
             f"({report['date']})", "", "**Summary.** " + " ".join(
                 f"({i + 1}) {s}" for i, s in enumerate(report["summary"])), "",
             f"{report['dataset_description']}. {_size_words(report)}; batch "
             f"{cfg['batch_size']}, Adam {cfg['learning_rate']}; backend "
             f"{report['backend']}, data path {report['data_path']}, jit_compile "
             f"{report['jit_compile']}; {report['trainings']} trainings (median "
             f"{report['median_train_seconds'] or 0:.1f} s), {report['minutes']:.1f} min; "
             f"code {report['code_version']}.", "",
             "Differences are in accuracy points against each section's reference row, "
             "with 95% intervals. Training-time sections: a model per configuration and "
             "seed; the interval is Student's t over seeds and test images (paired by "
             "seed and image). Evaluation-time sections (one trained model served two "
             "ways): a paired bootstrap over test images, combined across seeds, and "
             "McNemar's exact test per seed. *Inconclusive*: the interval holds zero.", ""]
    if report["skipped_files"]:
        lines += [f"Skipped {len(report['skipped_files'])} undecodable files: "
                  + ", ".join(report["skipped_files"][:10]), ""]
    for name in SECTIONS:
        rows = report["sections"].get(name)
        if not rows:
            continue
        evaluation = name in EVALUATION_TIME
        lines += [f"## {TITLES[name]}", "", f"{_size_words(report)}; {_bars_words(name)}.",
                  "", f"![{name}](accuracy_{name}.png)", "",
                  "| configuration | accuracy [95% CI] | seed std | difference, points "
                  "[95% CI] | verdict |" + (" McNemar p per seed |" if evaluation else ""),
                  "|---|---|---|---|---|" + ("---|" if evaluation else "")]
        for r in rows:
            a = r["accuracy"]
            std = "" if a.get("seed_std") is None else f"{a['seed_std']:.3f}"
            if r["reference"]:
                diff, verdict = "reference", ""
            else:
                diff, verdict = f"{_pts(r['difference']['mean'])} {_ci(r['difference'])}", \
                    r["verdict"]
            line = f"| {r['label']} | {a['mean']:.3f} {_acc_ci(r)} | {std} | {diff} | " \
                   f"{verdict} |"
            if evaluation:
                line += (" " + ", ".join(f"{p:.2g}" for p in r["mcnemar_p"]) + " |"
                         if "mcnemar_p" in r else " |")
            lines.append(line)
        lines.append("")
    return "\n".join(lines)


def plot(report, output_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chance = 1.0 / report["num_classes"]
    colors = {"higher": "tab:green", "lower": "tab:red", "inconclusive": "tab:gray"}
    for name, rows in report["sections"].items():
        fig, ax = plt.subplots(figsize=(10, 2.2 + 0.45 * len(rows)))
        labels = [textwrap.fill(r["label"], 34) for r in rows]
        means = np.array([r["accuracy"]["mean"] for r in rows])
        low = np.array([r["accuracy"]["low"] if r["accuracy"]["low"] is not None else m
                        for r, m in zip(rows, means)])
        high = np.array([r["accuracy"]["high"] if r["accuracy"]["high"] is not None else m
                         for r, m in zip(rows, means)])
        y = np.arange(len(rows))
        ax.barh(y, means, xerr=[means - low, high - means], capsize=3,
                color=["tab:blue" if r["reference"] else colors.get(r.get("verdict"),
                                                                    "tab:gray")
                       for r in rows])
        ax.axvline(chance, color="black", linestyle="--", linewidth=1,
                   label=f"chance ({chance:.2f})")
        ax.legend(loc="lower right", fontsize=7)
        for i, r in enumerate(rows):
            text = "reference" if r["reference"] else \
                f"{_pts(r['difference']['mean'])} {_ci(r['difference'])} points: {r['verdict']}"
            ax.text(1.02, i, text, va="center", fontsize=7, transform=ax.get_yaxis_transform())
        ax.set_yticks(y, labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("test accuracy (blue: reference; vs reference: green higher, red "
                      "lower, gray inconclusive)", fontsize=8)
        ax.set_title(textwrap.fill(TITLES[name], 80) + "\n" + textwrap.fill(
            f"{_size_words(report)}; {_bars_words(name)}", 100), fontsize=8)
        fig.subplots_adjust(left=0.27, right=0.7, top=1 - 0.75 / fig.get_figheight(),
                            bottom=0.55 / fig.get_figheight())
        fig.savefig(os.path.join(output_dir, f"accuracy_{name}.png"), dpi=90)
        plt.close(fig)


def write(report, output_dir):
    report_files.write(output_dir, "accuracy", report, markdown, plot)


README_START = "<!-- accuracy-summary: generated by benchmarks.accuracy --update_readme -->"
README_END = "<!-- /accuracy-summary -->"


def readme_block(report, command):
    cfg = report["config"]
    machine = report.get("machine", "")
    return "\n".join([
        README_START,
        f"From `{command}` on {report['date']} ({machine + ', ' if machine else ''}"
        f"{report['backend']} backend, "
        f"{cfg['seeds']} seeds x {report['test_images']} test images, "
        f"{report['train_images']} training images, {cfg['epochs']} epochs"
        + (f", the study {report['minutes']:.1f} min" if "minutes" in report else "")
        + "; differences in accuracy points with 95% intervals):", "",
        *[f"{i + 1}. {s}" for i, s in enumerate(report["summary"])],
        README_END])


def update_readme(path, report, command):
    """Replaces README's generated summary block with this run's."""
    with open(path) as f:
        text = f.read()
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{path} has no accuracy summary block ({README_START} ... "
                         f"{README_END}).")
    with open(path, "w") as f:
        f.write(pattern.sub(lambda _: readme_block(report, command), text, count=1))


def main(argv):
    del argv
    if FLAGS.from_report:
        if not FLAGS.update_readme:
            raise SystemExit("--from_report needs --update_readme=README.md")
        with open(FLAGS.from_report) as f:
            report = json.load(f)
        update_readme(FLAGS.update_readme, report, report.get("command", "python -m "
                                                              "benchmarks.accuracy"))
        print(f"rewrote the accuracy summary in {FLAGS.update_readme} from {FLAGS.from_report}")
        return
    unknown = set(FLAGS.experiments) - set(EXPERIMENTS)
    if unknown:
        raise SystemExit(f"Unknown --experiments {sorted(unknown)}; choose from {EXPERIMENTS}")
    cfg = settings(FLAGS.quick, FLAGS.seeds, FLAGS.epochs, FLAGS.max_train, FLAGS.max_test)
    report = run(FLAGS.dataset, cfg, FLAGS.experiments, FLAGS.model, FLAGS.output_dir,
                 dict(data_dir=FLAGS.data_dir, train_split=FLAGS.train_split,
                      test_split=FLAGS.test_split) if FLAGS.dataset.startswith("tfds:")
                 else None, FLAGS.data_path, FLAGS.jit_compile,
                 "python -m benchmarks.accuracy" + (" --quick" if FLAGS.quick else ""),
                 workers=FLAGS.workers or default_workers())
    print(markdown(report))
    if FLAGS.update_readme:
        update_readme(FLAGS.update_readme, report, "python -m benchmarks.accuracy"
                      + (" --quick" if FLAGS.quick else ""))


if __name__ == "__main__":
    app.run(main)
