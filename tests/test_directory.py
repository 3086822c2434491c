"""`data.image_dataset_from_directory` against `keras.utils.image_dataset_from_directory`
on the same folder: files, order, labels, class names and splits."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import encode
from keras_resize_layers import data

SIZE = (24, 32)


@pytest.fixture(scope="session")  # session: tests run longest first, modules interleave
def folder(tmp_path_factory):
    """Three classes, nested folders, every Keras format, a non-image file, one size
    (so Keras's own resize to that size is the identity and pixels can be compared)."""
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(5)
    formats = [("png", "PNG"), ("bmp", "BMP"), ("gif", "GIF"), ("JPG", "JPEG"),
               ("jpeg", "JPEG")]
    for c, name in enumerate(["dog", "cat", "zebra"]):
        for i in range(5 + c):
            sub = root / name / ("nested" if i % 3 == 2 else "")
            sub.mkdir(parents=True, exist_ok=True)
            ext, fmt = formats[(i + c) % len(formats)]
            array = rng.integers(0, 256, SIZE + (3,), dtype=np.uint8)
            if fmt == "GIF":  # a palette format: keep the pixels in its palette
                array = (array // 128 * 255).astype(np.uint8)
            (sub / f"img_{i}.{ext}").write_bytes(encode(array, fmt, quality=95)
                                                 if fmt == "JPEG" else encode(array, fmt))
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    return str(root)


def _keras(folder, **kwargs):
    return keras.utils.image_dataset_from_directory(folder, image_size=SIZE, verbose=False,
                                                    **kwargs)


def _ours(folder, **kwargs):
    return data.image_dataset_from_directory(folder, verbose=False, **kwargs)


def _unbatched(ds):
    images, labels = [], []
    for x, y in ds:
        images += [i.numpy() for i in (x if isinstance(x, tf.RaggedTensor) else x)]
        labels += list(y.numpy())
    return images, np.array(labels)


@pytest.mark.parametrize("label_mode", ["int", "categorical", "binary"])
def test_same_files_labels_and_pixels_as_keras(folder, label_mode):
    kwargs = dict(shuffle=False, label_mode=label_mode, batch_size=4)
    if label_mode == "binary":
        kwargs["class_names"] = ["zebra", "dog"]
    theirs, ours = _keras(folder, **kwargs), _ours(folder, **kwargs)
    assert ours.class_names == theirs.class_names
    assert ours.file_paths == theirs.file_paths and len(ours.file_paths) >= 10
    their_images, their_labels = _unbatched(theirs)
    our_images, our_labels = _unbatched(ours)
    np.testing.assert_array_equal(our_labels, their_labels)
    assert our_labels.dtype == their_labels.dtype
    for a, b in zip(our_images, their_images):
        assert a.dtype == np.uint8 and a.shape == SIZE + (3,)
        np.testing.assert_array_equal(a.astype(np.float32), b)


@pytest.mark.slow(8)
@pytest.mark.parametrize("subset", ["training", "validation", "both"])
def test_shuffled_splits_match_keras(folder, subset):
    kwargs = dict(validation_split=0.3, subset=subset, seed=11, batch_size=5)
    theirs, ours = _keras(folder, **kwargs), _ours(folder, **kwargs)
    if subset != "both":
        theirs, ours = [theirs], [ours]
    for t, o in zip(theirs, ours):
        assert o.file_paths == t.file_paths
        # The per-epoch shuffle buffer reorders elements; the set of (file, label) is Keras's.
        _, their_labels = _unbatched(t)
        _, our_labels = _unbatched(o)
        assert sorted(our_labels) == sorted(their_labels)
    if subset == "both":
        assert not set(ours[0].file_paths) & set(ours[1].file_paths)


@pytest.mark.slow(9)
def test_images_keep_their_size_and_bad_files_are_skipped_and_counted(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    rng = np.random.default_rng(0)
    sizes = [(30, 40), (50, 20), (64, 64)]
    for i, s in enumerate(sizes):
        (tmp_path / "a" / f"{i}.png").write_bytes(
            encode(rng.integers(0, 256, s + (3,), dtype=np.uint8), "PNG"))
    (tmp_path / "b" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (tmp_path / "b" / "empty.png").write_bytes(b"")
    (tmp_path / "b" / "ok.jpg").write_bytes(encode(np.zeros((300, 400, 3), np.uint8), "JPEG"))
    ds = _ours(str(tmp_path), shuffle=False, batch_size=8, min_size=(70, 90))
    (images, labels), = list(ds)
    assert isinstance(images, tf.RaggedTensor)
    # Each image at its own size; the 300x400 JPEG DCT-decoded at 1/4 (1/8 < min_size).
    assert [tuple(images[i].to_tensor().shape[:2]) for i in range(4)] == sizes + [(75, 100)]
    assert labels.numpy().tolist() == [0, 0, 0, 1]
    assert int(ds.skipped_count.numpy()) == 2
    gray = _ours(str(tmp_path), shuffle=False, batch_size=None, color_mode="grayscale",
                 labels=None)
    assert [tuple(x.shape) for x in gray] == [s + (1,) for s in sizes] + [(300, 400, 1)]


@pytest.mark.slow(10)
def test_model_trains_on_it_with_resize_inside(folder):
    from keras_resize_layers.layers import Resize

    ds = _ours(folder, validation_split=0.25, subset="training", seed=3, batch_size=4)
    inputs = keras.Input((None, None, 3), dtype="uint8")
    x = Resize(16, 16, policy="crop")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Rescaling(1 / 255)(x))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    model.compile("adam", "sparse_categorical_crossentropy")
    assert np.isfinite(model.fit(ds, epochs=2, verbose=0).history["loss"]).all()


def test_clear_errors(folder, tmp_path):
    with pytest.raises(TypeError, match="does not resize at load"):
        _ours(folder, image_size=(224, 224))
    with pytest.raises(ValueError, match="seed"):
        _ours(folder, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="class_names"):
        _ours(folder, class_names=["dog", "lion"])
    with pytest.raises(ValueError, match="exactly 2"):
        _ours(folder, label_mode="binary")
    with pytest.raises(ValueError, match="No images found"):
        _ours(str(tmp_path))
    with pytest.raises(ValueError, match="lengths of `labels`"):
        _ours(folder, labels=[0, 1])
    with pytest.raises(ValueError, match="not a directory"):
        _ours(os.path.join(folder, "missing"))
