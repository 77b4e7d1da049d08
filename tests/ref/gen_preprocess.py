#!/usr/bin/python3
"""Reference outputs for the inference preprocessing in tests/test_augment.c.

Run with Debian's interpreter (Pillow 9.4):

    /usr/bin/python3 tests/ref/gen_preprocess.py tests/data

For each source image and output side S, Pillow resizes the centred square
of side min(width, height) to S x S with its antialiased bilinear filter
(Image.resize with box=...). Writes preprocess/center_NAME_S.u8 (HWC
bytes) and preprocess/cases.txt, whose lines the C test reads:

    center SOURCE S FILE      SOURCE relative to the data folder
"""
import os
import sys

import numpy as np
from PIL import Image

data = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
out = os.path.join(data, "preprocess")
os.makedirs(out, exist_ok=True)

sources = ["augment/picture.png", "dataset/gray_4x6.png",
           "dataset/rgb_5x3.png", "dataset/photo_24x16.jpg"]
lines = []
for source in sources:
    image = Image.open(os.path.join(data, source))
    image.load()
    width, height = image.size
    side = min(width, height)
    x0, y0 = (width - side) / 2, (height - side) / 2
    name = os.path.splitext(os.path.basename(source))[0]
    for size in (1, 7, 32):
        ref = image.resize((size, size), Image.BILINEAR,
                           box=(x0, y0, x0 + side, y0 + side))
        fname = f"center_{name}_{size}.u8"
        np.asarray(ref, dtype=np.uint8).tofile(os.path.join(out, fname))
        lines.append(f"center {source} {size} {fname}")
with open(os.path.join(out, "cases.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
