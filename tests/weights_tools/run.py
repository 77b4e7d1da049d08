#!/usr/bin/python3
"""The weight conversion scripts against torchvision.

usage: run.py SCRIPTS_DIR

Builds torchvision ResNets with random weights and statistics, converts
their state_dicts to libsimclr encoder files and back, and checks names,
shapes, dtypes, metadata and values, that the result loads with
strict=True and computes the same features, and that wrong architectures
and tampered shapes are refused with a message naming the tensor. Exits 77
(skipped) without torch and torchvision.
"""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torchvision
except ImportError as e:
    print("skipped: %s" % e)
    sys.exit(77)

SCRIPTS = os.path.abspath(sys.argv[1])
sys.path.insert(0, SCRIPTS)
import resnet_layout  # noqa: E402
import safetensors_io  # noqa: E402

results = {"passed": 0, "failed": 0}


def check(name, fn):
    try:
        fn()
    except Exception as e:  # report every failure, keep going
        results["failed"] += 1
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
    else:
        results["passed"] += 1
        print("ok   %s" % name)


def run(script, *args):
    return subprocess.run([sys.executable, os.path.join(SCRIPTS, script)]
                          + [str(a) for a in args],
                          capture_output=True, text=True)


def expect_ok(proc):
    if proc.returncode != 0:
        raise AssertionError("exit %d: %s" % (proc.returncode, proc.stderr))


def expect_refused(proc, *words):
    if proc.returncode == 0:
        raise AssertionError("accepted: %s" % proc.stdout)
    for w in words:
        if w not in proc.stderr:
            raise AssertionError("%r not in the message %r" % (w, proc.stderr))


def make_model(arch, stem, in_channels, seed):
    """A torchvision model with random weights and batch-norm statistics."""
    torch.manual_seed(seed)
    model = getattr(torchvision.models, arch)()
    if stem == "cifar":
        model.conv1 = torch.nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
        model.maxpool = torch.nn.Identity()
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(1000 + len(name))
    return model.eval()


def features(model, x):
    with torch.no_grad():
        return model(x)


def target_model(arch, stem, in_channels):
    """The model docs/weights.md tells a PyTorch user to build."""
    model = getattr(torchvision.models, arch)()
    model.fc = torch.nn.Identity()
    if stem == "cifar":
        model.conv1 = torch.nn.Conv2d(in_channels, 64, 3, 1, 1, bias=False)
        model.maxpool = torch.nn.Identity()
    return model.eval()


def round_trip(tmp, tag, arch, stem, in_channels, size, wrap, extra,
               mean, std):
    model = make_model(arch, stem, in_channels, seed=len(tag))
    original = model.state_dict()
    pth = os.path.join(tmp, tag + ".pth")
    st = os.path.join(tmp, tag + ".safetensors")
    back = os.path.join(tmp, tag + "-back.pth")
    saved = original
    if wrap:  # a training checkpoint of a DataParallel model
        saved = {"epoch": 3, "state_dict": {"module." + k: v
                                            for k, v in original.items()}}
    torch.save(saved, pth)

    expect_ok(run("torchvision-to-simclr.py", pth, st, "--arch", arch,
                  "--stem", stem, "--size", size, *extra))
    tensors, metadata = safetensors_io.load(st)

    # Names in torchvision's order without fc, shapes, dtypes, values.
    names = [k for k in original if not k.startswith("fc.")]
    assert list(tensors) == names, "names or order differ"
    for k in names:
        want = original[k].numpy()
        got = tensors[k]
        assert got.shape == want.shape, "%s: shape %s" % (k, got.shape)
        if k.endswith("num_batches_tracked"):
            assert got.dtype == np.int64, "%s: dtype %s" % (k, got.dtype)
        else:
            assert got.dtype == np.float32, "%s: dtype %s" % (k, got.dtype)
        assert np.array_equal(got, want), "%s: values differ" % k
    dim = 2048 if arch in ("resnet50", "resnet101", "resnet152") else 512
    want_meta = {"format": "simclr-encoder", "arch": arch, "width": "1",
                 "stem": stem, "in_channels": str(in_channels),
                 "input_size": str(size), "mean": mean, "std": std,
                 "dim": str(dim)}
    assert metadata == want_meta, "metadata %r" % metadata

    # Back to a state_dict: the same tensors, loadable with strict=True,
    # giving the same features as the original model.
    expect_ok(run("simclr-to-torchvision.py", st, back))
    restored = torch.load(back, map_location="cpu")
    assert list(restored) == names, "names differ after the round trip"
    for k in names:
        assert restored[k].dtype == original[k].dtype, "%s: dtype" % k
        assert torch.equal(restored[k], original[k]), "%s: values" % k
    user = target_model(arch, stem, in_channels)
    user.load_state_dict(restored, strict=True)
    model.fc = torch.nn.Identity()
    x = torch.randn(2, in_channels, size, size)
    assert torch.equal(features(user, x), features(model, x)), "features"
    assert features(user, x).shape == (2, dim)


def test_layout_matches_torchvision():
    for arch in resnet_layout.ARCHS:
        model = getattr(torchvision.models, arch)()
        want = [(k, tuple(v.shape)) for k, v in model.state_dict().items()
                if not k.startswith("fc.")]
        got = [(k, shape) for k, (shape, _) in
               resnet_layout.expected_tensors(arch, 1, "imagenet", 3).items()]
        assert got == want, "%s: layout differs from torchvision" % arch
        assert resnet_layout.feature_dim(arch, 1) == model.fc.in_features


def test_width_rule():
    layout = resnet_layout.expected_tensors("resnet18", 0.25, "cifar", 1)
    assert layout["conv1.weight"][0] == (16, 1, 3, 3)
    assert layout["layer4.1.conv2.weight"][0] == (128, 128, 3, 3)
    assert resnet_layout.feature_dim("resnet18", 0.25) == 128
    layout = resnet_layout.expected_tensors("resnet50", 2, "imagenet", 3)
    assert layout["layer4.2.conv3.weight"][0] == (4096, 1024, 1, 1)
    assert resnet_layout.feature_dim("resnet50", 2) == 4096
    # Halves round up; never below one channel.
    assert resnet_layout.channels(64, 0.0078125) == 1  # 0.5
    assert resnet_layout.channels(64, 0.0390625) == 3  # 2.5
    assert resnet_layout.channels(64, 0.001) == 1


def main():
    with tempfile.TemporaryDirectory() as tmp:
        check("the layout matches torchvision for every architecture",
              test_layout_matches_torchvision)
        check("the width rule", test_width_rule)
        check("resnet18, ImageNet stem: round trip", lambda: round_trip(
            tmp, "r18", "resnet18", "imagenet", 3, 64, False, [],
            "0.485,0.456,0.406", "0.229,0.224,0.225"))
        check("resnet18, CIFAR stem, 1 channel, wrapped checkpoint: round "
              "trip", lambda: round_trip(
                  tmp, "r18c1", "resnet18", "cifar", 1, 32, True,
                  ["--in-channels", 1, "--mean", 0.5, "--std", 0.25],
                  "0.5", "0.25"))

        pth = os.path.join(tmp, "r18.pth")
        out = os.path.join(tmp, "refused.safetensors")
        check("a wrong --arch is refused, naming the tensor",
              lambda: expect_refused(run(
                  "torchvision-to-simclr.py", pth, out, "--arch", "resnet34",
                  "--stem", "imagenet", "--size", 64),
                  "missing tensor layer1.2.conv1.weight"))
        check("a wrong --stem is refused, naming the tensor",
              lambda: expect_refused(run(
                  "torchvision-to-simclr.py", pth, out, "--arch", "resnet18",
                  "--stem", "cifar", "--size", 64),
                  "tensor conv1.weight has shape [64, 3, 7, 7], expected "
                  "[64, 3, 3, 3]"))
        check("nothing is written when a conversion is refused",
              lambda: (not os.path.exists(out)) or
              (_ for _ in ()).throw(AssertionError("output written")))

        def tampered_pth():
            state = torch.load(pth, map_location="cpu")
            state["layer2.0.conv1.weight"] = torch.zeros(128, 64, 3, 2)
            bad = os.path.join(tmp, "tampered.pth")
            torch.save(state, bad)
            expect_refused(run("torchvision-to-simclr.py", bad, out,
                               "--arch", "resnet18", "--stem", "imagenet",
                               "--size", 64),
                           "tensor layer2.0.conv1.weight has shape "
                           "[128, 64, 3, 2], expected [128, 64, 3, 3]")
        check("a tampered shape in a state_dict is refused", tampered_pth)

        def extra_tensor():
            state = torch.load(pth, map_location="cpu")
            state["layer5.0.conv1.weight"] = torch.zeros(1)
            bad = os.path.join(tmp, "extra.pth")
            torch.save(state, bad)
            expect_refused(run("torchvision-to-simclr.py", bad, out,
                               "--arch", "resnet18", "--stem", "imagenet",
                               "--size", 64),
                           "unexpected tensor layer5.0.conv1.weight")
        check("an unexpected tensor is refused", extra_tensor)

        def tampered_safetensors():
            tensors, metadata = safetensors_io.load(
                os.path.join(tmp, "r18.safetensors"))
            tensors["layer3.1.bn2.running_var"] = np.ones(255, np.float32)
            bad = os.path.join(tmp, "tampered.safetensors")
            safetensors_io.save(bad, tensors, metadata)
            expect_refused(run("simclr-to-torchvision.py", bad,
                               os.path.join(tmp, "refused.pth")),
                           "tensor layer3.1.bn2.running_var has shape [255], "
                           "expected [256]")
            metadata["arch"] = "resnet50"
            tensors["layer3.1.bn2.running_var"] = np.ones(256, np.float32)
            safetensors_io.save(bad, tensors, metadata)
            expect_refused(run("simclr-to-torchvision.py", bad,
                               os.path.join(tmp, "refused.pth")),
                           "tensor layer1.0.conv1.weight has shape "
                           "[64, 64, 3, 3], expected [64, 64, 1, 1]")
            assert not os.path.exists(os.path.join(tmp, "refused.pth"))
        check("a tampered encoder file is refused", tampered_safetensors)

        check("a 1-channel encoder needs --mean and --std",
              lambda: expect_refused(run(
                  "torchvision-to-simclr.py", pth, out, "--arch", "resnet18",
                  "--stem", "imagenet", "--size", 64, "--in-channels", 1),
                  "needs --mean and --std"))

    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
