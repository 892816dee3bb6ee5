"""Time the MNIST convnet's convolution ops with their products in chunks of images and whole.

    python benchmarks/conv_chunks.py [--turns N] [--batch B] [--threads T] [--chunk E]

The keras-io convnet's two conv-pool blocks, as ``fit`` runs them (``chainrule.fast.tiled``:
each convolution in its max pooling's layout, and the block's gradients in one call), on a
random batch of ``--batch`` images (default 128), cut over ``--threads`` threads (default every
CPU, as ``fit`` inside ``threads.using_cores``):

- ``conv1``, ``conv2``: the forward of each layer (28 x 28 x 1 to 32 channels, 13 x 13 x 32 to
  64), ``conv2d_tiled``;
- ``grad1``: the first block's kernel and bias gradients; ``grad2``: the second block's input,
  kernel and bias gradients (``tiled_conv_gradients``).

Each op runs with ``kernels.PRODUCT_CHUNK`` as set (``--chunk`` changes it) and with the whole
of each thread's part in one chunk (2**40), the two taking turns ``--turns`` times, each going
first every other turn, so that a slow spell on a shared machine hits both alike. The table
shows the median ms and the ratio. Products are cut only where chainrule's threads run them
(``kernels.product_chunks``): with ``--threads 1`` both settings run the same code, which
shows the noise of the machine.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chainrule.fast import kernels, process, threads, tiled  # noqa: E402

WHOLE = 1 << 40  # elements: every thread's part in one chunk


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=40, help="turns of each setting (40)")
    parser.add_argument("--batch", type=int, default=128, help="images per batch (128)")
    parser.add_argument("--threads", type=int, default=None, help="threads (every CPU)")
    parser.add_argument(
        "--chunk",
        type=int,
        default=kernels.PRODUCT_CHUNK,
        help=f"elements per chunk (default kernels.PRODUCT_CHUNK, {kernels.PRODUCT_CHUNK})",
    )
    args = parser.parse_args()
    if args.turns < 1 or args.batch < 1 or args.chunk < 1:
        parser.error("--turns, --batch and --chunk must be at least 1")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be at least 1; got {args.threads}")
    return args


def convnet_ops(batch, rng):
    """{name: function of no arguments} for the convnet's conv-pool blocks on ``batch`` images."""
    x = rng.random((batch, 28, 28, 1), dtype=np.float32)
    k1 = rng.standard_normal((3, 3, 1, 32)).astype(np.float32) * 0.3
    k2 = rng.standard_normal((3, 3, 32, 64)).astype(np.float32) * 0.1
    b1, b2 = np.zeros(32, np.float32), np.zeros(64, np.float32)
    t1 = tiled.conv2d_tiled(x, k1, b1, tiles=(2, 2))
    y1 = tiled.tile_max(t1, relu=True)
    t2 = tiled.conv2d_tiled(y1, k2, b2, tiles=(2, 2))
    y2 = tiled.tile_max(t2, relu=True)
    g1 = rng.standard_normal(y1.shape).astype(np.float32)
    g2 = rng.standard_normal(y2.shape).astype(np.float32)
    block = {"tiles": (2, 2), "relu": True}
    return {
        "conv1": lambda: tiled.conv2d_tiled(x, k1, b1, tiles=(2, 2)),
        "conv2": lambda: tiled.conv2d_tiled(y1, k2, b2, tiles=(2, 2)),
        "grad1": lambda: tiled.tiled_conv_gradients(
            g1, y1, t1, x, k1, wrt=("kernel", "bias"), **block
        ),
        "grad2": lambda: tiled.tiled_conv_gradients(
            g2, y2, t2, y1, k2, wrt=("x", "kernel", "bias"), **block
        ),
    }


def main():
    args = parse_args()
    if args.threads is not None:
        os.environ["CHAINRULE_NUM_THREADS"] = str(args.threads)
    settings = {"chunked": args.chunk, "whole": WHOLE}
    times = {}
    with threads.using_cores(), process.keep_freed_memory():
        ops = convnet_ops(args.batch, np.random.default_rng(0))
        for name, op in ops.items():  # once each, outside the timing
            op()
        for turn in range(args.turns):
            order = list(settings.items())
            for setting, chunk in order if turn % 2 else order[::-1]:  # each first in turn
                kernels.PRODUCT_CHUNK = chunk
                for name, op in ops.items():
                    began = time.perf_counter()
                    op()
                    times.setdefault((name, setting), []).append(time.perf_counter() - began)
        count = threads.parts()
    print(
        f"batch {args.batch}, {count} thread(s), chunks of {args.chunk} elements and at least "
        f"{kernels.PRODUCT_ROWS} pixels, {args.turns} turns; median ms"
    )
    print("\n| op | chunked | whole | chunked / whole |\n|---|--:|--:|--:|")
    for name in ops:
        chunked, whole = (statistics.median(times[name, s]) * 1e3 for s in settings)
        print(f"| {name} | {chunked:.3f} | {whole:.3f} | {chunked / whole:.2f} |")


if __name__ == "__main__":
    main()
