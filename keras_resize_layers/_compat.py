"""The only module that touches private Keras and TensorFlow APIs.

Each private name is looked up here once, with a fallback for Keras or
TensorFlow releases that moved or removed it, so a release that breaks one
shows up in one place (and in `tests/test_compat.py`, which runs every
fallback). Keras is pinned in `setup.py` to the minor versions the tests run;
`.ci/run` also runs the layer tests against the newest Keras 3 release.
"""

import collections
import functools
import importlib
import sys
import types

import keras


def _private(path, name):
    """`getattr(import_module(path), name)`, or None when either is gone."""
    try:
        return getattr(importlib.import_module(path), name)
    except (ImportError, AttributeError):
        return None


# --- backend namespaces -------------------------------------------------------------

class OpsBackend:
    """Fallback for Keras's `DynamicBackend`: the ops of the global backend
    through the public `keras.ops` (no switching to another backend)."""

    def __init__(self, backend=None):
        self._backend = backend or keras.backend.backend()
        if self._backend != keras.backend.backend():
            raise RuntimeError(
                f"This Keras release has no DynamicBackend: the {self._backend} backend "
                f"cannot be used while the global backend is {keras.backend.backend()}.")
        self.numpy = keras.ops
        self.random = keras.random

    name = property(lambda self: self._backend)

    def set_backend(self, backend):
        if backend != keras.backend.backend():
            raise RuntimeError("This Keras release has no DynamicBackend: a layer cannot "
                               f"switch to the {backend} backend inside tf.data.")

    def reset(self):
        pass

    def cast(self, x, dtype):
        return keras.ops.cast(x, dtype)

    def convert_to_tensor(self, x, dtype=None):
        return keras.ops.convert_to_tensor(x, dtype)

    def shape(self, x):
        return keras.ops.shape(x)


_DYNAMIC_BACKEND = _private("keras.src.utils.backend_utils", "DynamicBackend")


def dynamic_backend(name=None):
    """An object with a backend's op namespaces (`numpy`, `cast`, `shape`, ...)."""
    cls = _DYNAMIC_BACKEND or OpsBackend
    return cls(name) if name else cls()


# --- the base of the library's layers -------------------------------------------------

def tensorflow_blocked():
    """True where a program blocked TensorFlow with `sys.modules["tensorflow"] =
    None` (as JAX programs do): Keras's own tf.data check then raises ImportError."""
    return "tensorflow" in sys.modules and sys.modules["tensorflow"] is None


def in_tf_graph():
    tf = sys.modules.get("tensorflow")
    return tf is not None and not tf.executing_eagerly()


class FallbackDataLayer(keras.layers.Layer):
    """Fallback for Keras's `DataLayer` (`TFDataLayer` before Keras 3.12): a
    layer that runs with TensorFlow ops when called inside a TensorFlow graph
    (`tf.data`) whatever the global backend, and owns a seed generator."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.backend = dynamic_backend()

    def __call__(self, inputs, **kwargs):
        sample = keras.tree.flatten(inputs)[0]
        if not isinstance(sample, keras.KerasTensor) and in_tf_graph() and (
                keras.backend.backend() != "tensorflow"):
            self.backend.set_backend("tensorflow")
            try:
                return super().__call__(inputs, **kwargs)
            finally:
                self.backend.reset()
        return super().__call__(inputs, **kwargs)

    def _get_seed_generator(self, backend=None):
        if backend is None or backend == keras.backend.backend():
            return self.generator
        generators = self.__dict__.setdefault("_krl_generators", {})
        if backend not in generators:
            generators[backend] = keras.random.SeedGenerator(self.seed, backend=self.backend)
        return generators[backend]


def _data_layer():
    return (_private("keras.src.layers.preprocessing.data_layer", "DataLayer")
            or _private("keras.src.layers.preprocessing.tf_data_layer", "TFDataLayer")
            or FallbackDataLayer)


DataLayer = _data_layer()


def keep_input_dtype(layer):
    """Asks Keras not to cast a layer's inputs to its compute dtype (uint8
    images stay uint8), and to accept NumPy arrays as they are. Keras reads the
    private `_convert_input_args` and `_allow_non_tensor_positional_args`; a
    release without them ignores both attributes."""
    layer._convert_input_args = False
    layer._allow_non_tensor_positional_args = True


def seed_generator(layer, backend_name):
    """The layer's seed generator for `backend_name` (another backend's inside tf.data)."""
    get = getattr(layer, "_get_seed_generator", None)
    if get is None:
        return layer.generator
    return get(backend_name)


# --- TensorFlow -------------------------------------------------------------------------

def _xla_context_by_attributes(graph):
    """Fallback of `control_flow_util.GraphOrParentsInXlaContext`: walks the graph
    and its outer graphs looking for an XLA control-flow context."""
    while graph is not None:
        get = getattr(graph, "_get_control_flow_context", None)
        context = get() if get else None
        while context is not None:
            if type(context).__name__ == "XLAControlFlowContext":
                return True
            context = getattr(context, "outer_context", None)
        graph = getattr(graph, "outer_graph", None)
    return False


@functools.lru_cache(maxsize=None)
def _graph_xla_check():
    """TensorFlow's `GraphOrParentsInXlaContext`, or the fallback (looked up once)."""
    check = _private("tensorflow.python.ops.control_flow_util", "GraphOrParentsInXlaContext")
    return check or _xla_context_by_attributes


def in_xla_context():
    """True while tracing a TensorFlow function that XLA compiles (`jit_compile=True`)."""
    import tensorflow as tf

    return bool(_graph_xla_check()(tf.compat.v1.get_default_graph()))


@functools.lru_cache(maxsize=None)
def _save_context_check():
    return _private("tensorflow.python.saved_model.save_context", "in_save_context")


def in_save_context():
    """True while `tf.saved_model.save` (and so `model.export`) traces functions:
    what it traces must run without this library's own ops. Without TensorFlow's
    `save_context` (a release that moved it) assume saving, the portable answer."""
    check = _save_context_check()
    return True if check is None else bool(check())


@functools.lru_cache(maxsize=None)
def call_library_code_as_written():
    """Puts this package on AutoGraph's list of modules it calls as written instead of
    converting (TensorFlow and Keras are on it): the library's graph code is explicit
    (`tf.cond`, `tf.while_loop`), and converting it made the first trace in each process
    seconds slower. Called once TensorFlow is imported. Returns False without TensorFlow's
    `CONVERSION_RULES` (a release that moved it): the same results, slower first traces."""
    config = _private("tensorflow.python.autograph.core", "config")
    rule = _private("tensorflow.python.autograph.core.config_lib", "DoNotConvert")
    if config is None or rule is None or not isinstance(
            getattr(config, "CONVERSION_RULES", None), tuple):
        return False
    package = __name__.split(".")[0]
    if not any(isinstance(r, rule) and r.matches(package) for r in config.CONVERSION_RULES):
        config.CONVERSION_RULES = (rule(package),) + config.CONVERSION_RULES
    return True


def keras_private_names():
    """Which private names this Keras release provides (for tests and bug reports)."""
    return types.SimpleNamespace(
        DynamicBackend=_DYNAMIC_BACKEND is not None,
        DataLayer=DataLayer is not FallbackDataLayer,
        GraphOrParentsInXlaContext=_graph_xla_check() is not _xla_context_by_attributes
        if "tensorflow" in sys.modules else None,
        in_save_context=_save_context_check() is not None
        if "tensorflow" in sys.modules else None,
        fast_start_map=_one_device_map_class() is not None
        if "tensorflow" in sys.modules else None,
        autograph_rules=call_library_code_as_written()
        if "tensorflow" in sys.modules else None)


# --- tf.data ------------------------------------------------------------------------


def unlowered_cond(pred, true_fn, false_fn):
    """`tf.cond(pred, true_fn, false_fn)` kept a functional `If` op in graphs: only
    the branch taken runs.

    Grappler lowers an `If` to `Switch`/`Merge` in the functions of a plain
    `Dataset.map` (and of `tf.function`s); the untaken branch then still costs
    per element, node by node (dead tensors flow through all of it). For
    `decode.decode_image`, whose non-JPEG branch holds hundreds of ops, a
    plain map decoded JPEGs at half the bare decoder's rate (BUILD_NOTES).
    The If's private `_lower_using_switch_merge` attribute (set by TensorFlow's
    cond_v2) asks for no lowering; where that is missing, a plain `tf.cond`.
    """
    import tensorflow as tf

    out = tf.cond(pred, true_fn, false_fn)
    if tf.executing_eagerly():
        return out
    try:
        from tensorflow.core.framework import attr_value_pb2

        op = tf.nest.flatten(out)[0].op
        while op.type == "Identity":
            op = op.inputs[0].op
        if op.type in ("If", "StatelessIf"):
            op._set_attr("_lower_using_switch_merge", attr_value_pb2.AttrValue(b=False))
    except Exception:  # noqa: BLE001 - private pieces moved: the cond as TF built it
        pass
    return out


@functools.lru_cache(maxsize=None)
def _one_device_map_class():
    """A parallel map dataset whose function carries `experimental_ints_on_device`
    (the attribute TF's own device-prefetching datasets set), or None when this
    TensorFlow lacks the private pieces it is built from."""
    dataset_ops = _private("tensorflow.python.data.ops.dataset_ops", "UnaryDataset")
    wrapper_class = _private("tensorflow.python.data.ops.structured_function",
                             "StructuredFunctionWrapper")
    make = _private("tensorflow.python.ops.gen_dataset_ops", "parallel_map_dataset_v2")
    if None in (dataset_ops, wrapper_class, make):
        return None
    import tensorflow as tf

    class OneDeviceMap(dataset_ops):
        def __init__(self, input_dataset, fn, num_parallel_calls, wrapper=None):
            self._input_dataset = input_dataset
            self._name = None
            self._map_func = wrapper or wrapper_class(
                fn, "Dataset.map()", dataset=input_dataset,
                defun_kwargs={"experimental_ints_on_device": True})
            variant = make(
                input_dataset._variant_tensor, self._map_func.function.captured_inputs,
                f=self._map_func.function,
                num_parallel_calls=tf.constant(num_parallel_calls, tf.int64),
                deterministic="default", preserve_cardinality=True, **self._common_args)
            super().__init__(input_dataset, variant)

        def _functions(self):
            return [self._map_func]

        @property
        def element_spec(self):
            return self._map_func.output_structure

    return OneDeviceMap


_TRACED = collections.OrderedDict()  # pipeline key -> {map name: (wrapper, widened), ...}
_TRACED_MAX = 64


def traced_maps(dataset, settings):
    """The store of a pipeline's traced map functions, shared by every later build of the
    same pipeline (`settings`, a hashable description of everything the functions
    depend on) on a dataset with the same element spec: each build after the first
    skips the trace. Eager only (a graph being built needs its own copy of each
    function): a fresh, unshared store otherwise. The 64 most recent are kept."""
    import tensorflow as tf

    if not tf.executing_eagerly():
        return {}
    key = (settings, repr(dataset.element_spec))
    entry = _TRACED.pop(key, None)
    entry = {} if entry is None else entry
    _TRACED[key] = entry
    while len(_TRACED) > _TRACED_MAX:
        _TRACED.popitem(last=False)
    return entry


def fast_start_map(dataset, fn, num_parallel_calls, keep_int64=False, traced=None, name="map"):
    """`dataset.map(fn, num_parallel_calls=...)`, whose function every new
    iterator instantiates in milliseconds.

    tf.data instantiates a map's function again for each iterator (each
    `model.fit` epoch) and runs grappler over it first: ~0.2 s for the
    decoder's graph. A function with TensorFlow's `experimental_ints_on_device`
    attribute takes the single-device path instead (no grappler pass; its
    `If`/`Case` branches are instantiated when first taken). On the CPU, where
    tf.data functions run, the attribute changes nothing else, but int32
    results become device return values, which tf.data's `inject_prefetch`
    rewrite refuses in multi-output functions: they leave the function as
    int64 and a small map restores them (`keep_int64=True`: not restored, for
    a pipeline stage whose next map casts them back itself). With `traced`
    (from `traced_maps`), the function traced under `name` by an earlier build
    is reused. Plain `dataset.map` where the private pieces are missing or
    tf.data's debug mode is on.
    """
    import tensorflow as tf

    cls = _one_device_map_class()
    debug = _private("tensorflow.python.data.experimental.ops.debug_mode", "DEBUG_MODE")
    if cls is None or debug:
        return dataset.map(fn, num_parallel_calls=num_parallel_calls)
    if traced is not None and name in traced:
        wrapper, widened_at = traced[name]
        mapped = cls(dataset, None, num_parallel_calls, wrapper=wrapper)
    else:
        widened_at = set()

        def widened(*args):
            out = fn(*args)
            flat = tf.nest.flatten(out)
            for i, x in enumerate(flat):
                if isinstance(x, tf.Tensor) and x.dtype == tf.int32:
                    widened_at.add(i)
                    flat[i] = tf.cast(x, tf.int64)
            return tf.nest.pack_sequence_as(out, flat)

        mapped = cls(dataset, widened, num_parallel_calls)
        if traced is not None:
            traced[name] = (mapped._map_func, widened_at)
    if not widened_at or keep_int64:
        return mapped
    is_tuple = isinstance(mapped.element_spec, tuple)

    def restore(*element):
        element = element if is_tuple else element[0]
        flat = tf.nest.flatten(element)
        flat = [tf.cast(x, tf.int32) if i in widened_at else x for i, x in enumerate(flat)]
        return tf.nest.pack_sequence_as(element, flat)

    return mapped.map(restore)
