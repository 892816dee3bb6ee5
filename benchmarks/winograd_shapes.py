"""Time 3 x 3 convolutions by Winograd's algorithm against the im2col products, shape by shape.

    python benchmarks/winograd_shapes.py [--turns N] [--batch B] [--threads T]

For each shape of ``SHAPES`` (those of the table in ``chainrule/fast/winograd.py``), the kernels
that ``fit`` runs for a convolution without a pooling after it (``conv2d``,
``conv2d_backprop_input`` and ``conv2d_backprop_kernel`` of ``chainrule.fast.kernels``) on a random
float32 batch, once with Winograd's algorithm for every shape (its channel thresholds set to 1)
and once with the im2col products alone, the two taking turns ``--turns`` times, each going
first every other turn, so that a slow spell on a shared machine hits both alike. The table
shows the median ms of each and the ratio. ``--threads 1`` (the default) runs the BLAS library
on one thread; more runs the batch cut over that many of chainrule's threads, as ``fit`` does.
Numba must be installed (``chainrule[fast]``): without it both settings run the im2col products.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import numpy_blas  # noqa: E402

from chainrule.fast import kernels, threads, winograd  # noqa: E402

SHAPES = [  # (height, width, channels, filters, padding)
    (32, 32, 8, 32, "same"),
    (32, 32, 16, 32, "same"),
    (32, 32, 32, 32, "same"),
    (16, 16, 64, 64, "same"),
    (8, 8, 128, 128, "same"),
    (30, 30, 32, 64, "valid"),
]
OPS = ("forward", "input gradient", "kernel gradient")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10, help="turns of each setting (10)")
    parser.add_argument("--batch", type=int, default=64, help="images per batch (64)")
    parser.add_argument("--threads", type=int, default=1, help="threads (1)")
    args = parser.parse_args()
    if min(args.turns, args.batch, args.threads) < 1:
        parser.error("--turns, --batch and --threads must be at least 1")
    return args


def shape_ops(batch, shape, rng):
    """(name, function of no arguments) for the three kernels of one convolution."""
    h, w, channels, filters, padding = shape
    x = rng.standard_normal((batch, h, w, channels)).astype(np.float32)
    kernel = rng.standard_normal((3, 3, channels, filters)).astype(np.float32)
    bias = np.zeros(filters, np.float32)
    y = kernels.FORWARDS["conv2d"](x, kernel, bias, padding=padding)
    g = rng.standard_normal(y.shape).astype(np.float32)
    return [
        ("forward", lambda: kernels.FORWARDS["conv2d"](x, kernel, bias, padding=padding)),
        (
            "input gradient",
            lambda: kernels.FORWARDS["conv2d_backprop_input"](
                g, kernel, input_shape=x.shape, padding=padding
            ),
        ),
        (
            "kernel gradient",
            lambda: kernels.FORWARDS["conv2d_backprop_kernel"](
                x, g, kernel_shape=kernel.shape, padding=padding
            ),
        ),
    ]


def use_winograd(on):
    """Winograd's algorithm for every shape (on), or for none."""
    channels = 1 if on else 1 << 30
    winograd.FROM_CHANNELS = winograd.GRADIENTS_FROM_CHANNELS = channels


def measure(args):
    """{(shape, op, setting): [seconds]}"""
    rng = np.random.default_rng(0)
    times = {}
    for shape in SHAPES:
        ops = shape_ops(args.batch, shape, rng)
        for on in (True, False):  # once each, outside the timing (Numba compiles on first use)
            use_winograd(on)
            for _, op in ops:
                op()
        for turn in range(args.turns):
            for on in (True, False) if turn % 2 else (False, True):
                use_winograd(on)
                for name, op in ops:
                    began = time.perf_counter()
                    op()
                    times.setdefault((shape, name, on), []).append(time.perf_counter() - began)
    return times


def main():
    args = parse_args()
    os.environ["CHAINRULE_NUM_THREADS"] = str(args.threads)
    if args.threads == 1:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(1, user_api="blas")
    else:
        limits = threads.using_cores()
    with limits:
        times = measure(args)
    blas = numpy_blas()
    print(
        f"NumPy {blas['numpy']} ({blas['blas']} {blas['blas_version']}); batch {args.batch}, "
        f"{args.threads} thread(s), {args.turns} turns; median ms, Winograd / im2col"
    )
    print("\n| convolution | " + " | ".join(OPS) + " |\n|---|--:|--:|--:|")
    for shape in SHAPES:
        h, w, channels, filters, padding = shape
        cells = []
        for name in OPS:
            on, off = (statistics.median(times[shape, name, s]) * 1e3 for s in (True, False))
            cells.append(f"{on:.2f} / {off:.2f} ({on / off:.2f})")
        print(f"| {h} x {w} x {channels} to {filters}, {padding} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
