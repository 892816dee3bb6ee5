"""Time one optimizer update of the wide MLP's weights: NumPy, numexpr and PyTorch.

    python benchmarks/optimizer_updates.py [--rounds R] [--updates N] [--threads T] [--load N]
                                           [--optimizers adam,sgd,...]

The variables are those of the wide workload (784-512-512-10: three kernels and three biases,
669,706 float32 weights), with random gradients. Each optimizer's update is timed three ways:

- ``numpy``: chainrule's optimizer as ``fit`` runs it (``apply`` with the update loop that
  ``fit`` hands the optimizer, :func:`chainrule.fast.updates.in_blocks`: a dozen NumPy passes
  per cache-sized block);
- ``numexpr``: the same update as one numexpr expression per array it writes (the state, then
  the weights), each one multi-threaded pass over memory with no temporaries, on ``--threads``
  threads;
- ``torch``: ``opt.step()`` of PyTorch's optimizer, fused (``fused=True``) where PyTorch has a
  fused CPU kernel (SGD, Adam, AdamW, Adagrad), else ``foreach=True``, on ``--threads`` threads,
  in a child running the Python of its virtual environment (``CHAINRULE_BENCH_TORCH_PYTHON``,
  default ``/work/venv-torch/bin/python``).

The three take turns, ``--updates`` updates each per round over ``--rounds`` rounds, so that a
slow spell on a shared machine hits all alike; the table shows the median ms per update and the
ratios. ``--load N`` keeps N busy processes on the cores meanwhile (``benchmarks/run.py``'s).
"""

import argparse
import json
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

# Keras's name -> (chainrule class, keyword arguments, PyTorch class, PyTorch arguments).
# PyTorch's RMSprop puts ε outside the root and Keras's inside; the work is the same.
OPTIMIZERS = {
    "sgd": ("SGD", {"learning_rate": 0.01, "momentum": 0.9}, "SGD", {"lr": 0.01, "momentum": 0.9}),
    "adam": ("Adam", {}, "Adam", {"lr": 0.001}),
    "adamw": ("AdamW", {}, "AdamW", {"lr": 0.001, "weight_decay": 0.004}),
    "rmsprop": ("RMSprop", {}, "RMSprop", {"lr": 0.001, "alpha": 0.9}),
    "adagrad": ("Adagrad", {}, "Adagrad", {"lr": 0.001}),
}
FUSED_IN_TORCH = {"SGD", "Adam", "AdamW", "Adagrad"}


def numexpr_update(name, optimizer, grads, variables):
    """One update of ``variables`` by the numexpr expressions of optimizer ``name`` (its state
    read from the chainrule optimizer, so both start alike); returns a function doing it."""
    import numexpr

    f32 = np.float32

    def slot(v, key):
        return optimizer.slot(v, key)

    def adam(decay):
        def update():
            t = optimizer.iterations + 1
            lr = optimizer.learning_rate
            b1, b2 = optimizer.beta_1, optimizer.beta_2
            alpha = f32(lr * np.sqrt(1 - b2**t) / (1 - b1**t))
            c1, c2, eps = f32(1 - b1), f32(1 - b2), f32(optimizer.epsilon)
            for g, v in zip(grads, variables):
                m, s, w = slot(v, "momentum"), slot(v, "velocity"), v.data
                if decay:
                    numexpr.evaluate("w - w * d", out=w, local_dict={"w": w, "d": f32(lr * decay)})
                numexpr.evaluate("m + (g - m) * c1", out=m, local_dict=locals())
                numexpr.evaluate("s + (g * g - s) * c2", out=s, local_dict=locals())
                numexpr.evaluate("w - m * alpha / (sqrt(s) + eps)", out=w, local_dict=locals())
            optimizer.iterations += 1

        return update

    def sgd():
        mu, lr = f32(optimizer.momentum), f32(optimizer.learning_rate)
        for g, v in zip(grads, variables):
            u, w = slot(v, "momentum"), v.data
            numexpr.evaluate("u * mu - lr * g", out=u, local_dict=locals())
            numexpr.evaluate("w + u", out=w, local_dict=locals())

    def rmsprop():
        rho, c, eps = f32(optimizer.rho), f32(1 - optimizer.rho), f32(optimizer.epsilon)
        lr = f32(optimizer.learning_rate)
        for g, v in zip(grads, variables):
            s, w = slot(v, "velocity"), v.data
            numexpr.evaluate("s * rho + c * g * g", out=s, local_dict=locals())
            numexpr.evaluate("w - lr * g / sqrt(s + eps)", out=w, local_dict=locals())

    def adagrad():
        lr, eps = f32(optimizer.learning_rate), f32(optimizer.epsilon)
        for g, v in zip(grads, variables):
            s, w = slot(v, "accumulator"), v.data
            numexpr.evaluate("s + g * g", out=s, local_dict=locals())
            numexpr.evaluate("w - lr * g / sqrt(s + eps)", out=w, local_dict=locals())

    return {
        "adam": adam(0),
        "adamw": adam(optimizer.weight_decay or 0),
        "sgd": sgd,
        "rmsprop": rmsprop,
        "adagrad": adagrad,
    }[name]


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


def build(class_name, kwargs):
    """A chainrule optimizer of the wide MLP's variables, built, with fit's update loop."""
    from chainrule.fast import updates
    from chainrule.keras import optimizers
    from chainrule.keras.variables import Variable

    rng = np.random.default_rng(0)
    variables = [Variable(rng.normal(0, 0.05, s).astype(np.float32)) for s in SHAPES]
    grads = [rng.normal(0, 1e-3, s).astype(np.float32) for s in SHAPES]
    optimizer = getattr(optimizers, class_name)(**kwargs)
    optimizer.update_loop = updates.in_blocks
    optimizer.apply(grads, variables)  # builds the state
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

    import numexpr

    numexpr.set_num_threads(args.threads)
    print(
        f"numpy {np.__version__}, numexpr {numexpr.__version__} on {numexpr.nthreads} threads "
        f"(its VML: {numexpr.use_vml}), PyTorch on {args.threads} threads; "
        f"{len(os.sched_getaffinity(0))} cores, load {args.load}; "
        f"{sum(int(np.prod(s)) for s in SHAPES):,} float32 weights"
    )
    print(f"median ms per update over {args.rounds} rounds of {args.updates} updates each\n")
    print(f"{'optimizer':10} {'numpy':>8} {'numexpr':>8} {'torch':>8} {'ne/np':>7} {'ne/torch':>9}")
    with busy_processes(args.load):
        worker = TorchWorker(args.threads)
        try:
            for name in names:
                class_name, kwargs, torch_name, torch_kwargs = OPTIMIZERS[name]
                optimizer, grads, variables = build(class_name, kwargs)
                fused = numexpr_update(name, optimizer, grads, variables)
                times = {"numpy": [], "numexpr": [], "torch": []}
                for _ in range(args.rounds):
                    times["numpy"].append(
                        timed(lambda: optimizer.apply(grads, variables), args.updates)
                    )
                    times["numexpr"].append(timed(fused, args.updates))
                    times["torch"].append(worker.median(torch_name, torch_kwargs, args.updates))
                ms = {k: 1e3 * statistics.median(v) for k, v in times.items()}
                print(
                    f"{name:10} {ms['numpy']:8.3f} {ms['numexpr']:8.3f} {ms['torch']:8.3f} "
                    f"{ms['numexpr'] / ms['numpy']:7.2f} {ms['numexpr'] / ms['torch']:9.2f}",
                    flush=True,
                )
        finally:
            worker.close()


if __name__ == "__main__":
    main()
