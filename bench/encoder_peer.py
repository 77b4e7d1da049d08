#!/usr/bin/python3
"""The PyTorch side of bench_encoder: the same encoder workloads with
torchvision's ResNets, on the same number of threads.

    encoder_peer.py train THREADS BATCH STEPS nchw|channels_last
    encoder_peer.py encode THREADS BATCH STEPS nchw|channels_last

train:  ResNet-18 with the CIFAR stem (3x3 stride-1 first convolution, no
        max-pool), BATCH views of 3x32x32 in training mode: forward, a
        fixed upstream gradient on h, backward (every parameter's
        gradient). Reports views/s.
encode: ResNet-50 with the ImageNet stem in inference mode under
        torch.no_grad(), BATCH images of 3x224x224. Reports images/s.

Each step is timed alone; after two warm-up steps the median of STEPS
steps is printed as one line: "median_seconds_per_step <value>".
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


def main():
    mode, threads, batch, steps, layout = sys.argv[1:6]
    threads, batch, steps = int(threads), int(batch), int(steps)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    fmt = torch.channels_last if layout == "channels_last" \
        else torch.contiguous_format

    if mode == "train":
        model = resnet18_cifar().train().to(memory_format=fmt)
        x = torch.randn(batch, 3, 32, 32).to(memory_format=fmt)
        dh = torch.randn(batch, 512)

        def step():
            model.zero_grad(set_to_none=False)
            model(x).backward(dh)
    else:
        model = resnet50().eval().to(memory_format=fmt)
        x = torch.randn(batch, 3, 224, 224).to(memory_format=fmt)

        def step():
            with torch.no_grad():
                model(x)

    times = []
    for i in range(steps + 2):
        t = time.perf_counter()
        step()
        if i >= 2:
            times.append(time.perf_counter() - t)
    print(f"median_seconds_per_step {statistics.median(times)}")


if __name__ == "__main__":
    main()
