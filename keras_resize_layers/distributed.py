"""Scaling preprocessing out: the tf.data service with delivery accounting.

TensorFlow only. `distribute` routes a pipeline built with this library's
map functions through `tf.data.experimental.service` and counts what comes
back: every element carries an id from its source, and `Delivery` reports
which ids never arrived (a worker lost mid-epoch) or arrived twice, so no
element is lost silently.
"""

import logging
import queue

import tensorflow as tf

from keras_resize_layers import _tf  # noqa: F401  (AutoGraph calls this package as written)

logger = logging.getLogger(__name__)
__all__ = ["distribute", "Delivery", "STARTUP_S"]

STARTUP_S = 120  # the reader process's start (importing TensorFlow) before timeout_s applies


class Delivery:
    """Iterates a distributed dataset, stripping and counting element ids.

    Args:
        dataset: a dataset of `(id, element...)` tuples (ids unique per epoch);
            None when `remote` is given.
        expected: the number of elements of one epoch (ids 0..expected-1),
            or `None` for the source's cardinality if known.
        with_ids: yield `(ids, element)` instead of `element`.
        timeout_s: give up when no element arrives for this long (a worker
            that died holding part of the epoch makes the service client
            wait for it indefinitely); `timed_out` is then True and the ids
            not received are in `missing`. The service client then runs in a
            child process (`remote`), which is ended on a timeout, so nothing
            is left blocked behind: TensorFlow's client cannot be cancelled
            from another thread.
        remote: `(service, dataset_id, element_spec, processing_mode,
            job_name, kwargs)` to read with `from_dataset_id`; set by
            `distribute`.

    After the loop, `missing` and `duplicates` list the ids that did not
    arrive or arrived more than once; a warning is logged when either is
    non-empty.
    """

    def __init__(self, dataset, expected=None, with_ids=False, timeout_s=None, remote=None):
        if timeout_s is not None and remote is None:
            raise ValueError("`timeout_s` needs `remote` (the registered dataset): build the "
                             "Delivery with `distribute(..., timeout_s=...)`.")
        self.dataset = dataset
        self.expected = expected
        self.with_ids = with_ids
        self.timeout_s = timeout_s
        self.remote = remote
        self.received = []
        self.timed_out = False
        self.reader = None  # the child process of the last timed pass

    def _elements(self):
        if self.remote is None:
            yield from self.dataset
            return
        import pickle
        import subprocess
        import sys
        import threading

        self.reader = subprocess.Popen(
            [sys.executable, "-c", "from keras_resize_layers.distributed import _reader_main; "
             "_reader_main()"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.reader.stdin.write(pickle.dumps(self.remote))
        self.reader.stdin.close()
        items = queue.Queue()

        def pump(stream):  # ends at EOF, i.e. when the reader process ends
            try:
                while True:
                    items.put(pickle.load(stream))
            except (EOFError, OSError, pickle.UnpicklingError):
                items.put(("end", None))

        threading.Thread(target=pump, args=(self.reader.stdout,), daemon=True).start()
        wait = max(self.timeout_s, STARTUP_S)  # the reader imports TensorFlow first
        spec = self.remote[2]
        try:
            while True:
                try:
                    kind, payload = items.get(timeout=wait)
                except queue.Empty:
                    self.timed_out = True
                    return
                wait = self.timeout_s
                if kind == "ready":
                    continue
                if kind == "end":
                    return
                if kind == "error":
                    raise RuntimeError(f"tf.data service reader failed: {payload}")
                yield tf.nest.pack_sequence_as(
                    spec, [tf.constant(x) for x in payload], expand_composites=True)
        finally:
            if self.reader.poll() is None:
                self.reader.kill()
            self.reader.wait(30)

    def __iter__(self):
        self.received = []
        self.timed_out = False
        for element in self._elements():
            ids = element[0].numpy().reshape(-1).tolist()  # batched or not
            self.received.extend(int(i) for i in ids)
            rest = element[1] if len(element) == 2 else tuple(element[1:])
            yield (element[0], rest) if self.with_ids else rest
        self.log()

    @property
    def missing(self):
        if self.expected is None:
            return []
        return sorted(set(range(self.expected)) - set(self.received))

    @property
    def duplicates(self):
        seen, twice = set(), set()
        for i in self.received:
            (twice if i in seen else seen).add(i)
        return sorted(twice)

    def log(self):
        if self.missing or self.duplicates:
            logger.warning(
                "tf.data service epoch: %d of %s elements arrived; %d missing (ids %s), "
                "%d duplicated%s.", len(set(self.received)), self.expected,
                len(self.missing), self.missing[:20], len(self.duplicates),
                "; stopped waiting after %ss without an element" % self.timeout_s
                if self.timed_out else "")


def distribute(dataset, service, expected=None, job_name=None,
               processing_mode="distributed_epoch", with_ids=False, timeout_s=None,
               **kwargs):
    """Runs `dataset` on tf.data service workers and returns a `Delivery`.

    `dataset` must yield `(id, element...)` with ids taken from its source
    (e.g. `Dataset.range(n)` or `from_tensor_slices((ids, paths))`), so that
    they stay unique when `distributed_epoch` splits the source across
    workers. `service` is the dispatcher address (`"grpc://host:port"`).
    `expected` defaults to the dataset's cardinality when known (count
    elements, not batches: pass it when the dataset is batched).
    `with_ids=True` yields `(ids, element)`; `timeout_s` bounds the wait for
    the next element (see `Delivery`).

    Example:

    >>> source = tf.data.Dataset.from_tensor_slices((tf.range(n), paths, labels))
    >>> ds = source.map(lambda i, p, y: (i, tf.io.read_file(p), y)).map(
    ...     lambda i, b, y: (i,) + decode_and_resize_fn(224, 224)(b, y))
    >>> for image, label in distribute(ds.batch(64), "grpc://dispatcher:5050", expected=...):
    ...     ...
    """
    if expected is None:
        cardinality = int(dataset.cardinality())
        expected = cardinality if cardinality >= 0 else None
    if timeout_s is None:
        remote = dataset.apply(tf.data.experimental.service.distribute(
            processing_mode=processing_mode, service=service, job_name=job_name, **kwargs))
        return Delivery(remote, expected, with_ids)
    # With a timeout the client runs in a reader process (see `Delivery`).
    read_kwargs = {k: v for k, v in kwargs.items() if k != "compression"}
    dataset_id = tf.data.experimental.service.register_dataset(
        service, dataset, **{k: v for k, v in kwargs.items() if k == "compression"})
    reader = (service, dataset_id.numpy(), dataset.element_spec, processing_mode,
              job_name, read_kwargs)
    return Delivery(None, expected, with_ids, timeout_s, reader)


def _reader_main():
    """The reader process: reads the registered dataset from the service and
    writes pickled `(kind, payload)` messages to its stdout."""
    import os
    import pickle
    import sys

    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything else printed goes to stderr

    def send(kind, payload=None):
        pickle.dump((kind, payload), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        service, dataset_id, spec, mode, job_name, kwargs = pickle.load(sys.stdin.buffer)
        ds = tf.data.experimental.service.from_dataset_id(
            processing_mode=mode, service=service, dataset_id=dataset_id,
            element_spec=spec, job_name=job_name, **kwargs)
        send("ready")
        for element in ds:
            send("element", [x.numpy() for x in tf.nest.flatten(element,
                                                                  expand_composites=True)])
        send("end")
    except Exception as e:  # reported to the parent, which raises it
        send("error", f"{type(e).__name__}: {e}")
