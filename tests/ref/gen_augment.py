#!/usr/bin/python3
"""Reference outputs for tests/test_augment.c.

Run with Debian's interpreter (Pillow 9.4, torchvision 0.14):

    /usr/bin/python3 tests/ref/gen_augment.py tests/data/augment

Writes small binary files, picture.png (an input for the simclr-augment
example's test) and a manifest, cases.txt, whose lines the C test reads:

    image  NAME W H C FILE                 8-bit HWC source image
    resize IMAGE FILTER X0 Y0 X1 Y1 W H FILE   Pillow resize(box=...), HWC u8
    op     OP PARAM1 PARAM2 C H W SRC FILE float32 CHW in, float32 CHW out
    crop   W H N MEAN_AREA SD_AREA MEAN_LOGR SD_LOGR
                                   torchvision RandomResizedCrop draws

All inputs come from a fixed NumPy seed, so rerunning gives the same
files.
"""
import math
import os
import sys

import numpy as np
import torch
import torchvision.transforms as T
import torchvision.transforms.functional as F
from PIL import Image

out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/data/augment"
os.makedirs(out_dir, exist_ok=True)
rng = np.random.default_rng(20200213)
lines = []


def write(name, array):
    array.tofile(os.path.join(out_dir, name))
    return name


def smooth_image(w, h, c):
    """Random pixels with some structure, so that filters have edges and
    gradients to act on."""
    base = rng.integers(0, 256, size=(h // 4 + 2, w // 4 + 2, c))
    big = np.kron(base, np.ones((4, 4, 1)))[:h, :w, :]
    noise = rng.integers(-40, 41, size=(h, w, c))
    return np.clip(big + noise, 0, 255).astype(np.uint8)


# ---- crop + resize against Pillow ------------------------------------------

images = {
    "rgb": smooth_image(57, 43, 3),
    "gray": smooth_image(31, 45, 1),
}
for name, img in images.items():
    h, w, c = img.shape
    lines.append(f"image {name} {w} {h} {c} {write(name + '.u8', img)}")

filters = {"bilinear": Image.BILINEAR, "bicubic": Image.BICUBIC}
boxes = [
    # (x0, y0, x1, y1, out_w, out_h): down, up, mixed, fractional, whole
    (0, 0, 57, 43, 24, 24),
    (5, 3, 45, 40, 16, 16),
    (10, 7, 22, 20, 32, 32),
    (2, 1, 52, 12, 20, 30),
    (3.5, 2.25, 40.75, 39.5, 19, 13),
    (0, 0, 57, 43, 57, 43),
]
for name, img in images.items():
    h, w, c = img.shape
    pil = Image.fromarray(img[:, :, 0] if c == 1 else img)
    for fname, filt in filters.items():
        for k, (x0, y0, x1, y1, ow, oh) in enumerate(boxes):
            x1, y1 = min(x1, w), min(y1, h)
            ref = np.asarray(pil.resize((ow, oh), filt, box=(x0, y0, x1, y1)))
            ref = ref.reshape(oh, ow, c)
            f = write(f"resize_{name}_{fname}_{k}.u8", ref)
            lines.append(f"resize {name} {fname} {x0} {y0} {x1} {y1} "
                         f"{ow} {oh} {f}")

# ---- colour and filter steps against torchvision.functional ----------------

srcs = {
    "rgb": torch.from_numpy(rng.random((3, 18, 21), dtype=np.float32)),
    "gray": torch.from_numpy(rng.random((1, 17, 19), dtype=np.float32)),
    "big": torch.from_numpy(rng.random((3, 32, 32), dtype=np.float32)),
}
# Some exactly equal channels and saturated values, the edge cases of HSV.
srcs["rgb"][1, 0, :6] = srcs["rgb"][0, 0, :6]
srcs["rgb"][:, 1, :4] = 0.5
srcs["rgb"][:, 2, :3] = 1.0
for name, t in srcs.items():
    write(f"src_{name}.f32", t.numpy())

ops = [
    ("brightness", 1.37, 0, lambda x: F.adjust_brightness(x, 1.37)),
    ("brightness", 0.41, 0, lambda x: F.adjust_brightness(x, 0.41)),
    ("contrast", 0.55, 0, lambda x: F.adjust_contrast(x, 0.55)),
    ("contrast", 1.72, 0, lambda x: F.adjust_contrast(x, 1.72)),
    ("saturation", 0.23, 0, lambda x: F.adjust_saturation(x, 0.23)),
    ("saturation", 1.66, 0, lambda x: F.adjust_saturation(x, 1.66)),
    ("hue", 0.13, 0, lambda x: F.adjust_hue(x, 0.13)),
    ("hue", -0.37, 0, lambda x: F.adjust_hue(x, -0.37)),
    ("hue", 0.5, 0, lambda x: F.adjust_hue(x, 0.5)),
    ("grayscale", 0, 0, lambda x: F.rgb_to_grayscale(x, x.shape[0])),
    ("blur", 5, 1.3, lambda x: F.gaussian_blur(x, [5, 5], [1.3, 1.3])),
    ("blur", 3, 0.1, lambda x: F.gaussian_blur(x, [3, 3], [0.1, 0.1])),
    ("blur", 23, 2.0, lambda x: F.gaussian_blur(x, [23, 23], [2.0, 2.0])),
    ("solarize", 0.5, 0, lambda x: F.solarize(x, 0.5)),
    ("rotate", 1, 0, lambda x: torch.rot90(x, 1, dims=(-2, -1))),
    ("rotate", 2, 0, lambda x: torch.rot90(x, 2, dims=(-2, -1))),
    ("rotate", 3, 0, lambda x: torch.rot90(x, 3, dims=(-2, -1))),
    ("flip", 0, 0, lambda x: F.hflip(x)),
]
for k, (op, p1, p2, fn) in enumerate(ops):
    for name, t in srcs.items():
        c, h, w = t.shape
        if op == "blur" and (p1 // 2 >= h or p1 // 2 >= w):
            continue  # torch's reflect padding needs pad < size
        if op == "blur" and p1 == 23 and name != "big":
            continue
        if op == "rotate" and h != w:
            continue
        if op != "rotate" and name == "big" and op != "blur":
            continue
        ref = fn(t.clone()).contiguous().numpy().astype(np.float32)
        f = write(f"op_{op}_{k}_{name}.f32", ref)
        lines.append(f"op {op} {p1} {p2} {c} {h} {w} src_{name}.f32 {f}")

# ---- the crop sampler's distribution ----------------------------------------

torch.manual_seed(7)
crop = T.RandomResizedCrop(224)
for (w, h) in [(640, 360), (100, 100)]:
    n = 20000
    img = Image.new("RGB", (w, h))
    areas, logr, fallback = [], [], 0
    for _ in range(n):
        i, j, ch, cw = crop.get_params(img, crop.scale, crop.ratio)
        areas.append(cw * ch / (w * h))
        logr.append(math.log(cw / ch))
    areas, logr = np.array(areas), np.array(logr)
    lines.append(f"crop {w} {h} {n} {areas.mean():.6f} {areas.std():.6f} "
                 f"{logr.mean():.6f} {logr.std():.6f}")

# ---- a small picture for running simclr-augment in the test suite ---------

yy, xx = np.mgrid[0:40, 0:56]
picture = np.stack([xx * 4, yy * 6, ((xx // 8 + yy // 8) % 2) * 200 + 30],
                   axis=-1).astype(np.uint8)
picture[12:28, 20:32] = (250, 230, 20)
Image.fromarray(picture).save(os.path.join(out_dir, "picture.png"))

with open(os.path.join(out_dir, "cases.txt"), "w") as f:
    f.write("# Generated by tests/ref/gen_augment.py; do not edit.\n")
    f.write("\n".join(lines) + "\n")
