#!/usr/bin/python3
"""The PyTorch side of bench_encoder: the same encoder workloads with
torchvision's ResNets, on the same number of threads.

    encoder_peer.py train THREADS BATCH STEPS nchw|channels_last
    encoder_peer.py encode THREADS BATCH STEPS nchw|channels_last
    encoder_peer.py serve train|encode THREADS BATCH nchw|channels_last

train:  ResNet-18 with the CIFAR stem (3x3 stride-1 first convolution, no
        max-pool), BATCH views of 3x32x32 in training mode: forward, a
        fixed upstream gradient on h, backward (every parameter's
        gradient). Reports views/s.
encode: ResNet-50 with the ImageNet stem in inference mode under
        torch.no_grad(), BATCH images of 3x224x224. Reports images/s.

Each step is timed alone. In the first two forms, after two warm-up
steps, the median of STEPS steps is printed as
"median_seconds_per_step <value>" and "items_per_second <value>".

serve keeps the model between blocks of steps, so that bench_encoder can
alternate with its own side: it builds the model, runs the two warm-up
steps and prints "ready"; then for each line "N" read from standard input
it runs N steps and prints "times t1 ... tN" (seconds per step). It ends
at the end of its input.
"""
import statistics
import sys
import time

import torch
import torchvision


def resnet18_cifar():
    model = torchvision.models.resnet18()
    model.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    model.maxpool = torch.nn.Identity()
    model.fc = torch.nn.Identity()
    return model


def resnet50():
    model = torchvision.models.resnet50()
    model.fc = torch.nn.Identity()
    return model


def make_step(mode, batch, layout):
    fmt = torch.channels_last if layout == "channels_last" \
        else torch.contiguous_format

    if mode == "train":
        model = resnet18_cifar().train().to(memory_format=fmt)
        x = torch.randn(batch, 3, 32, 32).to(memory_format=fmt)
        dh = torch.randn(batch, 512)

        def step():
            model.zero_grad(set_to_none=False)
            model(x).backward(dh)
    elif mode == "encode":
        model = resnet50().eval().to(memory_format=fmt)
        x = torch.randn(batch, 3, 224, 224).to(memory_format=fmt)

        def step():
            with torch.no_grad():
                model(x)
    else:
        sys.exit(f"encoder_peer.py: unknown workload {mode!r}")
    return step


def timed(step, steps):
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append(time.perf_counter() - t)
    return times


def serve(step):
    timed(step, 2)
    print("ready", flush=True)
    for line in sys.stdin:
        times = timed(step, int(line))
        print("times " + " ".join(f"{t:.6f}" for t in times), flush=True)


def main():
    if len(sys.argv) != 6 or sys.argv[5] not in ("nchw", "channels_last"):
        sys.exit(__doc__)
    torch.manual_seed(0)
    if sys.argv[1] == "serve":
        mode, threads, batch, layout = sys.argv[2:6]
        torch.set_num_threads(int(threads))
        serve(make_step(mode, int(batch), layout))
        return

    mode, threads, batch, steps, layout = sys.argv[1:6]
    threads, batch, steps = int(threads), int(batch), int(steps)
    torch.set_num_threads(threads)
    step = make_step(mode, batch, layout)
    timed(step, 2)
    median = statistics.median(timed(step, steps))
    print(f"median_seconds_per_step {median}")
    print(f"items_per_second {batch / median}")


if __name__ == "__main__":
    main()
