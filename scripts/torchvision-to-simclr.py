#!/usr/bin/python3
"""Convert a torchvision ResNet state_dict into a libsimclr encoder file.

usage: torchvision-to-simclr.py IN.pth OUT.safetensors --arch resnet50
           --stem imagenet|cifar --size S [--width W] [--in-channels C]
           [--mean m1 ... mC --std s1 ... sC]

IN.pth is what torch.save(model.state_dict(), ...) wrote, or a dict that
holds one under "state_dict" (training checkpoints); a "module." prefix
(DataParallel) is removed and the classifier (fc.*) is dropped. Every
other tensor must be exactly those of the architecture, width, stem and
input channels given, with their shapes; the first that is not is named
in the error. The output keeps torchvision's names (docs/weights.md).
Without --mean and --std, a 3-channel encoder gets ImageNet's statistics.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import resnet_layout  # noqa: E402
import safetensors_io  # noqa: E402

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Convert a torchvision ResNet state_dict (.pth) into a "
                    "libsimclr encoder file (.safetensors).")
    p.add_argument("src", metavar="IN.pth")
    p.add_argument("dst", metavar="OUT.safetensors")
    p.add_argument("--arch", required=True, choices=sorted(resnet_layout.ARCHS))
    p.add_argument("--stem", required=True, choices=resnet_layout.STEMS)
    p.add_argument("--size", required=True, type=int,
                   help="the input size S (S x S pixels) the encoder expects")
    p.add_argument("--width", type=float, default=1.0,
                   help="width multiplier (default 1)")
    p.add_argument("--in-channels", type=int, default=3,
                   help="input channels (default 3)")
    p.add_argument("--mean", type=float, nargs="+",
                   help="per-channel normalisation mean")
    p.add_argument("--std", type=float, nargs="+",
                   help="per-channel normalisation standard deviation")
    args = p.parse_args(argv)
    if args.size < 1:
        p.error("--size must be positive")
    if not args.width > 0:
        p.error("--width must be positive")
    if args.in_channels < 1:
        p.error("--in-channels must be positive")
    if (args.mean is None) != (args.std is None):
        p.error("give both --mean and --std, or neither")
    if args.mean is None:
        if args.in_channels != 3:
            p.error("a %d-channel encoder needs --mean and --std"
                    % args.in_channels)
        args.mean, args.std = IMAGENET_MEAN, IMAGENET_STD
    if len(args.mean) != args.in_channels or len(args.std) != args.in_channels:
        p.error("--mean and --std need one value per input channel (%d)"
                % args.in_channels)
    if any(not s > 0 for s in args.std):
        p.error("--std values must be positive")
    return args


def load_state_dict(path):
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:  # a torch without weights_only
            obj = torch.load(path, map_location="cpu")
    except OSError:
        raise
    except Exception as e:  # pickle and torch raise many kinds
        raise ValueError("%s: cannot load: %s" % (path, e)) from e
    if isinstance(obj, dict) and "state_dict" in obj \
            and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ValueError("%s: not a state_dict (a %s)"
                         % (path, type(obj).__name__))
    out = {}
    for name, value in obj.items():
        if not isinstance(name, str) or not torch.is_tensor(value):
            raise ValueError("%s: entry %r is not a named tensor"
                             % (path, name))
        if name.startswith("module."):
            name = name[len("module."):]
        if name == "fc" or name.startswith("fc."):
            continue
        if name in out:
            raise ValueError("%s: tensor %s appears twice" % (path, name))
        out[name] = value
    return out


def dtype_name(tensor):
    if tensor.dtype == torch.int64:
        return "I64"
    if tensor.is_floating_point():
        return "F32"
    return str(tensor.dtype)


def convert(args):
    layout = resnet_layout.expected_tensors(args.arch, args.width, args.stem,
                                            args.in_channels)
    state = load_state_dict(args.src)
    found = {}
    for name, t in state.items():
        # Float tensors of any precision become float32; counters stay I64.
        found[name] = (tuple(t.shape), dtype_name(t))
    resnet_layout.check_tensors(found, layout, args.src)

    tensors = {}
    for name, (shape, dtype) in layout.items():
        t = state[name].detach().cpu().contiguous()
        if dtype == "F32":
            tensors[name] = t.to(torch.float32).numpy()
        else:
            tensors[name] = np.asarray(t.numpy(), dtype=np.int64)
    metadata = {
        "format": resnet_layout.FORMAT,
        "arch": args.arch,
        "width": resnet_layout.format_width(args.width),
        "stem": args.stem,
        "in_channels": str(args.in_channels),
        "input_size": str(args.size),
        "mean": resnet_layout.format_floats(args.mean),
        "std": resnet_layout.format_floats(args.std),
        "dim": str(resnet_layout.feature_dim(args.arch, args.width)),
    }
    # Write next to the target, then rename: a failure leaves no half file.
    tmp = args.dst + ".tmp"
    try:
        safetensors_io.save(tmp, tensors, metadata)
        os.replace(tmp, args.dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return len(tensors)


def main(argv=None):
    args = parse_args(argv)
    try:
        n = convert(args)
    except (ValueError, OSError, RuntimeError) as e:
        print("torchvision-to-simclr: %s" % e, file=sys.stderr)
        return 1
    print("%s: %d tensors, %s %s stem, width %s, %d channels, %dx%d"
          % (args.dst, n, args.arch, args.stem,
             resnet_layout.format_width(args.width), args.in_channels,
             args.size, args.size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
