#!/usr/bin/python3
"""Encoder files and features against PyTorch, both ways.

usage: run.py TOOL SCRIPTS_DIR DATA_DIR

- Ours to PyTorch: the library makes an encoder (with running statistics
  moved by one training forward) and saves it; scripts/simclr-to-
  torchvision.py turns the file into a state_dict that torchvision's
  ResNet loads with strict=True; both compute features of the same input
  in inference mode.
- PyTorch to ours: a torchvision ResNet with random weights and running
  statistics is converted by scripts/torchvision-to-simclr.py; the library
  loads the file and computes the features PyTorch computes.
- Images: simclr_encode() of image files against torchvision fed with
  Pillow's resize of the centred square (the documented preprocessing).

Features must agree within 1e-4 relative L2 error for tensors; for images
within 1e-2, since Pillow rounds the resized pixels to 8 bits and the
library does not (each pixel differs by at most 1/255).
Prints a closing line "N passed, M failed"; exits 1 on any failure.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torchvision
from PIL import Image

TOOL, SCRIPTS, DATA = (os.path.abspath(a) for a in sys.argv[1:4])
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
work = tempfile.mkdtemp(prefix="simclr_interop_")
results = {"passed": 0, "failed": 0}
torch.set_num_threads(2)


def check(name, fn):
    try:
        fn()
    except Exception as e:  # report every failure, keep going
        results["failed"] += 1
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
    else:
        results["passed"] += 1
        print("ok   %s" % name)


def run(*args):
    proc = subprocess.run([str(a) for a in args], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise AssertionError("%s failed: %s" % (args[0], proc.stderr))


def torchvision_model(arch, stem, channels):
    model = getattr(torchvision.models, arch)()
    model.fc = torch.nn.Identity()
    if stem == "cifar":
        model.conv1 = torch.nn.Conv2d(channels, 64, 3, 1, 1, bias=False)
        model.maxpool = torch.nn.Identity()
    elif channels != 3:
        model.conv1 = torch.nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
    return model


def rel_error(got, want):
    return float(np.linalg.norm(got - want) / np.linalg.norm(want))


def our_features(weights, x):
    path_in = os.path.join(work, "x.f32")
    path_out = os.path.join(work, "h.f32")
    x.astype(np.float32).tofile(path_in)
    run(TOOL, "encode", weights, path_in, x.shape[0], path_out)
    return np.fromfile(path_out, dtype=np.float32).reshape(x.shape[0], -1)


def ours_to_pytorch(arch, stem, channels, size):
    name = "%s_%s_%d" % (arch, stem, channels)
    ours = os.path.join(work, name + ".safetensors")
    pth = os.path.join(work, name + ".pth")
    run(TOOL, "make", arch, stem, 1, channels, size, 5, ours)
    run(sys.executable, os.path.join(SCRIPTS, "simclr-to-torchvision.py"),
        ours, pth)
    model = torchvision_model(arch, stem, channels)
    model.load_state_dict(torch.load(pth), strict=True)
    model.eval()
    assert float(model.bn1.running_var.sub(1).abs().max()) > 1e-3, \
        "the running statistics did not move"
    x = np.random.default_rng(1).standard_normal(
        (3, channels, size, size)).astype(np.float32)
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    err = rel_error(our_features(ours, x), want)
    print("     relative L2 error of the features: %.2e" % err)
    assert err <= 1e-4, "features differ by %.3g" % err


def pytorch_to_ours(arch, stem, channels, size):
    torch.manual_seed(3)
    model = torchvision_model(arch, stem, channels)
    # Statistics and affine parameters away from their initial values.
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(4, channels, size, size) * 2 + 0.5)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    model.eval()
    name = "tv_%s_%s_%d" % (arch, stem, channels)
    pth = os.path.join(work, name + ".pth")
    ours = os.path.join(work, name + ".safetensors")
    torch.save(model.state_dict(), pth)
    args = [sys.executable, os.path.join(SCRIPTS, "torchvision-to-simclr.py"),
            pth, ours, "--arch", arch, "--stem", stem, "--size", size,
            "--in-channels", channels]
    if channels != 3:
        args += ["--mean"] + ["0.5"] * channels + ["--std"] + \
            ["0.25"] * channels
    run(*args)
    x = np.random.default_rng(2).standard_normal(
        (2, channels, size, size)).astype(np.float32)
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    err = rel_error(our_features(ours, x), want)
    print("     relative L2 error of the features: %.2e" % err)
    assert err <= 1e-4, "features differ by %.3g" % err
    return model, ours


def images_like_pytorch(model, weights, size, files):
    rows = []
    for f in files:
        image = Image.open(f).convert("RGB")
        w, h = image.size
        side = min(w, h)
        x0, y0 = (w - side) / 2, (h - side) / 2
        image = image.resize((size, size), Image.BILINEAR,
                             box=(x0, y0, x0 + side, y0 + side))
        a = np.asarray(image, dtype=np.float32) / 255.0
        a = (a - np.array(MEAN, np.float32)) / np.array(STD, np.float32)
        rows.append(a.transpose(2, 0, 1))
    with torch.no_grad():
        want = model(torch.from_numpy(np.stack(rows))).numpy()
    out = os.path.join(work, "images.f32")
    run(TOOL, "encode-images", weights, out, *files)
    got = np.fromfile(out, dtype=np.float32).reshape(len(files), -1)
    err = rel_error(got, want)
    print("     relative L2 error of the features: %.2e" % err)
    assert err <= 1e-2, "features differ by %.3g" % err


def main():
    check("ours to PyTorch: resnet18, CIFAR stem, 3 channels, 32",
          lambda: ours_to_pytorch("resnet18", "cifar", 3, 32))
    check("ours to PyTorch: resnet18, CIFAR stem, 1 channel, 28",
          lambda: ours_to_pytorch("resnet18", "cifar", 1, 28))
    check("ours to PyTorch: resnet50, ImageNet stem, 3 channels, 64",
          lambda: ours_to_pytorch("resnet50", "imagenet", 3, 64))
    check("PyTorch to ours: resnet18, CIFAR stem, 1 channel, 28",
          lambda: pytorch_to_ours("resnet18", "cifar", 1, 28))
    converted = {}

    def convert_r34():
        converted["r34"] = pytorch_to_ours("resnet34", "imagenet", 3, 64)
    check("PyTorch to ours: resnet34, ImageNet stem, 3 channels, 64",
          convert_r34)
    if "r34" in converted:
        model, weights = converted["r34"]
        files = [os.path.join(DATA, "augment", "picture.png"),
                 os.path.join(DATA, "dataset", "photo_24x16.jpg"),
                 os.path.join(DATA, "dataset", "gray_4x6.png")]
        check("simclr_encode() of image files, resnet34 at 64",
              lambda: images_like_pytorch(model, weights, 64, files))
    else:
        check("simclr_encode() of image files", lambda: (_ for _ in ()).throw(
            AssertionError("no converted model")))
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    sys.exit(1 if results["failed"] else 0)


main()
