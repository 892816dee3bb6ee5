"""Time one training step of a recurrent and an attention model: chainrule against PyTorch.

    python benchmarks/sequences.py [--workload lstm|mha|all] [--steps N] [--warmup W]
                                   [--threads N] [--fixed-threads]

Workloads (float32, random data, mean squared error, Adam at 1e-3):

- ``lstm``: inputs (64, 200, 32) → LSTM(128) → Dense(1); PyTorch: ``nn.LSTM(32, 128,
  batch_first=True)`` and ``nn.Linear(128, 1)`` on the last step's output.
- ``mha``: inputs (32, 128, 256) → MultiHeadAttention(num_heads=4, key_dim=64) on (x, x), the
  target of the shape of its output; PyTorch: ``nn.MultiheadAttention(256, 4,
  batch_first=True)``, the same four projections with biases.

A step is the whole of training on one batch: forward, loss, backward and the optimizer's update
(chainrule: a step of ``model.fit`` over copies of the one batch, timed by a callback; PyTorch:
``zero_grad``, ``loss.backward()``, ``opt.step()``). chainrule runs in this interpreter, PyTorch
in a child with the Python of its virtual environment (``CHAINRULE_BENCH_TORCH_PYTHON``, default
``/work/venv-torch/bin/python``). The two take turns a few steps at a time, so that a slow spell
on a shared machine hits both alike: chainrule trains in one ``fit`` and PyTorch's turns run
between its steps (in the callback, outside the timed steps). Both get the same number of
threads (``--threads``, default: the cores), printed with NumPy's BLAS; ``fit`` chooses between
all of them and one by timing its steps, as it does for a user, unless ``--fixed-threads``
fixes it (``CHAINRULE_NUM_THREADS``). After a first ``fit`` of one step, which traces the
training step (its time is the table's last column), and ``--warmup`` steps each, the table
shows the median ms/step over ``--steps`` steps and chainrule's over PyTorch's.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TORCH_PYTHON = os.environ.get("CHAINRULE_BENCH_TORCH_PYTHON", "/work/venv-torch/bin/python")
TURN = 5  # steps each system takes before the other's turn

# name -> the shapes of the workload, and the upper limit of chainrule's ms/step over PyTorch's
WORKLOADS = {
    "lstm": {"batch": 64, "steps": 200, "features": 32, "units": 128, "limit": 1.0},
    "mha": {"batch": 32, "length": 128, "heads": 4, "key_dim": 64, "limit": 1.5},
}


def data(name, rng):
    """The batch (x, y) of the workload, float32."""
    import numpy as np

    config = WORKLOADS[name]
    if name == "lstm":
        x = rng.standard_normal((config["batch"], config["steps"], config["features"]))
        y = rng.standard_normal((config["batch"], 1))
    else:
        width = config["heads"] * config["key_dim"]
        x = rng.standard_normal((config["batch"], config["length"], width))
        y = rng.standard_normal((config["batch"], config["length"], width))
    return x.astype(np.float32), y.astype(np.float32)


def chainrule_model(name, x):
    """The workload's chainrule model, compiled, for inputs like ``x``."""
    import chainrule.keras as keras

    config = WORKLOADS[name]
    if name == "lstm":
        model = keras.Sequential(
            [keras.Input(x.shape[1:]), keras.layers.LSTM(config["units"]), keras.layers.Dense(1)]
        )
    else:
        inputs = keras.Input(x.shape[1:])
        attention = keras.layers.MultiHeadAttention(config["heads"], config["key_dim"])
        model = keras.Model(inputs, attention(inputs, inputs))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    return model


def fit_in_turns(model, x, y, steps, after_step):
    """One ``fit`` over ``steps`` copies of the batch (x, y); ``after_step(step, seconds)``
    is called after each step with its time, outside it (the other system's turn runs there)."""
    import numpy as np

    import chainrule.keras as keras

    class Turns(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.began = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            after_step(batch, time.perf_counter() - self.began)

    xs, ys = np.concatenate([x] * steps), np.concatenate([y] * steps)
    model.fit(xs, ys, batch_size=len(x), epochs=1, shuffle=False, verbose=0, callbacks=[Turns()])


def torch_step(name, x, y, threads):
    """A function running one PyTorch training step on (x, y) (in the child's interpreter)."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    config = WORKLOADS[name]
    x, y = torch.from_numpy(x), torch.from_numpy(y)
    if name == "lstm":
        lstm = nn.LSTM(x.shape[-1], config["units"], batch_first=True)
        dense = nn.Linear(config["units"], 1)
        parameters = [*lstm.parameters(), *dense.parameters()]

        def forward():
            sequence, _ = lstm(x)
            return dense(sequence[:, -1])
    else:
        width = config["heads"] * config["key_dim"]
        attention = nn.MultiheadAttention(width, config["heads"], batch_first=True)
        parameters = list(attention.parameters())

        def forward():
            return attention(x, x, x, need_weights=False)[0]

    optimizer = torch.optim.Adam(parameters, lr=1e-3)

    def step():
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(forward(), y)
        loss.backward()
        optimizer.step()

    return step


def timed(step, count):
    """The seconds of each of ``count`` calls of ``step``."""
    seconds = []
    for _ in range(count):
        began = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - began)
    return seconds


def serve_torch(name, threads, seed):
    """The child's loop: read a number of steps from stdin, answer their times as JSON."""
    import numpy as np
    import torch

    step = torch_step(name, *data(name, np.random.default_rng(seed)), threads)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        print(json.dumps(timed(step, int(line))), flush=True)


class TorchChild:
    """PyTorch's side, in its own interpreter: ``run(n)`` returns the times of n steps."""

    def __init__(self, name, threads, seed):
        command = [TORCH_PYTHON, __file__, "--serve-torch", name, "--threads", str(threads)]
        command += ["--seed", str(seed)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_env(threads)
        )
        self.info = json.loads(self.process.stdout.readline())

    def run(self, count):
        self.process.stdin.write(f"{count}\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def _env(threads, fixed=False):
    env = dict(os.environ)
    keys = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]
    for key in keys + ["CHAINRULE_NUM_THREADS"] * fixed:
        env[key] = str(threads)
    return env


def compare(name, args):
    """Median ms/step of chainrule and PyTorch on the workload, alternating turns: chainrule
    trains in one ``fit`` (as a user's, which chooses every core or one by timing its steps,
    unless ``--fixed-threads``), and PyTorch's turns run between its steps."""
    import numpy as np

    torch_child = TorchChild(name, args.threads, args.seed)
    x, y = data(name, np.random.default_rng(args.seed))
    began = time.perf_counter()
    model = chainrule_model(name, x)
    fit_in_turns(model, x, y, 1, lambda step, seconds: None)
    first = time.perf_counter() - began
    times = {"chainrule": [], "torch": []}

    def after_step(step, seconds):
        if step >= args.warmup:
            times["chainrule"].append(seconds)
        done = step + 1 - args.warmup
        if done == 0:
            torch_child.run(args.warmup)
        elif done > 0 and (done % TURN == 0 or done == args.steps):
            times["torch"] += torch_child.run(TURN if done % TURN == 0 else done % TURN)

    fit_in_turns(model, x, y, args.warmup + args.steps, after_step)
    torch_child.close()
    medians = {system: 1000 * statistics.median(seconds) for system, seconds in times.items()}
    return medians, first, torch_child.info


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=[*WORKLOADS, "all"], default="all")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per system")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per system first")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument(
        "--fixed-threads",
        action="store_true",
        help="chainrule's fit on --threads threads always (CHAINRULE_NUM_THREADS), not its choice",
    )
    parser.add_argument(
        "--limit",
        type=float,
        help="the upper limit of the ratio for every workload, in place of each one's own "
        "(run.py --load passes its limit for a loaded machine)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--serve-torch", metavar="WORKLOAD", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_torch:
        serve_torch(args.serve_torch, args.threads, args.seed)
        return
    for key, value in _env(args.threads, args.fixed_threads).items():
        os.environ[key] = value  # before NumPy loads OpenBLAS
    sys.path.insert(0, str(HERE))
    from common import numpy_blas

    blas = numpy_blas()
    print(
        f"NumPy {blas['numpy']} ({blas['blas']} {blas['blas_version']}, runtime "
        f"{blas['runtime']}); threads: {args.threads} for both"
        f"{'' if args.fixed_threads else ' (chainrule: fit chooses every core or one by timing)'}; "
        f"{args.steps} timed steps after {args.warmup} of warm-up, turns of {TURN}"
    )
    names = list(WORKLOADS) if args.workload == "all" else [args.workload]
    print(f"{'workload':9} {'chainrule ms':>13} {'torch ms':>9} {'ratio':>6} {'limit':>6}  first")
    for name in names:
        medians, first, info = compare(name, args)
        ratio = medians["chainrule"] / medians["torch"]
        limit = args.limit or WORKLOADS[name]["limit"]
        print(
            f"{name:9} {medians['chainrule']:13.1f} {medians['torch']:9.1f} {ratio:6.2f} "
            f"{limit:6.2f}  {first:.1f} s (torch {info['torch']}, "
            f"{info['threads']} threads)",
            flush=True,
        )


if __name__ == "__main__":
    main()
