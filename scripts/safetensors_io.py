"""Read and write safetensors files with NumPy only.

The format: an 8-byte little-endian header length, a JSON header that maps
each tensor name to its dtype, shape and [begin, end) byte range within the
data that follows, and an optional "__metadata__" object of strings; then
the raw little-endian data. Debian 12 has no safetensors package, so the
scripts that move weights between PyTorch and libsimclr use this module.
"""
import json
import struct

import numpy as np

DTYPES = {
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "U8": np.dtype("u1"),
}
NAMES = {dtype: name for name, dtype in DTYPES.items()}


def save(path, tensors, metadata=None):
    """Write a dict of NumPy arrays (in the dict's order) to path."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, array in tensors.items():
        # np.ascontiguousarray would turn a scalar into shape [1].
        array = np.asarray(array, order="C")
        dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" \
            else array.dtype
        if dtype not in NAMES:
            raise ValueError(f"{name}: unsupported dtype {array.dtype}")
        blob = array.astype(dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": NAMES[dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # keep the data 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def load(path):
    """Return (dict of NumPy arrays, metadata dict) from path."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (size,) = struct.unpack("<Q", data[:8])
    if size > len(data) - 8:
        raise ValueError(f"{path}: header length {size} beyond the file")
    header = json.loads(data[8:8 + size])
    metadata = header.pop("__metadata__", {}) or {}
    body = data[8 + size:]
    tensors = {}
    for name, info in sorted(header.items(),
                             key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        dtype = DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: {name}: unsupported dtype "
                             f"{info['dtype']}")
        if not 0 <= begin <= end <= len(body):
            raise ValueError(f"{path}: {name}: data outside the file")
        array = np.frombuffer(body[begin:end], dtype=dtype)
        tensors[name] = array.reshape(info["shape"]).copy()
    return tensors, metadata
