#!/usr/bin/python3
"""Reference tensors for tests/test_encoder.c, made with torchvision.

Run with Debian's interpreter (PyTorch, torchvision):

    /usr/bin/python3 tests/ref/gen_encoder.py OUT_DIR

For each case it writes OUT_DIR/encoder_CASE.bin, the tensors one after
another as little-endian float32 or int64, and OUT_DIR/encoder_CASE.txt,
a manifest whose lines the C test reads:

    config ARCH STEM WIDTH IN_CHANNELS SIZE BATCH
    tensor NAME DTYPE OFFSET NDIM DIM...
    pytorch_f32_error NAME ERR   relative L2 error of PyTorch's own float32
                                 result for tensor NAME

The tensors of a case, all from the same starting point:

    init.NAME     every parameter and buffer before the step, torchvision
                  names (gamma, beta and the running statistics are drawn
                  at random so that each one matters)
    input         the input batch (N, C, S, S)
    h_train       the features in training mode (batch statistics)
    after.NAME    running_mean, running_var, num_batches_tracked after it
    dh            a fixed upstream gradient (N, D)
    grad.NAME     d<h_train, dh>/dNAME for every trained parameter
    grad.input    d<h_train, dh>/dinput
    h_eval        the features in eval mode, after the training step

The order is the one the C test follows: training forward, backward,
then an inference forward with the updated running statistics.

The results (h_train, after.*, grad.*, h_eval) are computed in float64
and stored rounded to float32: they are the exact answer for the float32
inputs. The same step is also run in float32, and its relative L2 error
against the float64 result is written for every tensor, so the test can
hold the library to the accuracy PyTorch itself reaches in float32.
"""
import copy
import math
import os
import sys

import torch
import torch.nn as nn
from torchvision.models import resnet

CASES = [
    # name, arch, stem, width, in_channels, size, batch, seed
    ("r18_cifar", "resnet18", "cifar", 1.0, 3, 32, 4, 1),
    ("r18_cifar_w025_gray", "resnet18", "cifar", 0.25, 1, 32, 4, 2),
    ("r50_imagenet", "resnet50", "imagenet", 1.0, 3, 64, 2, 3),
    # the other depths, small: any channel count, both stems
    ("r34_imagenet_w0125_2ch", "resnet34", "imagenet", 0.125, 2, 48, 3, 4),
    ("r101_cifar_w00625", "resnet101", "cifar", 0.0625, 3, 16, 2, 5),
]

BLOCKS = {
    "resnet18": (resnet.BasicBlock, [2, 2, 2, 2]),
    "resnet34": (resnet.BasicBlock, [3, 4, 6, 3]),
    "resnet50": (resnet.Bottleneck, [3, 4, 6, 3]),
    "resnet101": (resnet.Bottleneck, [3, 4, 23, 3]),
    "resnet152": (resnet.Bottleneck, [3, 8, 36, 3]),
}


def scaled(base, width):
    """The library's rule: round half away from zero, at least 1."""
    return max(1, int(math.floor(base * width + 0.5)))


def build(arch, stem, width, in_channels):
    """torchvision's network; the stem, the input channels and the width
    are changed the way a PyTorch user would, keeping every name."""
    block, layers = BLOCKS[arch]
    model = getattr(resnet, arch)()
    model.fc = nn.Identity()
    if width != 1.0:
        # rebuild the stages with scaled channels through torchvision's
        # own _make_layer, so blocks and names stay torchvision's
        model.inplanes = scaled(64, width)
        model.bn1 = nn.BatchNorm2d(model.inplanes)
        for i in range(4):
            setattr(model, f"layer{i + 1}", model._make_layer(
                block, scaled(64 << i, width), layers[i],
                stride=1 if i == 0 else 2))
    c0 = scaled(64, width)
    if stem == "cifar":
        model.conv1 = nn.Conv2d(in_channels, c0, 3, 1, 1, bias=False)
        model.maxpool = nn.Identity()
    elif in_channels != 3 or width != 1.0:
        model.conv1 = nn.Conv2d(in_channels, c0, 7, 2, 3, bias=False)
    # spread gamma, beta and the running statistics so that a swapped or
    # ignored one shows in the results
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.2)
                m.running_mean.normal_(0.0, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    return model


class Writer:
    def __init__(self, out_dir, name):
        self.bin = open(os.path.join(out_dir, f"encoder_{name}.bin"), "wb")
        self.lines = []
        self.offset = 0

    def add(self, name, t):
        t = t.detach().contiguous()
        if t.dtype == torch.int64:
            data, dtype = t.numpy().astype("<i8").tobytes(), "i64"
        else:
            data, dtype = t.float().numpy().astype("<f4").tobytes(), "f32"
        dims = " ".join(str(d) for d in t.shape)
        self.lines.append(f"tensor {name} {dtype} {self.offset} "
                          f"{t.dim()} {dims}".rstrip())
        self.bin.write(data)
        self.offset += len(data)


def step(model, x, dh, dtype):
    """One training forward and backward, then an eval forward, in dtype,
    on a copy of model. Returns the results as float64 tensors."""
    model = copy.deepcopy(model).to(dtype)
    x = x.detach().to(dtype).clone().requires_grad_(True)
    out = {}
    model.train()
    h = model(x)
    out["h_train"] = h
    for key, t in model.state_dict().items():
        if "running" in key:
            out["after." + key] = t
    (h * dh.to(dtype)).sum().backward()
    for key, p in model.named_parameters():
        out["grad." + key] = p.grad
    out["grad.input"] = x.grad
    model.eval()
    with torch.no_grad():
        out["h_eval"] = model(x)
    nbt = {k: t for k, t in model.state_dict().items()
           if "num_batches" in k}
    return {k: v.detach().double() for k, v in out.items()}, nbt


def draw(arch, stem, width, in_channels, size, batch, seed):
    torch.manual_seed(seed)
    model = build(arch, stem, width, in_channels)
    x = torch.randn(batch, in_channels, size, size)
    with torch.no_grad():
        dh = torch.randn_like(model.eval()(x))
    ref, nbt = step(model, x, dh, torch.float64)
    f32, _ = step(model, x, dh, torch.float32)
    errors = {}
    for key, t in ref.items():
        diff = (f32[key] - t).norm().item()
        errors[key] = diff / t.norm().item() if t.norm() > 0 else diff
    return model, x, dh, ref, nbt, errors


def make_case(out_dir, name, arch, stem, width, in_channels, size, batch,
              seed):
    model, x, dh, ref, nbt, errors = draw(arch, stem, width, in_channels,
                                          size, batch, seed)
    w = Writer(out_dir, name)
    w.lines.append(f"config {arch} {stem} {width!r} {in_channels} {size} "
                   f"{batch}")
    for key, t in model.state_dict().items():
        w.add("init." + key, t)
    w.add("input", x)
    w.add("dh", dh)
    for key, t in ref.items():
        w.add(key, t.float())
        w.lines.append(f"pytorch_f32_error {key} {errors[key]:.6e}")
    for key, t in nbt.items():
        w.add("after." + key, t)

    w.bin.close()
    with open(os.path.join(out_dir, f"encoder_{name}.txt"), "w") as f:
        f.write("\n".join(w.lines) + "\n")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(2)
    for case in CASES:
        make_case(out_dir, *case)


if __name__ == "__main__":
    main()
