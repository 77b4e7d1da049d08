#!/usr/bin/python3
"""The torchvision side of bench_augment: the SimCLR recipe on PIL images,
two views per image, one thread.

    augment_peer.py cifar N ROUNDS
    augment_peer.py photos DIR ROUNDS [--no-decode]

Prints one line: "median_us_per_image <value>", the median over ROUNDS of
the time per image (two views, decode included for photos unless
--no-decode).
"""
import glob
import os
import statistics
import sys
import time

import numpy as np
import torch
import torchvision.transforms as T
from PIL import Image

torch.set_num_threads(1)
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def recipe(size, strength, blur):
    steps = [
        T.RandomResizedCrop(size),
        T.RandomHorizontalFlip(),
        T.RandomApply([T.ColorJitter(0.8 * strength, 0.8 * strength,
                                     0.8 * strength, 0.2 * strength)],
                      p=0.8),
        T.RandomGrayscale(p=0.2),
    ]
    if blur:
        k = int(0.1 * size) // 2 * 2 + 1
        steps.append(T.RandomApply([T.GaussianBlur(k, (0.1, 2.0))], p=0.5))
    steps += [T.ToTensor(), T.Normalize(MEAN, STD)]
    return T.Compose(steps)


def main():
    case, rounds = sys.argv[1], int(sys.argv[3])
    if case == "cifar":
        n = int(sys.argv[2])
        rng = np.random.default_rng(0)
        pixels = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
        images = [Image.fromarray(p) for p in pixels]
        load = lambda item: item
        aug = recipe(32, 0.5, blur=False)
    else:
        paths = sorted(glob.glob(os.path.join(sys.argv[2], "*.jp*g")))
        aug = recipe(224, 1.0, blur=True)
        if "--no-decode" in sys.argv:
            images = [Image.open(p).convert("RGB") for p in paths]
            load = lambda item: item
        else:
            images = paths
            load = lambda item: Image.open(item).convert("RGB")
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in images:
            img = load(item)
            aug(img)
            aug(img)
        times.append((time.perf_counter() - start) / len(images))
    print(f"median_us_per_image {statistics.median(times) * 1e6:.3f}")


main()
