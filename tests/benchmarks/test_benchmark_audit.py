"""The audit's real-world pieces: the legacy PyTorch reader, EfficientNet-Lite0 with its
ImageNet weights (no PyTorch), and the natural photo set."""

import numpy as np
import pytest

from benchmarks import efficientnet_lite, natural_photos, torch_legacy


@pytest.fixture(scope="session")  # session: tests run longest first, modules interleave
def lite0():
    return efficientnet_lite.load()


def test_legacy_reader_matches_torch_when_available():
    state = torch_legacy.load_state_dict(efficientnet_lite.weights_path())
    assert len(state) == 296 and state["_fc.weight"].shape == (1000, 1280)
    assert state["_conv_stem.weight"].dtype == np.float32
    torch = pytest.importorskip("torch")  # in .ci/run's second environment
    reference = torch.load(efficientnet_lite.weights_path(), map_location="cpu",
                           weights_only=False)
    assert list(reference) == list(state)
    for key, value in reference.items():
        np.testing.assert_array_equal(state[key], value.numpy())


def test_legacy_reader_refuses_other_files(tmp_path):
    path = tmp_path / "x.pth"
    path.write_bytes(b"PK\x03\x04 a zip-format checkpoint")
    with pytest.raises(Exception):
        torch_legacy.load_state_dict(str(path))


@pytest.mark.parametrize("name,classes", [
    ("chelsea", range(281, 286)),  # tabby, tiger cat, Persian, Siamese, Egyptian cat
    ("coffee", (504, 967, 968))])  # coffee mug, espresso, cup
def test_lite0_recognises_the_photos(lite0, name, classes):
    from skimage import data

    from keras_resize_layers import resize

    x = resize(getattr(data, name)(), efficientnet_lite.INPUT_SIZE, policy="crop",
               crop_fraction=0.875, method="bicubic", antialias=False)[None]
    logits = np.asarray(lite0.predict(x, verbose=0))[0]
    assert int(np.argmax(logits)) in classes
    top5 = set(np.argsort(logits)[::-1][:5].tolist())
    assert len(top5 & set(classes)) >= min(2, len(classes))


def test_natural_photos_are_many_and_of_many_sizes():
    names, images = natural_photos.crops()
    assert len(images) >= 500 and len({i.shape for i in images}) >= 50
    assert len({n.split("[")[0] for n in names}) == 12
    assert all(i.dtype == np.uint8 and i.ndim == 3 and i.shape[-1] == 3 for i in images)


def test_main_job_audit_section(tmp_path):
    from benchmarks import audit_lite

    names = [n for n in audit_lite.MAIN_VARIANTS if n.startswith(("pillow:", "size:"))][:3]
    result = audit_lite.run(limit=6, output_dir=str(tmp_path), names=names)
    assert [r["name"] for r in result["rows"]] == [audit_lite.REFERENCE] + names
    assert result["images"] == 6 and result["recommendation"].startswith("Serve with")
    assert (tmp_path / "audit.md").read_text().startswith("# Resize sensitivity audit")
    assert len(audit_lite.MAIN_VARIANTS) == 10
    families = {n.split(":")[0] for n in audit_lite.MAIN_VARIANTS}
    assert families == {"krl", "pillow", "opencv", "keras", "size", "jpeg", "dct"}
