#!/usr/bin/python3
"""The peer of bench_loader.c: PyTorch's DataLoader doing the same work.

  peer_loader.py idx    IMAGES_FILE BATCH WORKERS EPOCHS
  peer_loader.py folder FOLDER      BATCH WORKERS EPOCHS

idx: the IDX images (gzip or raw) held in memory as a NumPy array, one
uint8 tensor per item, stacked into a (N, H, W) batch tensor by the
default collate function as a PyTorch user would. folder: every
.png/.jpg/.jpeg under FOLDER (sorted paths), decoded by Pillow to RGB,
batches kept as lists since the sizes differ (the C batches are lists of
images too). Both shuffle and batch like the C loader, with persistent
worker processes. Prints one line per epoch: "epoch SECONDS IMAGES".
"""
import gzip
import os
import sys
import time

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = np.frombuffer(data, ">u4", ndim, 4)
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


class IdxImages(Dataset):
    def __init__(self, path):
        self.images = read_idx(path)

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return torch.from_numpy(self.images[i].copy())


class FolderImages(Dataset):
    def __init__(self, root):
        ext = (".png", ".jpg", ".jpeg")
        self.paths = sorted(
            os.path.join(d, f) for d, _, files in os.walk(root,
                                                         followlinks=True)
            for f in files if f.lower().endswith(ext))

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        with Image.open(self.paths[i]) as im:
            return torch.from_numpy(np.asarray(im.convert("RGB")).copy())


def as_list(batch):
    return batch  # images differ in size: no stacking, like the C batches


def main():
    kind, path = sys.argv[1], sys.argv[2]
    batch, workers, epochs = map(int, sys.argv[3:6])
    torch.set_num_threads(1)
    ds = IdxImages(path) if kind == "idx" else FolderImages(path)
    loader = DataLoader(ds, batch_size=batch, shuffle=True,
                        num_workers=workers, persistent_workers=workers > 0,
                        collate_fn=None if kind == "idx" else as_list,
                        generator=torch.Generator().manual_seed(0))
    for _ in range(epochs):
        start = time.perf_counter()
        n = sum(len(b) for b in loader)
        print(f"epoch {time.perf_counter() - start:.6f} {n}", flush=True)


if __name__ == "__main__":
    main()
