"""The package's top level: lazy submodules, no TensorFlow for the layers, `__all__` in every
public module, and README's API reference listing exactly those names."""

import importlib
import pathlib
import re
import subprocess
import sys

PUBLIC = ("layers", "data", "decode", "serving", "distributed", "migration")

SCRIPT = r"""
import sys
import keras_resize_layers as krl
assert "tensorflow" not in sys.modules, "import keras_resize_layers pulled in TensorFlow"
layers = krl.layers
assert layers.Resize.__name__ == "Resize"
import keras_resize_layers.layers
assert "tensorflow" not in sys.modules, "krl.layers pulled in TensorFlow"
assert krl.data.decode_images and krl.serving.export and krl.distributed.distribute
assert krl.decode.inspect and krl.migration.replace_resizing is krl.replace_resizing
assert {"layers", "data", "serving"} <= set(dir(krl))
try:
    krl.nonexistent
except AttributeError as error:
    assert "nonexistent" in str(error)
print("ok")
"""


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
    assert top - {"__init__"} == set(PUBLIC) | {"_core", "_tf", "_compat"}, top


def test_readme_api_reference_lists_every_public_name():
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme[readme.index("## API reference"):readme.index("## Layout")]
    listed = set()
    for cell in re.findall(r"^\| (.+?) \|", table, re.M):
        listed |= set(re.findall(r"`([\w.]+)`", cell))
    names = set(_public_names())
    assert names - listed == set(), f"not in README's API reference: {sorted(names - listed)}"
    assert listed - names - {"name"} == set(), f"not public: {sorted(listed - names)}"
