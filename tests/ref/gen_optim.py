#!/usr/bin/python3
"""Reference optimizer steps and learning rates for tests/test_optim.c.

Run with Debian's interpreter and PyTorch:

    /usr/bin/python3 tests/ref/gen_optim.py tests/data/optim

SGD and AdamW are PyTorch's own optimizers (torch.optim.SGD, AdamW) run in
float64; LARS is the update of the official SimCLR TensorFlow code
(lars_optimizer.py, classic momentum) written out in NumPy float64; the
schedule is the official warm-up plus tf.train.cosine_decay, also in
float64. Parameters flagged 1 are excluded from weight decay (a separate
parameter group with weight_decay 0) and from LARS adaptation.

Files are raw little-endian float32. The manifest, cases.txt, has lines

    param NAME COUNT FLAGS INIT_FILE GRADS_FILE     (GRADS: STEPS x COUNT)
    case NAME KIND MOMENTUM NESTEROV WD ETA B1 B2 EPS STEPS LR...
    final CASE PARAM VALUE_FILE STATE_FILE   (STATE: momentum, or m then v)
    scale RULE BASE BATCH VALUE
    total EXAMPLES BATCH EPOCHS DROP_LAST STEPS
    lr PEAK WARMUP TOTAL STEP VALUE

Inputs come from a fixed seed, so rerunning gives the same files.
"""
import math
import os
import sys

import numpy as np
import torch

out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/data/optim"
os.makedirs(out_dir, exist_ok=True)
rng = np.random.default_rng(1708_03888)
lines = []
STEPS = 4


def write(name, array):
    np.asarray(array, dtype=np.float32).tofile(os.path.join(out_dir, name))
    return name


# ---- parameters and their gradients ----------------------------------------

# (name, count, excluded, initial values, gradient scale)
specs = [
    ("conv.weight", 24, 0, rng.standard_normal(24) * 0.5, 1.0),
    ("conv.bias", 4, 1, rng.standard_normal(4) * 0.1, 0.3),
    ("bn.weight", 4, 1, 1.0 + rng.standard_normal(4) * 0.1, 0.5),
    # ||w|| = 0 at the first step: LARS uses a trust ratio of 1
    ("fc.weight", 6, 0, np.zeros(6), 2.0),
    # all-zero gradient at every step
    ("frozen.weight", 5, 0, rng.standard_normal(5), 0.0),
]
params = []
for name, count, flags, init, gscale in specs:
    init = init.astype(np.float32)
    grads = (rng.standard_normal((STEPS, count)) * gscale).astype(np.float32)
    fname = name.replace(".", "_")
    lines.append(f"param {name} {count} {flags} {write(fname + '.init', init)} "
                 f"{write(fname + '.grads', grads)}")
    params.append((name, flags, init.astype(np.float64),
                   grads.astype(np.float64)))


# ---- PyTorch SGD and AdamW ---------------------------------------------------

def run_torch(kind, lrs, momentum, nesterov, wd, b1, b2, eps):
    tensors = [torch.tensor(init, dtype=torch.float64, requires_grad=True)
               for _, _, init, _ in params]
    decay = [t for t, p in zip(tensors, params) if p[1] == 0]
    no_decay = [t for t, p in zip(tensors, params) if p[1] == 1]
    groups = [{"params": decay, "weight_decay": wd},
              {"params": no_decay, "weight_decay": 0.0}]
    if kind == "sgd":
        opt = torch.optim.SGD(groups, lr=lrs[0], momentum=momentum,
                              nesterov=bool(nesterov))
    else:
        opt = torch.optim.AdamW(groups, lr=lrs[0], betas=(b1, b2), eps=eps)
    for step, lr in enumerate(lrs):
        for group in opt.param_groups:
            group["lr"] = lr
        for t, (_, _, _, grads) in zip(tensors, params):
            t.grad = torch.tensor(grads[step], dtype=torch.float64)
        opt.step()
    finals = []
    for t in tensors:
        st = opt.state[t]
        if kind == "sgd":
            state = [st["momentum_buffer"].numpy()] if momentum else [
                np.zeros(t.numel())]
        else:
            state = [st["exp_avg"].numpy(), st["exp_avg_sq"].numpy()]
        finals.append((t.detach().numpy(), np.concatenate(state)))
    return finals


# ---- the official LARS in float64 -------------------------------------------

def run_lars(lrs, momentum, nesterov, wd, eta):
    values = [init.copy() for _, _, init, _ in params]
    moms = [np.zeros_like(v) for v in values]
    for step, lr in enumerate(lrs):
        for i, (_, flags, _, grads) in enumerate(params):
            w, v, grad = values[i], moms[i], grads[step].copy()
            if wd and not flags:
                grad = grad + wd * w
            trust_ratio = 1.0
            if not flags:
                w_norm = np.linalg.norm(w)
                g_norm = np.linalg.norm(grad)
                if w_norm > 0 and g_norm > 0:
                    trust_ratio = eta * w_norm / g_norm
            scaled_lr = lr * trust_ratio
            next_v = momentum * v + scaled_lr * grad
            if nesterov:
                update = momentum * next_v + scaled_lr * grad
            else:
                update = next_v
            values[i] = w - update
            moms[i] = next_v
    return [(w, v) for w, v in zip(values, moms)]


lrs = [0.1, 0.4, 0.25, 0.05]
lars_lrs = [2.0, 4.8, 3.0, 1.0]
cases = [
    # name, kind, momentum, nesterov, wd, eta, b1, b2, eps, lrs
    ("sgd_plain", "sgd", 0.0, 0, 0.0, 0.001, 0.9, 0.999, 1e-8, lrs),
    ("sgd_momentum_wd", "sgd", 0.9, 0, 0.05, 0.001, 0.9, 0.999, 1e-8, lrs),
    ("sgd_nesterov_wd", "sgd", 0.9, 1, 0.05, 0.001, 0.9, 0.999, 1e-8, lrs),
    ("adamw", "adamw", 0.9, 0, 0.1, 0.001, 0.9, 0.999, 1e-8, lrs),
    ("adamw_betas", "adamw", 0.9, 0, 0.0, 0.001, 0.8, 0.99, 1e-3, lrs),
    ("lars_wd", "lars", 0.9, 0, 0.01, 0.001, 0.9, 0.999, 1e-8, lars_lrs),
    ("lars_nesterov", "lars", 0.9, 1, 0.01, 0.001, 0.9, 0.999, 1e-8,
     lars_lrs),
    ("lars_no_wd", "lars", 0.9, 0, 0.0, 0.02, 0.9, 0.999, 1e-8, lars_lrs),
]
for name, kind, mom, nest, wd, eta, b1, b2, eps, case_lrs in cases:
    lines.append(f"case {name} {kind} {mom!r} {nest} {wd!r} {eta!r} {b1!r} "
                 f"{b2!r} {eps!r} {len(case_lrs)} "
                 + " ".join(repr(lr) for lr in case_lrs))
    if kind == "lars":
        finals = run_lars(case_lrs, mom, nest, wd, eta)
    else:
        finals = run_torch(kind, case_lrs, mom, nest, wd, b1, b2, eps)
    for (pname, _, _, _), (value, state) in zip(params, finals):
        stem = f"{name}_{pname.replace('.', '_')}"
        lines.append(f"final {name} {pname} {write(stem + '.value', value)} "
                     f"{write(stem + '.state', state)}")


# ---- learning-rate rules and the schedule -----------------------------------

for rule, base, batch in [("linear", 0.3, 256), ("linear", 0.3, 4096),
                          ("linear", 0.3, 100), ("sqrt", 0.075, 4096),
                          ("sqrt", 0.075, 1000)]:
    value = base * batch / 256.0 if rule == "linear" else \
        base * math.sqrt(batch)
    lines.append(f"scale {rule} {base!r} {batch} {value!r}")

for examples, batch, epochs, drop in [(50000, 512, 100, 0),
                                      (50000, 512, 100, 1),
                                      (50000, 500, 3, 0), (50000, 500, 3, 1),
                                      (7, 8, 5, 0)]:
    per_epoch = examples // batch if drop else -(-examples // batch)
    lines.append(f"total {examples} {batch} {epochs} {drop} "
                 f"{per_epoch * epochs}")


def cosine_decay(lr, step, decay_steps):
    """tf.train.cosine_decay with alpha = 0."""
    step = min(step, decay_steps)
    return lr * 0.5 * (1 + math.cos(math.pi * step / decay_steps))


def official_lr(peak, warmup, total, step):
    """simclr/model_util.py learning_rate_schedule for one step."""
    lr = step / int(warmup) * peak if warmup else peak
    if step < warmup:
        return lr
    return cosine_decay(peak, step - warmup, total - warmup)


schedules = [
    # 100 epochs of 98 steps (50000 images, B = 512, short batch kept),
    # 10 warm-up epochs
    (1.2, 980, 9800),
    # the short batch dropped: 97 steps per epoch
    (1.2, 970, 9700),
    (0.3, 0, 17),   # no warm-up
    (0.5, 5, 5),    # all warm-up
    (0.3, 0, 1),    # one step
    (4.8, 3, 4),
]
for peak, warmup, total in schedules:
    steps = {0, 1, max(warmup - 1, 0), warmup, warmup + 1, total // 2,
             max(total - 2, 0), total - 1}
    for step in sorted(s for s in steps if s < total):
        lines.append(f"lr {peak!r} {warmup} {total} {step} "
                     f"{official_lr(peak, warmup, total, step)!r}")

with open(os.path.join(out_dir, "cases.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
