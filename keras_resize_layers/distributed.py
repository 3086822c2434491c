"""Scaling preprocessing out: the tf.data service with delivery accounting.

TensorFlow only. `distribute` routes a pipeline built with this library's
map functions through `tf.data.experimental.service` and counts what comes
back: every element carries an id from its source, and `Delivery` reports
which ids never arrived (a worker lost mid-epoch) or arrived twice, so no
element is lost silently.
"""

import logging
import queue
import threading

import tensorflow as tf

logger = logging.getLogger(__name__)


class Delivery:
    """Iterates a distributed dataset, stripping and counting element ids.

    Args:
        dataset: a dataset of `(id, element...)` tuples (ids unique per epoch).
        expected: the number of elements of one epoch (ids 0..expected-1),
            or `None` for the source's cardinality if known.

        with_ids: yield `(ids, element)` instead of `element`.
        timeout_s: give up when no element arrives for this long (a worker
            that died holding part of the epoch makes the service client
            wait for it indefinitely); `timed_out` is then True and the ids
            not received are in `missing`.

    After the loop, `missing` and `duplicates` list the ids that did not
    arrive or arrived more than once; a warning is logged when either is
    non-empty.
    """

    def __init__(self, dataset, expected=None, with_ids=False, timeout_s=None):
        self.dataset = dataset
        self.expected = expected
        self.with_ids = with_ids
        self.timeout_s = timeout_s
        self.received = []
        self.timed_out = False

    def _elements(self):
        if self.timeout_s is None:
            yield from self.dataset
            return
        # The service client blocks in C++; read it from a daemon thread.
        items = queue.Queue()
        done = object()

        def produce():
            try:
                for element in self.dataset:
                    items.put(element)
            finally:
                items.put(done)

        threading.Thread(target=produce, daemon=True).start()
        while True:
            try:
                element = items.get(timeout=self.timeout_s)
            except queue.Empty:
                self.timed_out = True
                return
            if element is done:
                return
            yield element

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
    remote = dataset.apply(tf.data.experimental.service.distribute(
        processing_mode=processing_mode, service=service, job_name=job_name, **kwargs))
    return Delivery(remote, expected, with_ids, timeout_s)
