#!/usr/bin/python3
"""Where the encoder's time goes: oneDNN's verbose log, summed per
primitive kind and direction.

    DNNL_VERBOSE=1 build/bench/bench_encoder --side ours --steps 1 \\
        --blocks 1 > verbose.log        # ONEDNN_VERBOSE=1 for oneDNN 3.x
    bench/verbose_summary.py verbose.log

Reads the "exec" lines oneDNN prints in verbose mode (dnnl_verbose,exec,
... for 2.x; onednn_verbose,[primitive,]exec,... for 3.x), whose last field
is the primitive's run time in milliseconds, and prints one table per
workload: calls and milliseconds per step for each kind (convolution,
batch_normalization, reorder, eltwise, pooling, sum, ...) and direction
(forward_training, backward_data, backward_weights, ...), sorted by time,
with the implementations seen. Only the lines between bench_encoder's
"bench_encoder: begin WORKLOAD STEPS" and "bench_encoder: end WORKLOAD"
count, so warm-up steps are left out; a log without those lines is summed
whole, as one step.
"""
import collections
import sys


def parse_exec(line):
    """(kind, direction, implementation, ms) of an exec line, or None."""
    fields = line.rstrip("\n").split(",")
    if not fields[0].endswith("_verbose") or "exec" not in fields[:4]:
        return None
    i = fields.index("exec")
    if len(fields) < i + 6:
        return None
    try:
        ms = float(fields[-1])
    except ValueError:
        return None
    kind, impl, direction = fields[i + 2], fields[i + 3], fields[i + 4]
    return kind, direction if direction != "undef" else "-", impl, ms


def read_sections(lines):
    """{workload: (steps, [(kind, direction, impl, ms), ...])}"""
    sections = collections.OrderedDict()
    marked = any(line.startswith("bench_encoder: begin ") for line in lines)
    current = None if marked else "whole log"
    if not marked:
        sections[current] = [1, []]
    for line in lines:
        if line.startswith("bench_encoder: begin "):
            _, _, work, steps = line.split()
            current = work
            sections.setdefault(work, [0, []])[0] += int(steps)
        elif line.startswith("bench_encoder: end "):
            current = None
        elif current is not None:
            record = parse_exec(line)
            if record:
                sections[current][1].append(record)
    return sections


def print_section(work, steps, records):
    calls = collections.Counter()
    total = collections.Counter()
    impls = collections.defaultdict(collections.Counter)
    for kind, direction, impl, ms in records:
        calls[kind, direction] += 1
        total[kind, direction] += ms
        impls[kind, direction][impl] += ms
    whole = sum(total.values())
    print(f"{work}: {steps} step(s), oneDNN primitives "
          f"{whole / steps:.1f} ms per step")
    print(f"  {'kind':<22}{'direction':<18}{'calls/step':>11}"
          f"{'ms/step':>10}{'share':>8}  implementations (by time)")
    for key, ms in total.most_common():
        names = " ".join(name for name, _ in impls[key].most_common())
        print(f"  {key[0]:<22}{key[1]:<18}{calls[key] / steps:>11.0f}"
              f"{ms / steps:>10.1f}{100 * ms / whole:>7.1f}%  {names}")
    print()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        lines = f.readlines()
    sections = read_sections(lines)
    if not any(records for _, records in sections.values()):
        sys.exit("verbose_summary.py: no oneDNN exec lines in "
                 f"{sys.argv[1]} (was DNNL_VERBOSE=1 or ONEDNN_VERBOSE=1 "
                 "set?)")
    for work, (steps, records) in sections.items():
        print_section(work, steps, records)


if __name__ == "__main__":
    main()
