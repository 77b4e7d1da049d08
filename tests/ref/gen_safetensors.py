#!/usr/bin/python3
"""Reference files for tests/test_safetensors.c, written by the NumPy
safetensors module the weight tools use (scripts/safetensors_io.py).

1. reference.safetensors: F32 tensors of several ranks (a scalar and an
   empty one among them), an I64 counter, a non-ASCII name (escaped by
   Python's json) and metadata.
2. reference.txt: what the C reader must find in it, one line per tensor
   in data-offset order, "name dtype ndim d0 d1 ... values..." with
   float32 values printed exactly (%.9g), then "meta key value" lines.
3. unsupported.safetensors: a valid file with an F16 tensor, which the
   library refuses.

Run with Debian's interpreter: /usr/bin/python3 tests/ref/gen_safetensors.py
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts"))
import safetensors_io  # noqa: E402

OUT = os.path.join(HERE, "..", "data", "safetensors")


def main():
    rng = np.random.default_rng(20260504)
    tensors = {
        "conv1.weight": rng.standard_normal((4, 1, 3, 3)).astype(np.float32),
        "bn1.running_var": rng.uniform(0.5, 2.0, 4).astype(np.float32),
        "bn1.num_batches_tracked": np.array(123456789012, dtype=np.int64),
        "layer1.0.scale": np.array(-0.1, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "bloc\u00e9.weight": rng.standard_normal((2, 3)).astype(np.float32),
    }
    metadata = {"format": "simclr-test", "arch": "resnet18"}
    os.makedirs(OUT, exist_ok=True)
    safetensors_io.save(os.path.join(OUT, "reference.safetensors"), tensors,
                        metadata)

    lines = []
    for name, array in tensors.items():  # written in this order
        dtype = {np.float32: "F32", np.int64: "I64"}[array.dtype.type]
        values = [("%.9g" % v if dtype == "F32" else "%d" % v)
                  for v in array.reshape(-1).tolist()]
        lines.append(" ".join([name.encode("utf-8").hex(), dtype,
                               str(array.ndim)] +
                              [str(d) for d in array.shape] + values))
    for key, value in metadata.items():
        lines.append("meta %s %s" % (key, value))
    with open(os.path.join(OUT, "reference.txt"), "w") as f:
        f.write("# name (hex UTF-8) dtype ndim shape... values...\n")
        f.write("\n".join(lines) + "\n")

    safetensors_io.save(os.path.join(OUT, "unsupported.safetensors"), {
        "conv1.weight": np.ones((2, 2), dtype=np.float32),
        "half.weight": np.ones((3,), dtype=np.float16),
    })


if __name__ == "__main__":
    main()
