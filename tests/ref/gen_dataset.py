#!/usr/bin/python3
"""Reference data for tests/test_dataset.c.

Writes, under tests/data/dataset/:

- fashion_mnist.txt: counts, label histograms, the first labels and the
  pixel sums of a few images of Debian's Fashion-MNIST
  (/usr/share/datasets/fashion-mnist/, package dataset-fashion-mnist), read
  here with gzip and NumPy.
- Tiny files in each container format, laid out by NumPy the way the
  formats' own reference readers expect: CIFAR-10 and CIFAR-100 records
  (label bytes then CHW planes), STL-10 (each image as planes stored
  column-major, the inverse of the official reader's
  reshape(-1, 3, 96, 96).transpose(0, 3, 2, 1)), and an IDX pair (images
  and labels, gzip-compressed).
- cifar10_tiny_gray.bin: Pillow's "L" conversion of the CIFAR-10 images,
  to check the reader's RGB-to-gray conversion.
- rgb_5x3.png, gray_4x6.png, photo_24x16.jpg: image files written by
  Pillow for the folder reader.

The pixel pattern is pattern(n, y, x, c) below; the C test evaluates the
same expression to check that every pixel lands where it belongs.

Run: /usr/bin/python3 tests/ref/gen_dataset.py
"""
import gzip
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "dataset")
FASHION = "/usr/share/datasets/fashion-mnist"


def pattern(n, h, w):
    """(n, h, w, 3) uint8; every axis moves the value differently."""
    i, y, x, c = np.meshgrid(np.arange(n), np.arange(h), np.arange(w),
                             np.arange(3), indexing="ij")
    return ((i * 41 + y * 7 + x * 3 + c * 85) % 256).astype(np.uint8)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = np.frombuffer(data, ">u4", ndim, 4)
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion():
    lines = []
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = read_idx(f"{FASHION}/{prefix}-images-idx3-ubyte.gz")
        labels = read_idx(f"{FASHION}/{prefix}-labels-idx1-ubyte.gz")
        n = images.shape[0]
        lines.append(f"{split} count {n} {images.shape[1]} {images.shape[2]}")
        hist = np.bincount(labels, minlength=10)
        lines.append(f"{split} histogram " + " ".join(map(str, hist)))
        lines.append(f"{split} first_labels " +
                     " ".join(map(str, labels[:16])))
        for i in (0, 1, 2, 1234, n - 1):
            s = int(images[i].astype(np.int64).sum())
            lines.append(f"{split} sum {i} {labels[i]} {s}")
        total = int(images.astype(np.int64).sum())
        lines.append(f"{split} total {total}")
    with open(os.path.join(OUT, "fashion_mnist.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def tiny_containers():
    # CIFAR-10: label byte, then R, G, B planes of 32x32.
    img = pattern(3, 32, 32)
    labels = [3, 0, 9]
    with open(os.path.join(OUT, "cifar10_tiny.bin"), "wb") as f:
        for n in range(3):
            f.write(bytes([labels[n]]))
            f.write(img[n].transpose(2, 0, 1).tobytes())
    gray = np.stack([np.asarray(Image.fromarray(img[n]).convert("L"))
                     for n in range(3)])
    gray.tofile(os.path.join(OUT, "cifar10_tiny_gray.bin"))

    # CIFAR-100: coarse label byte, fine label byte, then the planes.
    coarse, fine = [4, 19], [30, 99]
    with open(os.path.join(OUT, "cifar100_tiny.bin"), "wb") as f:
        for n in range(2):
            f.write(bytes([coarse[n], fine[n]]))
            f.write(img[n].transpose(2, 0, 1).tobytes())

    # STL-10: (N, H, W, C) -> (N, C, W, H), labels 1..10 one byte each.
    stl = pattern(2, 96, 96)
    stl.transpose(0, 3, 2, 1).tofile(os.path.join(OUT, "stl_tiny_X.bin"))
    np.array([1, 10], np.uint8).tofile(os.path.join(OUT, "stl_tiny_y.bin"))

    # IDX: three 4x5 gray images (channel 0 of the pattern) and labels.
    idx = pattern(3, 4, 5)[..., 0]
    with gzip.GzipFile(os.path.join(OUT, "tiny-images-idx3-ubyte.gz"), "wb",
                       mtime=0) as f:
        f.write(bytes([0, 0, 8, 3]))
        f.write(np.array(idx.shape, ">u4").tobytes())
        f.write(idx.tobytes())
    with gzip.GzipFile(os.path.join(OUT, "tiny-labels-idx1-ubyte.gz"), "wb",
                       mtime=0) as f:
        f.write(bytes([0, 0, 8, 1]))
        f.write(np.array([3], ">u4").tobytes())
        f.write(bytes([7, 2, 5]))


def tiny_images():
    # Image files for the folder reader: an RGB PNG and a gray PNG holding
    # the pattern (exact pixels), and a JPEG (only its size is checked:
    # its pixels are the decoder's business).
    Image.fromarray(pattern(1, 3, 5)[0]).save(
        os.path.join(OUT, "rgb_5x3.png"))
    Image.fromarray(np.ascontiguousarray(pattern(2, 6, 4)[1, ..., 0])).save(
        os.path.join(OUT, "gray_4x6.png"))
    Image.fromarray(pattern(1, 16, 24)[0]).save(
        os.path.join(OUT, "photo_24x16.jpg"), quality=90)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    fashion()
    tiny_containers()
    tiny_images()
