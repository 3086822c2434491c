"""Scaling out for real: tf.data service (in-process dispatcher and workers on
127.0.0.1) and tf.distribute.MirroredStrategy on two logical CPUs."""

import contextlib
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from conftest import encode
from keras_resize_layers import data, distributed

N = 24
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pipeline(photo):
    images = tf.constant(np.stack([photo, photo[::-1], photo[:, ::-1]]))
    resize = data.resize_fn(40, 56, method="lanczos3", policy="pad", fill_value=7.0)

    def make(i):
        # A different image per id: a crop of one of three photos.
        return i, images[i % 3][: 200 + i, : 300 + 2 * i], i % 5

    return tf.data.Dataset.range(N).map(make).map(lambda i, x, y: (i,) + resize(x, y))


@contextlib.contextmanager
def service_cluster(workers=2):
    """An in-process tf.data service: a dispatcher and `workers` workers on
    127.0.0.1; yields the dispatcher's address."""
    service = tf.data.experimental.service
    dispatcher = service.DispatchServer()
    address = dispatcher.target.split("://")[1]
    servers = [service.WorkerServer(service.WorkerConfig(dispatcher_address=address))
               for _ in range(workers)]
    try:
        yield dispatcher.target
    finally:
        for worker in servers:
            worker._stop()
        dispatcher._stop()


def test_tf_data_service_delivers_every_element_once_with_the_same_pixels(photos):
    with service_cluster() as target:
        local = {int(i): (x.numpy(), int(y)) for i, x, y in pipeline(photos["chelsea"])}
        delivery = distributed.distribute(pipeline(photos["chelsea"]), target, with_ids=True)
        remote = {int(i): (x.numpy(), int(y)) for i, (x, y) in delivery}
        assert sorted(delivery.received) == list(range(N))  # exactly once
        assert delivery.expected == N and not delivery.missing and not delivery.duplicates
        for i, (image, label) in local.items():
            np.testing.assert_array_equal(remote[i][0], image)
            assert remote[i][1] == label


def test_tf_data_service_runs_batched_decode_and_resize(photos):
    """The workers rebuild the pipeline from its serialised graph, fast-start
    maps included (`_compat.fast_start_map`): every element once, same pixels."""
    jpegs = [encode(p, "JPEG", quality=90) for p in photos.values()] * 4
    n = len(jpegs)
    source = tf.data.Dataset.from_tensor_slices((jpegs, tf.range(n)))
    ds = source.apply(data.batched_decode_and_resize(4, 40, 56)).map(lambda x, i: (i, x))
    local = {int(i): x for ids, xs in ds for i, x in zip(ids.numpy(), xs.numpy())}
    with service_cluster() as target:
        delivery = distributed.distribute(ds, target, expected=n, with_ids=True)
        remote = {}
        for ids, images in delivery:
            assert ids.dtype == tf.int32
            remote.update({int(i): x for i, x in zip(ids.numpy(), images.numpy())})
        assert sorted(remote) == list(range(n)) and not delivery.missing
        for i, image in local.items():
            np.testing.assert_array_equal(remote[i], image)


KILL_SCRIPT = r"""
import logging, sys
import numpy as np
import tensorflow as tf
sys.path.insert(0, sys.argv[1] + "/tests")
from keras_resize_layers import distributed
from test_distributed import pipeline
from skimage import data as skdata

logging.basicConfig(level=logging.WARNING)
service = tf.data.experimental.service
dispatcher = service.DispatchServer(service.DispatcherConfig(worker_timeout_ms=500))
address = dispatcher.target.split("://")[1]
workers = [service.WorkerServer(service.WorkerConfig(dispatcher_address=address,
                                                     heartbeat_interval_ms=100))
           for _ in range(2)]
delivery = distributed.distribute(pipeline(skdata.chelsea()), dispatcher.target,
                                  max_outstanding_requests=1, timeout_s=8)
count = 0
for image, label in delivery:
    count += 1
    if count == 4:
        workers[0]._stop()  # one worker dies mid-epoch
print("RESULT", count, len(delivery.received), len(delivery.missing),
      len(delivery.duplicates), int(delivery.timed_out), flush=True)
# Nothing is left running: the reader process has ended.
print("READER_ALIVE", int(delivery.reader.poll() is None), flush=True)
sys.stderr.flush()
import os
os._exit(0)  # the service client thread may still be blocked on the dead worker
"""


@pytest.mark.slow(21)
def test_killing_a_worker_mid_epoch_never_loses_elements_silently():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", KILL_SCRIPT, ROOT], capture_output=True,
                            text=True, timeout=240, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    line = [x for x in result.stdout.splitlines() if x.startswith("RESULT")][-1]
    count, received, missing, duplicates, timed_out = map(int, line.split()[1:])
    # Whatever the service did, the caller knows: every id arrived, or the lost
    # ones are counted and logged.
    assert received == count
    assert received - duplicates + missing == N
    if missing:
        assert "missing" in result.stderr
    assert "READER_ALIVE 0" in result.stdout
    print(f"worker killed mid-epoch: {received} received, {missing} missing, "
          f"{duplicates} duplicated, timed out: {bool(timed_out)}")


MIRRORED_SCRIPT = r"""
import sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
sys.path.insert(0, sys.argv[1])
from keras_resize_layers.layers import RandomResizedCrop, Resize
from skimage import data as skdata

strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert strategy.num_replicas_in_sync == 2
with strategy.scope():
    inputs = keras.Input((None, None, 3), dtype="uint8")
    x = RandomResizedCrop(32, 32, seed=1)(inputs)
    x = keras.layers.Rescaling(1 / 255)(x)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    model.compile("adam", "sparse_categorical_crossentropy")
photo = skdata.chelsea()
images = np.stack([photo, photo[::-1]] * 8)
ds = tf.data.Dataset.from_tensor_slices((images, np.arange(16) % 2)).batch(8)
history = model.fit(ds, epochs=2, verbose=0)
single = Resize(32, 32, policy="crop", crop_fraction=0.875)(images[:2]).numpy()
inference = model.layers[1](images[:2]).numpy()
assert np.array_equal(single, inference)
# JPEG bytes through batched_decode_and_resize (fast-start maps, int32 labels restored),
# distributed by Keras to both replicas (tf.distribute rewrites the dataset's graph).
import io
from PIL import Image
from keras_resize_layers import data
def jpeg(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG")
    return buffer.getvalue()
encoded = tf.data.Dataset.from_tensor_slices(
    ([jpeg(photo), jpeg(photo[::-1])] * 8, (np.arange(16) % 2).astype(np.int32)))
decoded = encoded.apply(data.batched_decode_and_resize(8, 48, 40, dtype="uint8"))
assert decoded.element_spec[1].dtype == tf.int32
history_jpeg = model.fit(decoded, epochs=1, verbose=0)
print("LOSS", history.history["loss"] + history_jpeg.history["loss"])
"""


@pytest.mark.slow(31)
def test_training_under_mirrored_strategy_on_two_cpus():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-c", MIRRORED_SCRIPT, ROOT],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    losses = eval(result.stdout.split("LOSS")[-1])
    assert len(losses) == 3 and all(np.isfinite(losses))
