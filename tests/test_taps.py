"""The sparse taps: the host-side plan and the backend-op passes."""

import numpy as np
import pytest
import tensorflow as tf

from keras_resize_layers._core import backend
from keras_resize_layers._core import geometry
from keras_resize_layers._core import resample
from keras_resize_layers._core import taps

TF = backend.get("tensorflow")


@pytest.mark.parametrize("method, antialias", [
    ("bilinear", True), ("bilinear", False), ("bicubic", False), ("bicubic", True),
    ("area", True), ("lanczos3", True), ("lanczos5", True), ("gaussian", True),
    ("mitchellcubic", True), ("nearest", False)])
@pytest.mark.parametrize("in_h, in_w, size, policy", [
    (512, 512, (224, 224), "stretch"), (300, 451, (224, 224), "crop"),
    (37, 53, (300, 301), "pad"), (1000, 640, (97, 131), "stretch")])
def test_plan_matches_weights_computed_with_tensorflow(method, antialias, in_h, in_w, size,
                                                       policy):
    """The plan is computed on the host with NumPy at Keras's float32 defaults:
    the same taps as TensorFlow's float32 ops and weights within 2 ulp."""
    plan = taps.plan(in_h, in_w, size, method, antialias, policy, 0.875)
    g = geometry.for_policy(TF, policy, tf.constant([in_h]), tf.constant([in_w]), size, 0.875)
    if "taps" not in plan:  # lanczos5 shrinking 10x: beyond MAX_TAPS, left to the matmul
        counts = [resample.tap_counts(TF, g[f"box_{a}"], g[f"place_{a}"], method, antialias)
                  for a in "hw"]
        assert max(int(tf.reduce_max(c)) for c in counts) > taps.MAX_TAPS
        return
    for axis, a, out, extent in (("y", "h", size[0], in_h), ("x", "w", size[1], in_w)):
        args = (g[f"box_{axis}"], g[f"box_{a}"], g[f"place_{axis}"], g[f"place_{a}"])
        dense = resample.axis_weights(TF, out, extent, *args, method, antialias)[0].numpy()
        assert plan["taps"] in taps.TAP_BUCKETS
        # Bilinear on an axis that does not shrink: the plan places the 2 taps of the
        # plain kernel; the weights (and the dense check below) stay antialiased.
        aa = antialias and not (method == "bilinear" and int(g[f"box_{a}"][0]) <= int(
            g[f"place_{a}"][0]))
        first = resample.tap_starts(TF, out, *args, method, aa)
        cols = first[..., None] + tf.range(plan["taps"], dtype=tf.float32)
        weights = resample.axis_weights(TF, out, extent, *args, method, antialias, cols=cols)
        assert plan["w" + axis].dtype == np.float32 and plan["i" + axis].dtype == np.int32
        np.testing.assert_array_equal(
            plan["i" + axis], np.clip(cols.numpy().astype(np.int32), 0, extent - 1))
        np.testing.assert_allclose(plan["w" + axis], weights.numpy(), atol=3e-7, rtol=0)
        # Every non-zero weight of the dense matrix is inside the taps.
        recovered = np.zeros_like(dense)
        np.add.at(recovered, (np.arange(out)[:, None], plan["i" + axis][0]), plan["w" + axis][0])
        np.testing.assert_allclose(recovered, dense, atol=1e-6, rtol=0)


@pytest.mark.parametrize("in_h, in_w, size", [(64, 64, (224, 224)), (300, 100, (224, 224)),
                                              (37, 53, (300, 301)), (17, 23, (100, 77)),
                                              (100, 100, (101, 333)), (5, 640, (480, 640))])
def test_antialias_costs_nothing_when_bilinear_does_not_shrink(in_h, in_w, size):
    """An axis that is not shrunk gets the 2-tap kernel whatever `antialias` says: the
    same pixels as the antialiased matrix product, and as few taps as antialias=False."""
    import keras_resize_layers as krl

    plan = taps.plan(in_h, in_w, size, "bilinear", True, "stretch", 1.0)
    off = taps.plan(in_h, in_w, size, "bilinear", False, "stretch", 1.0)
    if in_h <= size[0] and in_w <= size[1]:
        assert plan["taps"] == off["taps"] == 2
    image = np.random.default_rng(0).integers(0, 256, (2, in_h, in_w, 3), dtype=np.uint8)
    reference = krl.resize(image, size, implementation="matmul").numpy()
    np.testing.assert_allclose(krl.resize(image, size, implementation="taps").numpy(),
                               reference, atol=5e-4, rtol=0)
    element = tf.data.Dataset.from_tensor_slices(image).map(  # run-time size: TF's kernels
        lambda x: krl.resize(x, size))
    np.testing.assert_allclose(np.stack(list(element.as_numpy_iterator())), reference,
                               atol=5e-4, rtol=0)


def test_plan_is_cached_and_has_no_taps_beyond_the_largest_bucket():
    assert taps.plan(64, 64, (8, 8), "bilinear", True, "stretch", 1.0) is taps.plan(
        64, 64, (8, 8), "bilinear", True, "stretch", 1.0)
    beyond = taps.plan(2100, 30, (20, 20), "bilinear", True, "stretch", 1.0)
    assert set(beyond) == {"geometry"}
    assert taps.static_plan(tf.zeros((1, 5, 5, 3)), (2, 2), "bilinear", True, "stretch",
                            1.0)["taps"] >= 1
    # Unknown size while tracing: no plan.
    seen = []

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)])
    def trace(x):
        seen.append(taps.static_plan(x, (2, 2), "bilinear", True, "stretch", 1.0))
        return x

    trace.get_concrete_function()
    assert seen == [None]


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
@pytest.mark.parametrize("shape, size, method, policy", [
    ((2, 37, 53, 3), (30, 31), "bilinear", "stretch"),
    ((1, 300, 451, 1), (64, 48), "lanczos3", "crop"),
    ((3, 40, 90, 4), (50, 50), "bicubic", "pad")])
def test_passes_with_backend_ops_match_the_matmul(dtype, shape, size, method, policy):
    """`taps.resample_static` with plain (eager) TensorFlow ops, as JAX and
    PyTorch run it, against the dense matmul of the same weights."""
    images = np.random.default_rng(5).integers(0, 256, shape).astype(dtype)
    plan = taps.plan(shape[1], shape[2], size, method, True, policy, 1.0)
    out = taps.resample_static(TF, tf.constant(images), size, plan, 3.0, policy).numpy()
    g = {k: tf.constant(v) for k, v in plan["geometry"].items()}
    ref = resample.resample(TF, tf.cast(images, tf.float32), size, g, method, True, 3.0,
                            policy, True).numpy()
    assert out.dtype == np.float32 and out.shape == ref.shape
    np.testing.assert_allclose(out, ref, atol=5e-4, rtol=0)


@pytest.mark.parametrize("method, antialias", [
    ("bilinear", True), ("bilinear", False), ("bicubic", True), ("bicubic", False),
    ("lanczos3", True), ("lanczos5", False), ("gaussian", True), ("mitchellcubic", True),
    ("area", True), ("nearest", True)])
@pytest.mark.parametrize("canvas, size", [((40, 60), (24, 24)), ((37, 90), (5, 64)),
                                          ((64, 16), (30, 7)), ((9, 200), (224, 224))])
def test_tap_bound_covers_every_image_of_the_canvas(method, antialias, canvas, size):
    """The static K of per-image taps against `tap_counts` of every image size
    inside the canvas, for every policy (boxes of RandomResizedCrop are the
    stretch case: any box with the placement filling the output)."""
    bk = backend.numpy_backend()
    hs, ws = np.meshgrid(np.arange(1, canvas[0] + 1), np.arange(1, canvas[1] + 1),
                         indexing="ij")
    hs, ws = hs.ravel().astype(np.int32), ws.ravel().astype(np.int32)
    for policy, fraction in (("stretch", 1.0), ("crop", 0.875), ("pad", 1.0)):
        g = geometry.for_policy(bk, policy, hs, ws, size, fraction)
        bounds = taps.canvas_ratios(canvas, size, policy == "pad")
        for (a, o), ratio in zip((("h", size[0]), ("w", size[1])), bounds):
            need = resample.tap_counts(bk, g["box_" + a], g["place_" + a], method, antialias)
            assert need.max() <= taps.tap_bound(method, antialias, ratio), (policy, a)


def _per_image_cases():
    rng = np.random.default_rng(11)
    x = rng.integers(0, 256, (3, 90, 130, 3)).astype(np.uint8)
    sizes = np.array([[90, 130], [37, 120], [80, 20]], np.int32)
    boxes = np.array([[0, 0, 90, 130], [10, 20, 5, 7], [3, 4, 80, 100]], np.int32)
    return x, sizes, boxes


@pytest.mark.parametrize("backend_name", ["jax", "torch", "tensorflow-xla"])
@pytest.mark.parametrize("method, antialias", [
    ("bilinear", True), ("lanczos3", True), ("area", True), ("bicubic", False)])
def test_per_image_taps_match_the_matmul_on_every_backend(backend_name, method, antialias):
    """Padded batches with `image_sizes` (every policy) and per-image crop boxes
    resize with per-image taps off the TensorFlow CPU path (JAX, PyTorch,
    TensorFlow under XLA), equal to the dense matmul of the same weights."""
    import keras_resize_layers as krl

    x, sizes, boxes = _per_image_cases()
    name = "tensorflow" if backend_name == "tensorflow-xla" else backend_name
    if name != "tensorflow":
        pytest.importorskip(name)

    def calls(backend, implementation):
        out = [krl.resize(x, (40, 56), method=method, antialias=antialias, policy=policy,
                          fill_value=7.0, image_sizes=sizes, backend=backend,
                          implementation=implementation) for policy in ("stretch", "crop", "pad")]
        return out + [krl.resized_crop(x, boxes, (24, 24), method=method, antialias=antialias,
                                       backend=backend, implementation=implementation)]

    if backend_name == "tensorflow-xla":  # one XLA program for the four calls
        got = [t.numpy() for t in tf.function(lambda: calls(name, "auto"), jit_compile=True)()]
    elif backend_name == "jax":  # one program too (op by op, JAX compiles each small op)
        import jax

        got = [np.asarray(t) for t in jax.jit(lambda: calls(name, "auto"))()]
    else:
        got = [np.asarray(t) for t in calls(name, "auto")]
    refs = [t.numpy() for t in calls("tensorflow", "matmul")]
    # jax.jit lets XLA reorder the float32 arithmetic of the crop's weights (up to ~1e-3
    # grey levels; a wrong tap would be off by whole grey levels).
    atol = 2e-3 if backend_name == "jax" else 5e-4
    for case, a, b in zip(("stretch", "crop", "pad", "boxes"), got, refs):
        np.testing.assert_allclose(a, b, atol=atol, rtol=0, err_msg=case)


def test_per_image_taps_hold_no_dense_matrix_and_no_float_copy():
    """On JAX (traced, as under jit) a padded 512x512 batch with `image_sizes`
    resized to 224x224 builds neither `(N, 224, 512)` weight matrices nor a
    float32 copy of the input: memory linear in the batch, no input-sized float."""
    jax = pytest.importorskip("jax")
    import keras_resize_layers as krl

    x = np.zeros((4, 512, 512, 3), np.uint8)
    sizes = np.array([[512, 512], [300, 200], [17, 512], [512, 99]], np.int32)
    for fn in (lambda a, s: krl.resize(a, (224, 224), image_sizes=s, backend="jax"),
               lambda a, s: krl.resized_crop(a, np.array([[0, 0, 300, 400]] * 4),
                                             (224, 224), backend="jax")):
        jaxpr = jax.make_jaxpr(fn)(x, sizes)
        shapes = [(tuple(v.aval.shape), str(v.aval.dtype)) for e in jaxpr.jaxpr.eqns
                  for v in e.outvars]
        assert not [s for s, _ in shapes if s[-2:] == (224, 512)], "dense weights"
        assert not [s for s, d in shapes if d == "float32" and np.prod(s) >= x.size]
        assert max(np.prod(s) for s, _ in shapes) <= x.size  # nothing larger than the input
