#!/usr/bin/python3
"""Reference k-NN predictions and linear-probe figures for tests/test_eval.c.

Run with Debian's interpreter, NumPy and PyTorch:

    /usr/bin/python3 tests/ref/gen_eval.py tests/data/eval
    /usr/bin/python3 tests/ref/gen_eval.py --fashion knn|probe NTRAIN NTEST \
        [LAMBDA]

The first form writes a small random k-NN problem and the predictions of
the weighted k-NN classifier computed in float64: similarities of the
L2-normalised rows, the k most similar training rows, each voting for its
label with weight exp(sim / t), the label with the largest sum wins (ties
to the smaller label). Files are raw little-endian: train.f32 (N, D),
train.i32 (N), test.f32 (M, D), test.i32 (M) and, per case,
knn_K_T.i32 (M); cases.txt lists

    knn N M D CLASSES K T PRED_FILE ACCURACY

For the linear probe on the same set, probe_LAMBDA_w.f64 (classes, D)
and probe_LAMBDA_b.f64 (classes) hold the float64 weights and biases on
the raw features (the standardisation folded in) and probe_LAMBDA_pred.i32
the test predictions; cases.txt lists

    probe N M D CLASSES LAMBDA STEM ACCURACY

The second form prints the figures the Fashion-MNIST tests quote, on the
first NTRAIN training and NTEST test images: k-NN accuracy (k = 200,
t = 0.1) on the raw pixels scaled to [0, 1], or the test accuracy of
multinomial logistic regression on standardised pixels with the L2
strength LAMBDA (objective: mean cross-entropy + LAMBDA / 2 * ||W||^2,
bias not penalised), fitted in float64 with L-BFGS until the largest
gradient component is below 1e-6.
Inputs come from a fixed seed, so rerunning gives the same files.
"""
import gzip
import os
import sys
import time

import numpy as np
import torch

FASHION = "/usr/share/datasets/fashion-mnist"


def knn_predict(train, train_y, test, classes, k, t, block=1000):
    """Weighted k-NN in float64, test rows in blocks."""
    tr = torch.nn.functional.normalize(torch.from_numpy(train).double(), dim=1)
    te = torch.nn.functional.normalize(torch.from_numpy(test).double(), dim=1)
    ty = torch.from_numpy(train_y).long()
    out = []
    for s in range(0, te.shape[0], block):
        sim = te[s:s + block] @ tr.T
        top, idx = sim.topk(k, dim=1)
        votes = torch.zeros(sim.shape[0], classes, dtype=torch.float64)
        votes.scatter_add_(1, ty[idx], torch.exp(top / t))
        out.append(votes.argmax(dim=1))
    return torch.cat(out).numpy().astype(np.int32)


def small_cases(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(20201107)
    n, m, d, classes = 600, 150, 16, 5
    # class means plus noise of the same size, so the problem is not easy
    means = rng.standard_normal((classes, d))
    train_y = rng.integers(0, classes, n).astype(np.int32)
    test_y = rng.integers(0, classes, m).astype(np.int32)
    train = (means[train_y] + 1.2 * rng.standard_normal((n, d)))
    test = (means[test_y] + 1.2 * rng.standard_normal((m, d)))
    # rows of different lengths: only the direction may matter
    train *= rng.uniform(0.1, 10.0, (n, 1))
    test *= rng.uniform(0.1, 10.0, (m, 1))
    train = train.astype(np.float32)
    test = test.astype(np.float32)
    train.tofile(os.path.join(out_dir, "train.f32"))
    train_y.tofile(os.path.join(out_dir, "train.i32"))
    test.tofile(os.path.join(out_dir, "test.f32"))
    test_y.tofile(os.path.join(out_dir, "test.i32"))
    lines = []
    for k, t in [(1, 0.1), (7, 0.1), (200, 0.1), (50, 1.0), (600, 0.05)]:
        pred = knn_predict(train.astype(np.float64), train_y,
                           test.astype(np.float64), classes, k, t)
        name = f"knn_{k}_{t:g}.i32"
        pred.tofile(os.path.join(out_dir, name))
        acc = float((pred == test_y).mean())
        lines.append(f"knn {n} {m} {d} {classes} {k} {t:.17g} {name} "
                     f"{acc:.17g}")
    # the linear probe on the same set: weights and biases on the raw
    # features, and the test predictions
    for lam in [1e-3, 1e-1]:
        w, b = probe_fit(train.astype(np.float64), train_y, classes, lam)
        xte = test.astype(np.float64)
        pred = (xte @ w + b).argmax(axis=1).astype(np.int32)
        stem = f"probe_{lam:g}"
        w.T.astype(np.float64).tofile(os.path.join(out_dir, stem + "_w.f64"))
        b.astype(np.float64).tofile(os.path.join(out_dir, stem + "_b.f64"))
        pred.tofile(os.path.join(out_dir, stem + "_pred.i32"))
        acc = float((pred == test_y).mean())
        lines.append(f"probe {n} {m} {d} {classes} {lam:.17g} {stem} "
                     f"{acc:.17g}")
    with open(os.path.join(out_dir, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def read_idx(name):
    with gzip.open(os.path.join(FASHION, name)) as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big")
            for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def fashion(what, n_tr, n_te, lam):
    torch.set_num_threads(2)
    xtr = read_idx("train-images-idx3-ubyte.gz").reshape(60000, -1) / 255.0
    ytr = read_idx("train-labels-idx1-ubyte.gz").astype(np.int64)
    xte = read_idx("t10k-images-idx3-ubyte.gz").reshape(10000, -1) / 255.0
    yte = read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64)
    xtr, ytr, xte, yte = xtr[:n_tr], ytr[:n_tr], xte[:n_te], yte[:n_te]

    t0 = time.time()
    if what == "knn":
        pred = knn_predict(xtr, ytr, xte, 10, 200, 0.1)
        acc = (pred == yte).mean()
    else:
        acc, evals = probe(xtr, ytr, xte, yte, lam)
        print(f"{evals} evaluations")
    print(f"{what} {n_tr}/{n_te} lambda={lam:g}: {acc:.4f} "
          f"({time.time() - t0:.1f} s)", flush=True)


def probe(xtr, ytr, xte, yte, lam):
    w, b = probe_fit(xtr, ytr, 10, lam, 1e-6)
    pred = (xte @ w + b).argmax(axis=1)
    return float((pred == yte).mean()), probe_fit.evals


def probe_fit(xtr, ytr, classes, lam, tol=1e-8):
    """Weights (D, classes) and bias (classes) on the raw features."""
    mu = xtr.mean(axis=0)
    sd = xtr.std(axis=0)
    scale = np.where(sd > 0, 1.0 / np.where(sd > 0, sd, 1.0), 0.0)
    ztr = torch.from_numpy((xtr - mu) * scale)
    w = torch.zeros(ztr.shape[1], classes, dtype=torch.float64,
                    requires_grad=True)
    b = torch.zeros(classes, dtype=torch.float64, requires_grad=True)
    y = torch.from_numpy(ytr).long()
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=5000, history_size=10,
                            tolerance_grad=tol, tolerance_change=1e-14,
                            line_search_fn="strong_wolfe")
    evals = [0]

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(ztr @ w + b, y) \
            + 0.5 * lam * (w * w).sum()
        loss.backward()
        evals[0] += 1
        return loss

    # L-BFGS restarted until the gradient is below the tolerance
    for _ in range(20):
        opt.step(closure)
        if max(w.grad.abs().max().item(), b.grad.abs().max().item()) < tol:
            break
    probe_fit.evals = evals[0]
    wr = w.detach().numpy() * scale[:, None]
    br = b.detach().numpy() - mu @ wr
    return wr, br


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--fashion":
        fashion(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                float(sys.argv[5]) if len(sys.argv) > 5 else 1e-3)
    else:
        small_cases(sys.argv[1] if len(sys.argv) > 1 else "tests/data/eval")
