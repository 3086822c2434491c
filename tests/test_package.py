"""The package's top level: lazy submodules, no TensorFlow for the layers."""

import subprocess
import sys

SCRIPT = r"""
import sys
import keras_resize_layers as krl
assert "tensorflow" not in sys.modules, "import keras_resize_layers pulled in TensorFlow"
layers = krl.layers
assert layers.Resize.__name__ == "Resize"
assert "tensorflow" not in sys.modules, "krl.layers pulled in TensorFlow"
assert krl.data.decode_images and krl.serving.export and krl.distributed.distribute
assert krl.decode.inspect and krl.migration.replace_resizing
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
