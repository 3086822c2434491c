"""The package's top level: lazy submodules, no TensorFlow for the layers, `__all__` in every
public module, docs/api.md listing exactly those names, and the built sdist and wheel."""

import importlib
import pathlib
import re
import subprocess
import sys

import pytest

PUBLIC = ("layers", "data", "decode", "serving", "distributed", "migration", "audit")

SCRIPT = r"""
import sys
class BlockExtras:  # Pillow, OpenCV and matplotlib belong to extras: importing them fails here
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PIL", "cv2", "matplotlib"):
            raise ImportError(f"{name} is blocked: not on the core import path")
sys.meta_path.insert(0, BlockExtras())
import keras_resize_layers as krl
assert "tensorflow" not in sys.modules, "import keras_resize_layers pulled in TensorFlow"
layers = krl.layers
assert layers.Resize.__name__ == "Resize"
import keras_resize_layers.layers
assert "tensorflow" not in sys.modules, "krl.layers pulled in TensorFlow"
import numpy as np, jax
x = np.zeros((2, 12, 16, 3), "uint8")
assert jax.jit(layers.Resize(6, 8, policy="crop"))(x).shape == (2, 6, 8, 3)
assert layers.RandomResizedCrop(4, 4, seed=1)(x, training=True).shape == (2, 4, 4, 3)
assert "tensorflow" not in sys.modules, "running the layers on JAX pulled in TensorFlow"
# tf.data maps, decoding, serving and tf.distribute are TensorFlow's: they may import it.
assert krl.data.decode_images and krl.serving.export and krl.distributed.distribute
assert krl.decode.inspect and krl.migration.replace_resizing is krl.replace_resizing
assert krl.audit.resize_sensitivity and krl.audit.default_variants((8, 8))
variants = {v.name: v for v in krl.audit.default_variants((8, 8))}
for name in ("pillow:BICUBIC", "opencv:INTER_AREA"):
    try:
        variants[name].fn([], (8, 8))
    except ImportError as error:
        assert 'pip install "keras_resize_layers[bench]"' in str(error), error
    else:
        raise AssertionError(name + " ran without its extra")
assert {"layers", "data", "serving"} <= set(dir(krl))
try:
    krl.nonexistent
except AttributeError as error:
    assert "nonexistent" in str(error)
print("ok")
"""


@pytest.mark.slow(12)
def test_submodules_load_lazily():
    env = {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-2000:]


def _public_names():
    import keras_resize_layers as krl

    names = [n for n in krl.__all__ if n not in PUBLIC]
    for module in PUBLIC:
        mod = importlib.import_module(f"keras_resize_layers.{module}")
        assert hasattr(mod, "__all__"), f"keras_resize_layers.{module} has no __all__"
        for name in mod.__all__:
            assert hasattr(mod, name), f"{module}.__all__ names a missing {name!r}"
            names.append(f"{module}.{name}")
    return names


def test_every_public_module_has_all_and_internals_are_underscored():
    names = _public_names()
    assert "layers.Resize" in names and "data.image_dataset_from_directory" in names
    package = pathlib.Path(importlib.import_module("keras_resize_layers").__file__).parent
    top = {p.stem for p in package.glob("*.py")} | {p.name for p in package.iterdir()
                                                    if p.is_dir() and p.name != "__pycache__"}
    assert top - {"__init__"} == set(PUBLIC) | {"_core", "_tf", "_compat", "_dispatch", "_ops"}, top


def test_api_reference_lists_every_public_name():
    page = (pathlib.Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text()
    table = page[page.index("| name |"):page.index("\n\n", page.index("| name |"))]
    listed = set()
    for cell in re.findall(r"^\| (.+?) \|", table, re.M):
        listed |= set(re.findall(r"`([\w.]+)`", cell))
    names = set(_public_names())
    assert names - listed == set(), f"not in docs/api.md: {sorted(names - listed)}"
    assert listed - names - {"name"} == set(), f"not public: {sorted(listed - names)}"


def test_sdist_and_wheel_carry_the_c_source_and_the_license(tmp_path):
    """`python -m build` makes both; `twine check` passes; the wheel holds the CPU op's C
    source (built on first use) and the license, and its version is the package's."""
    import tarfile
    import zipfile

    import keras_resize_layers as krl

    root = pathlib.Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir",
                             str(tmp_path), str(root)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    wheel, = tmp_path.glob(f"keras_resize_layers-{krl.__version__}-py3-none-any.whl")
    sdist, = tmp_path.glob(f"keras_resize_layers-{krl.__version__}.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    assert "keras_resize_layers/_tf/resample_taps.c" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert not any(n.startswith(("tests/", "benchmarks/")) for n in names)
    members = tarfile.open(sdist).getnames()
    for name in ("LICENSE", "README.md", "CHANGELOG.md", "keras_resize_layers/_tf/resample_taps.c"):
        assert f"keras_resize_layers-{krl.__version__}/{name}" in members, name
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(wheel),
                            str(sdist)], capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr


def test_every_public_name_has_a_docstring():
    """The API reference (docs/api.md, mkdocstrings) is generated from these."""
    import inspect

    import keras_resize_layers as krl

    missing = []
    for name in _public_names():
        obj = krl
        for part in name.split("."):
            obj = getattr(obj, part)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and not (
                obj.__doc__ or "").strip():
            missing.append(name)
    assert not missing, f"public names without a docstring: {missing}"


def test_api_reference_builds_strictly(tmp_path):
    """`mkdocs build --strict`: a broken docstring, link or page fails the build."""
    root = pathlib.Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                             "-f", str(root / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                            capture_output=True, text=True, timeout=300, cwd=root)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    page = (tmp_path / "site" / "api" / "index.html").read_text()
    for name in ("resize_sensitivity", "RandomResizedCrop", "decode_and_resize_fn", "export"):
        assert name in page, name
