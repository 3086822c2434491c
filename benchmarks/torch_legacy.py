"""Reads PyTorch's legacy (pre-1.6, non-zip) checkpoint format without PyTorch.

The legacy format is five things back to back: three small pickles (a magic number, the
protocol version, system info), the pickled object itself, in which every tensor is a
`torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` call whose storage is a
*persistent id* `("storage", StorageType, key, location, numel, view)`, a pickled list of the
storage keys in file order, and then each storage's raw bytes, each preceded by its element
count as a little-endian int64. This module resolves those names to NumPy: a state dict comes
back as an `OrderedDict` of `np.ndarray`s.
"""

import collections
import pickle
import struct

import numpy as np

MAGIC = 0x1950A86A20F9469CFC6C
DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
          "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
          "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_}


class _StorageType:
    def __init__(self, name):
        self.name, self.dtype = name, np.dtype(DTYPES[name])


class _Storage:
    """A storage named in the object pickle; its bytes are read after it."""

    def __init__(self, key, storage_type, numel):
        self.key, self.dtype, self.numel, self.array = key, storage_type.dtype, numel, None


class _Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), stride

    def to_numpy(self):
        data = self.storage.array
        if not self.size:
            return data[self.offset].copy()
        strides = tuple(s * data.itemsize for s in self.stride)
        view = np.lib.stride_tricks.as_strided(data[self.offset:], self.size, strides)
        return np.array(view)


def _rebuild_tensor(storage, offset, size, stride, *unused):
    return _Tensor(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, storages):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name in DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"unexpected {module}.{name} in a PyTorch checkpoint")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, numel = pid[:5]
        if kind != "storage":
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        if key not in self.storages:
            self.storages[key] = _Storage(key, storage_type, numel)
        return self.storages[key]


def load_state_dict(path):
    """`OrderedDict` name -> `np.ndarray` of a legacy-format `torch.save(state_dict)` file."""
    with open(path, "rb") as f:
        if pickle.load(f) != MAGIC:
            raise ValueError(f"{path} is not a legacy-format PyTorch file (bad magic number); "
                             "zip-format files (PyTorch >= 1.6) are not supported")
        pickle.load(f)  # protocol version
        pickle.load(f)  # system info (endianness, type sizes)
        storages = {}
        obj = _Unpickler(f, storages).load()
        for key in pickle.load(f):
            storage = storages[key]
            (numel,) = struct.unpack("<q", f.read(8))
            if numel != storage.numel:
                raise ValueError(f"storage {key}: {numel} elements in the file, "
                                 f"{storage.numel} declared")
            raw = f.read(numel * storage.dtype.itemsize)
            if len(raw) != numel * storage.dtype.itemsize:
                raise ValueError(f"{path} is truncated (storage {key})")
            storage.array = np.frombuffer(raw, storage.dtype)
    return collections.OrderedDict((k, v.to_numpy() if isinstance(v, _Tensor) else v)
                                   for k, v in obj.items())
