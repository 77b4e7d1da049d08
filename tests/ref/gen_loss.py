#!/usr/bin/python3
"""Reference NT-Xent values and gradients for tests/test_loss.c.

Run with Debian's interpreter and PyTorch:

    /usr/bin/python3 tests/ref/gen_loss.py tests/data/loss

The loss is written the plain way (normalise, similarity matrix over the
temperature, the diagonal masked out, cross-entropy against the partner
row) in float64, and the gradient comes from autograd. Writes raw
little-endian float32 files and a manifest, cases.txt, whose lines read

    loss N D TAU Z_FILE DZ_FILE VALUE ACCURACY

with z of shape (2N, D) (rows 2i and 2i + 1 are the views of image i) and
dL/dz of the same shape. The accuracy counts an anchor as right when its
partner is strictly more similar than every other row. Inputs come from a
fixed seed, so rerunning gives the same files.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/data/loss"
os.makedirs(out_dir, exist_ok=True)
rng = np.random.default_rng(20200213)
lines = []


def nt_xent(z, tau):
    """Mean NT-Xent over the 2N anchors, and the contrastive accuracy."""
    rows = z.shape[0]
    u = F.normalize(z, dim=1)
    s = u @ u.T / tau
    eye = torch.eye(rows, dtype=torch.bool)
    logits = s.masked_fill(eye, float("-inf"))
    target = torch.arange(rows) ^ 1
    value = F.cross_entropy(logits, target)

    with torch.no_grad():
        pos = logits[torch.arange(rows), target]
        others = logits.clone()
        others[torch.arange(rows), target] = float("-inf")
        accuracy = (pos > others.max(dim=1).values).double().mean()
    return value, accuracy.item()


def case(n, d, taus, zero_row=None):
    # rows of different lengths, so the normalisation matters
    z = rng.standard_normal((2 * n, d)) * rng.uniform(0.2, 3.0, (2 * n, 1))
    # make the two views of an image related, as after training
    z[1::2] += 0.8 * z[0::2]
    zname = f"z_{n}_{d}.f32"
    if zero_row is not None:
        # a zero row stays zero after normalize, and its gradient is
        # divided by the eps 1e-12 instead of its norm
        z[zero_row] = 0.0
        zname = f"z_{n}_{d}_zero{zero_row}.f32"
    z = z.astype(np.float32)
    z.tofile(os.path.join(out_dir, zname))
    for tau in taus:
        zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
        value, accuracy = nt_xent(zt, tau)
        value.backward()
        dz = zt.grad.numpy().astype(np.float32)
        dzname = "d" + zname.replace(".f32", f"_{tau}.f32")
        dz.tofile(os.path.join(out_dir, dzname))
        lines.append(f"loss {n} {d} {tau} {zname} {dzname} "
                     f"{value.item()!r} {accuracy!r}")


taus = [0.01, 0.1, 0.5, 1.0]
for n in (2, 3, 8):
    for d in (1, 16, 128):
        case(n, d, taus)
for d in (1, 16, 64):
    case(64, d, taus)
case(3, 16, [0.1, 0.5], zero_row=3)

with open(os.path.join(out_dir, "cases.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
