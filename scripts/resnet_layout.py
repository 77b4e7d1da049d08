"""The tensors of a libsimclr ResNet encoder, named as torchvision names them.

The layout is torchvision's ResNet (fc excluded) with two extensions:

- width W: the stem and the four stages have round(64 W), round(128 W),
  round(256 W) and round(512 W) channels, rounded to the nearest integer
  with halves rounded up, and at least 1 (bottleneck blocks expand the
  last of these by 4);
- the stem: "imagenet" (7x7 stride-2 convolution, then a 3x3 max-pool,
  neither of which has weights) or "cifar" (3x3 stride-1 convolution, no
  pool), with any number of input channels.

The feature dimension is the channel count of the last stage, times 4 for
bottleneck networks. docs/weights.md describes the file format.
"""
import collections
import math

# arch: (block, blocks per stage)
ARCHS = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
    "resnet101": ("bottleneck", (3, 4, 23, 3)),
    "resnet152": ("bottleneck", (3, 8, 36, 3)),
}
STEMS = ("imagenet", "cifar")
FORMAT = "simclr-encoder"


def channels(base, width):
    """round(base * width), halves up, at least 1."""
    return max(1, int(math.floor(base * width + 0.5)))


def _batch_norm(layout, prefix, n):
    for name in ("weight", "bias", "running_mean", "running_var"):
        layout[prefix + "." + name] = ((n,), "F32")
    layout[prefix + ".num_batches_tracked"] = ((), "I64")


def _conv(layout, name, out, inp, k):
    layout[name] = ((out, inp, k, k), "F32")


def feature_dim(arch, width):
    block, _ = ARCHS[arch]
    return channels(512, width) * (4 if block == "bottleneck" else 1)


def expected_tensors(arch, width, stem, in_channels):
    """An ordered dict: tensor name -> (shape tuple, dtype "F32" or "I64"),
    in the order of torchvision's state_dict()."""
    if arch not in ARCHS:
        raise ValueError("unknown architecture %r (one of %s)"
                         % (arch, ", ".join(ARCHS)))
    if stem not in STEMS:
        raise ValueError("unknown stem %r (imagenet or cifar)" % stem)
    if not width > 0:
        raise ValueError("the width must be positive, not %r" % width)
    if in_channels < 1:
        raise ValueError("the input needs at least one channel")
    block, counts = ARCHS[arch]
    expansion = 4 if block == "bottleneck" else 1
    layout = collections.OrderedDict()

    inplanes = channels(64, width)
    _conv(layout, "conv1.weight", inplanes, in_channels,
          7 if stem == "imagenet" else 3)
    _batch_norm(layout, "bn1", inplanes)
    for stage, count in enumerate(counts):
        planes = channels(64 << stage, width)
        for i in range(count):
            p = "layer%d.%d." % (stage + 1, i)
            stride = 2 if stage > 0 and i == 0 else 1
            if block == "basic":
                _conv(layout, p + "conv1.weight", planes, inplanes, 3)
                _batch_norm(layout, p + "bn1", planes)
                _conv(layout, p + "conv2.weight", planes, planes, 3)
                _batch_norm(layout, p + "bn2", planes)
            else:
                _conv(layout, p + "conv1.weight", planes, inplanes, 1)
                _batch_norm(layout, p + "bn1", planes)
                _conv(layout, p + "conv2.weight", planes, planes, 3)
                _batch_norm(layout, p + "bn2", planes)
                _conv(layout, p + "conv3.weight", planes * expansion, planes,
                      1)
                _batch_norm(layout, p + "bn3", planes * expansion)
            if stride != 1 or inplanes != planes * expansion:
                _conv(layout, p + "downsample.0.weight", planes * expansion,
                      inplanes, 1)
                _batch_norm(layout, p + "downsample.1", planes * expansion)
            inplanes = planes * expansion
    return layout


def check_tensors(found, layout, source):
    """Raise ValueError naming the first tensor of @found (name -> (shape,
    dtype)) that is missing, unexpected or of the wrong shape or dtype."""
    for name, (shape, dtype) in layout.items():
        if name not in found:
            raise ValueError("%s: missing tensor %s" % (source, name))
        got_shape, got_dtype = found[name]
        if tuple(got_shape) != tuple(shape):
            raise ValueError("%s: tensor %s has shape %s, expected %s"
                             % (source, name, list(got_shape), list(shape)))
        if got_dtype != dtype:
            raise ValueError("%s: tensor %s has dtype %s, expected %s"
                             % (source, name, got_dtype, dtype))
    for name in found:
        if name not in layout:
            raise ValueError("%s: unexpected tensor %s" % (source, name))


def format_floats(values):
    """"0.485,0.456,0.406": shortest round-tripping decimals."""
    return ",".join(repr(float(v)) for v in values)


def format_width(width):
    """"1", "0.25", "2": the width as the metadata stores it."""
    return ("%.10g" % width)
