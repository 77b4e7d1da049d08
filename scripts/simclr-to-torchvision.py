#!/usr/bin/python3
"""Convert a libsimclr encoder file into a torchvision ResNet state_dict.

usage: simclr-to-torchvision.py IN.safetensors OUT.pth

The file's metadata (docs/weights.md) gives the architecture, width, stem
and input channels; its tensors must be exactly those, with their shapes,
or the first that is not is named in the error. OUT.pth holds a plain
state_dict without the classifier: load it with strict=True into a model
built as docs/weights.md says (model.fc = torch.nn.Identity(), and for
the CIFAR stem or another channel count, conv1 and maxpool replaced).
"""
import argparse
import collections
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import resnet_layout  # noqa: E402
import safetensors_io  # noqa: E402

NUMPY_DTYPES = {"float32": "F32", "int64": "I64"}


def read_metadata(path, metadata):
    def need(key):
        if key not in metadata:
            raise ValueError("%s: metadata has no %r" % (path, key))
        return metadata[key]

    if need("format") != resnet_layout.FORMAT:
        raise ValueError("%s: metadata format is %r, not %r"
                         % (path, metadata["format"], resnet_layout.FORMAT))
    try:
        width = float(need("width"))
        in_channels = int(need("in_channels"))
    except ValueError as e:
        raise ValueError("%s: bad metadata: %s" % (path, e)) from e
    return need("arch"), width, need("stem"), in_channels


def build_model(arch, stem, in_channels):
    """The torchvision model the state_dict loads into (width 1 only)."""
    import torchvision

    model = getattr(torchvision.models, arch)()
    model.fc = torch.nn.Identity()
    if stem == "cifar":
        model.conv1 = torch.nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
        model.maxpool = torch.nn.Identity()
    elif in_channels != 3:
        model.conv1 = torch.nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
    return model


def convert(src, dst):
    tensors, metadata = safetensors_io.load(src)
    arch, width, stem, in_channels = read_metadata(src, metadata)
    layout = resnet_layout.expected_tensors(arch, width, stem, in_channels)
    found = {name: (a.shape, NUMPY_DTYPES.get(str(a.dtype), str(a.dtype)))
             for name, a in tensors.items()}
    resnet_layout.check_tensors(found, layout, src)

    state = collections.OrderedDict()
    for name in layout:
        state[name] = torch.from_numpy(tensors[name].copy())
    if width == 1.0:
        # The strict load the user will do; a mismatch is caught here.
        build_model(arch, stem, in_channels).load_state_dict(state,
                                                             strict=True)
    tmp = dst + ".tmp"
    try:
        torch.save(state, tmp)
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return len(state), metadata


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Convert a libsimclr encoder file (.safetensors) into a "
                    "torchvision ResNet state_dict (.pth).")
    p.add_argument("src", metavar="IN.safetensors")
    p.add_argument("dst", metavar="OUT.pth")
    args = p.parse_args(argv)
    try:
        n, metadata = convert(args.src, args.dst)
    except (ValueError, KeyError, OSError, RuntimeError) as e:
        print("simclr-to-torchvision: %s" % e, file=sys.stderr)
        return 1
    print("%s: %d tensors, %s %s stem, width %s; input %sx%s, mean %s, "
          "std %s" % (args.dst, n, metadata["arch"], metadata["stem"],
                      metadata["width"], metadata.get("input_size", "?"),
                      metadata.get("input_size", "?"),
                      metadata.get("mean", "?"), metadata.get("std", "?")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
