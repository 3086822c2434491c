"""Accuracy-study dataset sources: shapes, labels, no leakage, TFDS, folders."""

import io
import os

import numpy as np
import pytest
import tensorflow_datasets as tfds
from PIL import Image

from benchmarks import datasets


def _check(split, num_classes):
    for images, labels in ((split.train_images, split.train_labels),
                           (split.test_images, split.test_labels)):
        assert len(images) == len(labels) > 0
        for image in images:
            assert image.ndim == 3 and image.shape[-1] == 3 and image.dtype == np.uint8
            assert min(image.shape[:2]) > 0
        assert labels.min() >= 0 and labels.max() < num_classes
    assert split.num_classes == num_classes


def test_embedded_is_deterministic_varied_and_leak_free():
    split = datasets.load("embedded", max_train=60, max_test=30)
    _check(split, 10)
    shapes = {im.shape[:2] for im in split.train_images}
    assert len(shapes) > 20  # varying sizes and aspect ratios
    heights = [s[0] for s in shapes]
    assert min(heights) >= 64 and max(heights) <= 128
    again = datasets.load("embedded", max_train=60, max_test=30)
    np.testing.assert_array_equal(split.train_images[5], again.train_images[5])
    # No image is shared between train and test.
    train = {im.tobytes() for im in split.train_images}
    assert not any(im.tobytes() in train for im in split.test_images)


def test_synthetic_classes():
    split = datasets.load("synthetic", max_train=40, max_test=20)
    _check(split, 4)


def test_tfds_source_with_mock_data():
    with tfds.testing.mock_data(num_examples=12):
        split = datasets.load("tfds:beans", max_train=10, max_test=6,
                              train_split="train", test_split="test")
    _check(split, 3)
    assert len(split.train_images) == 10 and len(split.test_images) == 6


def test_directory_source_skips_and_counts_bad_files(tmp_path, photos):
    for c, name in enumerate(("cat", "coffee")):
        folder = tmp_path / name
        folder.mkdir()
        for i in range(4):
            buffer = io.BytesIO()
            Image.fromarray(photos["chelsea" if c == 0 else "coffee"][i * 10:]).save(
                buffer, "PNG" if i % 2 else "JPEG")
            (folder / f"{i}.img").write_bytes(buffer.getvalue())
    (tmp_path / "cat" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (tmp_path / "coffee" / "notes.txt").write_bytes(b"not an image")
    split = datasets.load(f"dir:{tmp_path}")
    _check(split, 2)
    assert len(split.train_images) + len(split.test_images) == 8
    skipped = sorted(os.path.basename(p) for p, _ in split.skipped)
    assert skipped == ["broken.jpg", "notes.txt"]
    assert "2 skipped" in split.description


def test_unknown_dataset():
    with pytest.raises(ValueError, match="Unknown dataset"):
        datasets.load("imagenet")
