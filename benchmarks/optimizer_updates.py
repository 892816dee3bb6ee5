"""Time one optimizer update of the wide MLP's weights: NumPy, the fused kernel and PyTorch.

    python benchmarks/optimizer_updates.py [--rounds R] [--updates N] [--threads T] [--load N]
                                           [--optimizers adam,sgd,...]

The variables are those of the wide workload (784-512-512-10: three kernels and three biases,
669,706 float32 weights), with random gradients. Each optimizer's update is timed three ways:

- ``numpy``: chainrule's optimizer as ``fit`` runs it without Numba (:func:`numpy_update`:
  ``update_step`` a cache-sized block at a time, a dozen NumPy passes per block);
- ``fused``: as ``fit`` runs it with Numba installed (:func:`chainrule.fast.updates.update`: the
  compiled kernel of :mod:`chainrule.fast.fused`, one pass, in the calling thread; the biases,
  under ``FUSED_FROM`` elements, in NumPy);
- ``torch``: ``opt.step()`` of PyTorch's optimizer, fused (``fused=True``) where PyTorch has a
  fused CPU kernel (SGD, Adam, AdamW, Adagrad), else ``foreach=True``, on ``--threads`` threads,
  in a child running the Python of its virtual environment (``CHAINRULE_BENCH_TORCH_PYTHON``,
  default ``/work/venv-torch/bin/python``).

The three take turns, ``--updates`` updates each per round over ``--rounds`` rounds, so that a
slow spell on a shared machine hits all alike; the table shows the median ms per update and the
ratios. ``--load N`` keeps N busy processes on the cores meanwhile (``benchmarks/run.py``'s).
NumPy's and the kernel's updates run on one thread whatever ``--threads`` says (only PyTorch's
use more); ``--threads`` also sets the BLAS library's threads, which these updates do not use.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import busy_processes  # noqa: E402

TORCH_PYTHON = os.environ.get("CHAINRULE_BENCH_TORCH_PYTHON", "/work/venv-torch/bin/python")
SHAPES = [(784, 512), (512,), (512, 512), (512,), (512, 10), (10,)]

# Keras's name -> (chainrule class, keyword arguments, PyTorch class, PyTorch arguments); None
# where PyTorch has no such optimizer. PyTorch's RMSprop puts ε outside the root and Keras's
# inside, and its NAdam's momentum schedule is Dozat's with another decay; the work is alike.
OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.01, "momentum": 0.9}, "SGD", {"lr": 0.01, "momentum": 0.9}),
    "adam": ("Adam", {}, "Adam", {"lr": 0.001}),
    "adamw": ("AdamW", {}, "AdamW", {"lr": 0.001, "weight_decay": 0.004}),
    "rmsprop": ("RMSprop", {}, "RMSprop", {"lr": 0.001, "alpha": 0.9}),
    "adagrad": ("Adagrad", {}, "Adagrad", {"lr": 0.001}),
    "adadelta": ("Adadelta", {}, "Adadelta", {"lr": 0.001, "rho": 0.95, "eps": 1e-7}),
    "adamax": ("Adamax", {}, "Adamax", {"lr": 0.001}),
    "nadam": ("Nadam", {}, "NAdam", {"lr": 0.001}),
    "ftrl": ("Ftrl", {}, None, None),
    "lion": ("Lion", {}, None, None),
}
FUSED_IN_TORCH = {"SGD", "Adam", "AdamW", "Adagrad"}


TORCH_WORKER = r"""
import json, statistics, sys, time
import torch
shapes, threads = json.loads(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
g = torch.Generator().manual_seed(0)
params = [torch.nn.Parameter(torch.randn(s, generator=g) * 0.05) for s in shapes]
for p in params:
    p.grad = torch.randn(p.shape, generator=g) * 1e-3
optimizers = {}
for line in sys.stdin:
    name, kwargs, fused, n = json.loads(line)
    if name not in optimizers:
        opt_class = getattr(torch.optim, name)
        extra = {"fused": True} if fused else {"foreach": True}
        optimizers[name] = opt_class(params, **kwargs, **extra)
        optimizers[name].step()
    opt = optimizers[name]
    times = []
    with torch.no_grad():
        for _ in range(n):
            start = time.perf_counter()
            opt.step()
            times.append(time.perf_counter() - start)
    print(json.dumps(statistics.median(times)), flush=True)
"""


class TorchWorker:
    """PyTorch's updates in a child process, timed there on request."""

    def __init__(self, threads):
        self.process = subprocess.Popen(
            [TORCH_PYTHON, "-c", TORCH_WORKER, json.dumps(SHAPES), str(threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def median(self, name, kwargs, n):
        request = [name, kwargs, name in FUSED_IN_TORCH, n]
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the PyTorch worker ended; see its error above")
        return json.loads(line)

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=30)


def timed(function, n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def numpy_update(optimizer, grads, variables, learning_rate):
    """fit's update loop as it runs without Numba: ``update_step``, a large variable one block
    at a time (chainrule.fast.updates.update_in_blocks)."""
    from chainrule.fast import updates

    for g, v in zip(grads, variables):
        updates.update_in_blocks(optimizer.update_step, g, v, learning_rate)


def build(class_name, kwargs, update_loop):
    """A chainrule optimizer of the wide MLP's variables, built and compiled, with the update
    loop given (one of ``chainrule.fast.updates``')."""
    from chainrule.keras import optimizers
    from chainrule.keras.variables import Variable

    rng = np.random.default_rng(0)
    variables = [Variable(rng.normal(0, 0.05, s).astype(np.float32)) for s in SHAPES]
    grads = [rng.normal(0, 1e-3, s).astype(np.float32) for s in SHAPES]
    optimizer = getattr(optimizers, class_name)(**kwargs)
    optimizer.update_loop = update_loop
    optimizer.apply(grads, variables)  # builds the state (and compiles a kernel)
    return optimizer, grads, variables


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--updates", type=int, default=30, help="updates per system per round")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--load", type=int, default=0, help="busy processes meanwhile")
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    args = parser.parse_args()
    names = args.optimizers.split(",")
    unknown = sorted(set(names) - set(OPTIMIZERS))
    if unknown:
        parser.error(f"unknown optimizers {unknown}; known: {sorted(OPTIMIZERS)}")

    import numba
    from threadpoolctl import threadpool_limits

    from chainrule.fast import fused, updates

    if fused.compiled() is None:
        sys.exit("the fused kernels need Numba: pip install 'chainrule[fast]'")
    print(
        f"numpy {np.__version__}, numba {numba.__version__}, PyTorch on {args.threads} threads; "
        f"{len(os.sched_getaffinity(0))} cores, load {args.load}; "
        f"{sum(int(np.prod(s)) for s in SHAPES):,} float32 weights"
    )
    print(f"median ms per update over {args.rounds} rounds of {args.updates} updates each\n")
    print(f"{'optimizer':10} {'numpy':>8} {'fused':>8} {'torch':>8} {'fu/np':>7} {'fu/torch':>9}")
    with busy_processes(args.load), threadpool_limits(args.threads, user_api="blas"):
        worker = TorchWorker(args.threads)
        try:
            for name in names:
                class_name, kwargs, torch_name, torch_kwargs = OPTIMIZERS[name]
                systems = {
                    "numpy": build(class_name, kwargs, numpy_update),
                    "fused": build(class_name, kwargs, updates.update),
                }
                times = {"numpy": [], "fused": [], "torch": []}
                for _ in range(args.rounds):
                    for system, (optimizer, grads, variables) in systems.items():
                        times[system].append(
                            timed(lambda: optimizer.apply(grads, variables), args.updates)
                        )
                    if torch_name is not None:
                        times["torch"].append(worker.median(torch_name, torch_kwargs, args.updates))
                ms = {k: 1e3 * statistics.median(v) if v else math.nan for k, v in times.items()}
                print(
                    f"{name:10} {ms['numpy']:8.3f} {ms['fused']:8.3f} {ms['torch']:8.3f} "
                    f"{ms['fused'] / ms['numpy']:7.2f} {ms['fused'] / ms['torch']:9.2f}",
                    flush=True,
                )
        finally:
            worker.close()


if __name__ == "__main__":
    main()
