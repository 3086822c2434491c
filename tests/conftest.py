import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import sys  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

# The smoke tests (tests/benchmarks) import `benchmarks` from the checkout; the checkout goes
# last on sys.path, so `keras_resize_layers` stays the copy under test (the installed wheel
# in .ci/run, found first in site-packages).
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.append(_ROOT)


def _photos():
    from skimage import data

    return {name: getattr(data, name)() for name in ("astronaut", "coffee", "chelsea")}


def pytest_report_header(config):
    """Which copy of the package the tests import: .ci/run tests the installed wheel."""
    import keras_resize_layers

    return f"keras_resize_layers {keras_resize_layers.__version__} from " \
        f"{os.path.dirname(keras_resize_layers.__file__)}"


def _expected_seconds(item):
    mark = item.get_closest_marker("slow")
    return mark.args[0] if mark else 0


def pytest_collection_modifyitems(config, items):
    """Long tests first (see `_expected_seconds`). Backend coverage: the layer test modules run again under KERAS_BACKEND=jax and torch
    (.ci/run); there, tests marked `tensorflow_only` are skipped, the rest must pass. Tests
    marked `backends("jax", ...)` run only under those backends (each run has one)."""
    import keras

    # The longest tests first (`slow(seconds)`, longest first), so that the two
    # workers never wait on one long test at the end of the run.
    items.sort(key=lambda item: -_expected_seconds(item))
    backend = keras.backend.backend()
    for item in items:
        only = item.get_closest_marker("backends")
        if only and backend not in only.args:
            item.add_marker(pytest.mark.skip(
                reason=f"runs under KERAS_BACKEND={'/'.join(only.args)} (this run: {backend})"))
        elif backend != "tensorflow" and item.get_closest_marker("tensorflow_only"):
            item.add_marker(pytest.mark.skip(
                reason=f"needs the TensorFlow backend (running on {backend})"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failure's report names the Keras backend it ran under (.ci/run runs the backend
    modules under JAX and PyTorch side by side, one worker each)."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        report.sections.append(("Keras backend", os.environ["KERAS_BACKEND"]))


@pytest.fixture(scope="session")
def photos():
    """Real photos shipped by scikit-image: 512x512, 400x600, 300x451 RGB uint8."""
    return _photos()


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(1234)


def encode(array, fmt, **kwargs):
    """Encoded bytes of a uint8 array in a Pillow format ("JPEG", "PNG", ...)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def exact_area_weights(n_in, n_out):
    """float64 reference for area averaging along one axis."""
    scale = n_in / n_out
    w = np.zeros((n_out, n_in))
    for o in range(n_out):
        a, b = o * scale, (o + 1) * scale
        for j in range(n_in):
            w[o, j] = max(0.0, min(j + 1, b) - max(j, a)) / scale
    return w

