#!/usr/bin/python3
"""Reference tensors for tests/test_projector.c, made with PyTorch.

Run with Debian's interpreter (PyTorch):

    /usr/bin/python3 tests/ref/gen_projector.py OUT_DIR

For each case it writes OUT_DIR/projector_CASE.bin, the tensors one after
another as little-endian float32 or int64, and OUT_DIR/projector_CASE.txt,
a manifest whose lines the C test reads:

    config KIND BATCH IN_DIM HIDDEN_DIM OUT_DIM
    tensor NAME DTYPE OFFSET NDIM DIM...
    pytorch_f32_error NAME ERR   relative L2 error of PyTorch's own float32
                                 result for tensor NAME

The heads are nn.Sequential modules under the attribute `head`:

    v1  Linear(D, H), ReLU, Linear(H, d)
    v2  Linear(D, H, bias=False), BatchNorm1d(H), ReLU,
        Linear(H, H, bias=False), BatchNorm1d(H), ReLU,
        Linear(H, d, bias=False), BatchNorm1d(d) whose bias is zero and
        not trained (the official SimCLR v2 head: no shift in the last
        batch norm)

The tensors of a case, all from the same starting point:

    init.NAME     every parameter and buffer before the step (batch-norm
                  gamma, beta and running statistics drawn at random so
                  that each one matters)
    input         h, (N, D)
    dz            a fixed upstream gradient (N, d)
    z_train       the output in training mode (batch statistics)
    after.NAME    running_mean, running_var, num_batches_tracked after it
    grad.NAME     d<z_train, dz>/dNAME for every trained parameter
    grad.input    d<z_train, dz>/dinput
    z_eval        the output in eval mode, after the training step

Results are computed in float64 from the float32 inputs and stored rounded
to float32; the same step in float32 gives PyTorch's own error.
"""
import copy
import os
import sys

import torch
import torch.nn as nn

CASES = [
    # name, kind, batch, in_dim, hidden_dim, out_dim, seed
    ("v1_n2_d16", "v1", 2, 16, 16, 8, 1),
    ("v1_n8_d16_h32", "v1", 8, 16, 32, 128, 2),
    ("v1_n64_d512", "v1", 64, 512, 512, 128, 3),
    ("v2_n2_d16", "v2", 2, 16, 16, 8, 4),
    ("v2_n8_d16_h24", "v2", 8, 16, 24, 128, 5),
    ("v2_n64_d512", "v2", 64, 512, 512, 128, 6),
]


class Head(nn.Module):
    def __init__(self, kind, d, h, o):
        super().__init__()
        if kind == "v1":
            self.head = nn.Sequential(nn.Linear(d, h), nn.ReLU(),
                                      nn.Linear(h, o))
            return
        self.head = nn.Sequential(
            nn.Linear(d, h, bias=False), nn.BatchNorm1d(h), nn.ReLU(),
            nn.Linear(h, h, bias=False), nn.BatchNorm1d(h), nn.ReLU(),
            nn.Linear(h, o, bias=False), nn.BatchNorm1d(o))
        # spread gamma, beta and the running statistics so that a swapped
        # or ignored one shows in the results
        with torch.no_grad():
            for m in self.head:
                if isinstance(m, nn.BatchNorm1d):
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.normal_(0.0, 0.2)
                    m.running_mean.normal_(0.0, 0.2)
                    m.running_var.uniform_(0.5, 2.0)
            self.head[7].bias.zero_()
        self.head[7].bias.requires_grad_(False)

    def forward(self, x):
        return self.head(x)


class Writer:
    def __init__(self, out_dir, name):
        self.bin = open(os.path.join(out_dir, f"projector_{name}.bin"), "wb")
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


def step(model, x, dz, dtype):
    """A training forward and backward, then an eval forward, in dtype, on
    a copy of model. Returns the results as float64 tensors."""
    model = copy.deepcopy(model).to(dtype)
    x = x.detach().to(dtype).clone().requires_grad_(True)
    out = {}
    model.train()
    z = model(x)
    out["z_train"] = z
    for key, t in model.state_dict().items():
        if "running" in key:
            out["after." + key] = t
    (z * dz.to(dtype)).sum().backward()
    for key, p in model.named_parameters():
        if p.requires_grad:
            out["grad." + key] = p.grad
    out["grad.input"] = x.grad
    model.eval()
    with torch.no_grad():
        out["z_eval"] = model(x)
    nbt = {k: t for k, t in model.state_dict().items()
           if "num_batches" in k}
    return {k: v.detach().double() for k, v in out.items()}, nbt


def make_case(out_dir, name, kind, batch, d, h, o, seed):
    torch.manual_seed(seed)
    model = Head(kind, d, h, o)
    x = torch.randn(batch, d)
    dz = torch.randn(batch, o)
    ref, nbt = step(model, x, dz, torch.float64)
    f32, _ = step(model, x, dz, torch.float32)

    w = Writer(out_dir, name)
    w.lines.append(f"config {kind} {batch} {d} {h} {o}")
    for key, t in model.state_dict().items():
        w.add("init." + key, t)
    w.add("input", x)
    w.add("dz", dz)
    for key, t in ref.items():
        diff = (f32[key] - t).norm().item()
        err = diff / t.norm().item() if t.norm() > 0 else diff
        w.add(key, t.float())
        w.lines.append(f"pytorch_f32_error {key} {err:.6e}")
    for key, t in nbt.items():
        w.add("after." + key, t)
    w.bin.close()
    with open(os.path.join(out_dir, f"projector_{name}.txt"), "w") as f:
        f.write("\n".join(w.lines) + "\n")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(2)
    for case in CASES:
        make_case(out_dir, *case)


if __name__ == "__main__":
    main()
