"""Data-parallel scaling on this machine: compute and communication per training step.

    python benchmarks/distributed.py [--workloads wide,convnet] [--repeat 2] [--json FILE]

Trains the wide MLP (784-512-512-10, Adam, batch 128) and the keras-io convnet (Adam, batch 128)
for a few hundred steps under ``MultiWorkerMirroredStrategy`` in three set-ups, the repeats going
round them in turn:

- one process using every core (chainrule's threads and the BLAS library's as they choose);
- one process on one thread (``OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=CHAINRULE_NUM_THREADS=1``);
- two ranks (``mpiexec -n 2``), each on one thread, at the same global batch of 128.

Each step is timed by a callback; the time spent inside the gradients' Allreduce (waiting for
the other rank included) is timed apart, and compute is the rest. The first steps (tracing,
warm-up) are left out of the medians. A separate two-rank job times an in-place Allreduce of
8 bytes to 8 MB (the fastest of 30 each) and fits the ring model t = 2(p-1) a + 2(p-1)/p b / B
(p = 2) for the local latency a and bandwidth B; the script then predicts the speed-up on N machines (see
docs/distributed.md). Other processes share the CPUs, so the numbers are noisy: compare the
medians of one run, not runs made at different times.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from common import DEFAULT_DATA, WORKLOADS, load_mnist
from convnet import convnet_model
from keras_program import build_model
from run import describe_machine

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BATCH_SIZE = 128
DEFAULT_STEPS = {"wide": 300, "convnet": 80}
WARM_UP_STEPS = 10
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "CHAINRULE_NUM_THREADS": "1"}
SETUPS = (  # (name, ranks, thread settings)
    ("1 process, all cores", 1, {}),
    ("1 process, 1 thread", 1, ONE_THREAD),
    ("2 ranks, 1 thread each", 2, ONE_THREAD),
)
ALLREDUCE_BYTES = [8, 1 << 10, 1 << 14, 1 << 17, 1 << 20, 1 << 21, 1 << 22, 1 << 23]
MACHINES = (2, 4, 8, 16)
LINKS_GBIT = (10, 25, 100)


# ----- in the ranks ------------------------------------------------------------------------------


def train_steps(workload, steps, out):
    """Train ``steps`` steps of ``workload`` under the strategy; rank 0 writes each step's
    seconds and the seconds inside the gradients' Allreduce to ``out`` (JSON)."""
    import chainrule as tf
    import chainrule.distributed as dist
    import chainrule.keras as keras
    from chainrule.distributed import comm

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    data = load_mnist(DEFAULT_DATA)
    rows = steps * BATCH_SIZE
    x, y = data["x_train"][:rows], data["y_train"][:rows]
    with strategy.scope():
        if workload == "convnet":
            x = x.reshape(-1, 28, 28, 1)
            model = convnet_model(keras, seed=0)
        else:
            model = build_model(keras, WORKLOADS[workload], seed=0)

    inside_allreduce = [0.0]
    allreduce = comm.allreduce

    def timed_allreduce(*args, **kwargs):
        start = time.perf_counter()
        try:
            return allreduce(*args, **kwargs)
        finally:
            inside_allreduce[0] += time.perf_counter() - start

    comm.allreduce = timed_allreduce
    step_seconds, allreduce_seconds = [], []

    class StepClock(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.started, self.allreduced = time.perf_counter(), inside_allreduce[0]

        def on_train_batch_end(self, batch, logs=None):
            step_seconds.append(time.perf_counter() - self.started)
            allreduce_seconds.append(inside_allreduce[0] - self.allreduced)

    model.fit(
        x, y, batch_size=BATCH_SIZE, epochs=1, shuffle=False, verbose=0, callbacks=[StepClock()]
    )
    if dist.is_primary():
        gradient_bytes = sum(int(np.prod(w.shape)) * 4 for w in model.trainable_weights)
        record = {"step": step_seconds, "allreduce": allreduce_seconds, "bytes": gradient_bytes}
        Path(out).write_text(json.dumps(record))


def time_allreduce(out, repeats=30):
    """Rank 0 writes the fastest of ``repeats`` in-place float32 Allreduces per size (JSON):
    the time of one not delayed by other processes on the CPUs."""
    import chainrule.distributed as dist
    from chainrule.distributed import comm

    dist.init()
    world, mpi = comm._comm(), comm.MPI
    fastest = {}
    for nbytes in ALLREDUCE_BYTES:
        buffer = np.ones(nbytes // 4, np.float32)
        seconds = []
        for _ in range(repeats):
            dist.barrier()
            start = time.perf_counter()
            world.Allreduce(mpi.IN_PLACE, buffer, op=mpi.SUM)
            seconds.append(time.perf_counter() - start)
        fastest[nbytes] = min(seconds)
    if dist.is_primary():
        Path(out).write_text(json.dumps(fastest))


# ----- the launcher --------------------------------------------------------------------------------


def run_ranks(ranks, settings, *args):
    """Run this script with ``args`` in ``ranks`` processes (mpiexec for more than one)."""
    command = [sys.executable, str(Path(__file__).resolve()), *map(str, args)]
    if ranks > 1:
        mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent))
        command = [mpiexec or "mpiexec", "-n", str(ranks), *command]
    env = {k: v for k, v in os.environ.items() if k not in ONE_THREAD}
    env.update(settings)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT)])
    subprocess.run(command, env=env, check=True)


def fit_ring_model(fastest):
    """(a, B): latency per message (s) and bandwidth (bytes/s) of t = 2a + b/B, the two-rank
    ring Allreduce: a from the smallest message, B the median over messages of 1 MiB and more
    of b / (t - 2a)."""
    smallest = min(fastest)
    latency = fastest[smallest] / 2
    large = [b / (t - 2 * latency) for b, t in fastest.items() if b >= 1 << 20 and t > 2 * latency]
    return latency, statistics.median(large)


def ring_seconds(machines, nbytes, latency, bandwidth):
    """t_comm = 2(p-1) a + 2(p-1)/p b / B."""
    p = machines
    return 2 * (p - 1) * latency + 2 * (p - 1) / p * nbytes / bandwidth


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="wide,convnet")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", type=int, help="steps per run (default: wide 300, convnet 80)")
    parser.add_argument("--json", help="also write every measurement to this file")
    parser.add_argument(
        "--train", nargs=3, metavar=("WORKLOAD", "STEPS", "OUT"), help=argparse.SUPPRESS
    )
    parser.add_argument("--allreduce", metavar="OUT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.train:
        return train_steps(args.train[0], int(args.train[1]), args.train[2])
    if args.allreduce:
        return time_allreduce(args.allreduce)

    for line in describe_machine(SimpleNamespace(load=0, unset_openblas_env=False)):
        print(line)
    print(f"one-thread set-ups: {', '.join(f'{k}={v}' for k, v in ONE_THREAD.items())}")
    workloads = args.workloads.split(",")
    runs = {(w, name): [] for w in workloads for name, _, _ in SETUPS}
    gradient_bytes = {}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        for _ in range(args.repeat):
            for workload in workloads:
                steps = args.steps or DEFAULT_STEPS[workload]
                for name, ranks, settings in SETUPS:
                    run_ranks(ranks, settings, "--train", workload, steps, out)
                    record = json.loads(out.read_text())
                    gradient_bytes[workload] = record["bytes"]
                    runs[workload, name].append(record)
        run_ranks(2, ONE_THREAD, "--allreduce", out)
        fastest = {int(k): v for k, v in json.loads(out.read_text()).items()}

    print(f"\nmedian ms per step over steps {WARM_UP_STEPS + 1}.., {args.repeat} runs each")
    print(
        f"{'workload':9} {'set-up':24} {'step':>8} {'compute':>8} {'allreduce':>9} {'speed-up':>9}"
    )
    summary = {}
    for workload in workloads:
        for name, _, _ in SETUPS:
            steps = [s for r in runs[workload, name] for s in r["step"][WARM_UP_STEPS:]]
            reduce = [s for r in runs[workload, name] for s in r["allreduce"][WARM_UP_STEPS:]]
            compute = [s - c for s, c in zip(steps, reduce)]
            summary[workload, name] = [statistics.median(v) for v in (steps, compute, reduce)]
        base = summary[workload, SETUPS[0][0]][0]
        for name, _, _ in SETUPS:
            step, compute, reduce = summary[workload, name]
            print(
                f"{workload:9} {name:24} {step * 1e3:8.1f} {compute * 1e3:8.1f} "
                f"{reduce * 1e3:9.2f} {base / step:8.2f}x"
            )

    latency, bandwidth = fit_ring_model(fastest)
    print("\nin-place Allreduce between 2 local ranks (fastest of 30):")
    for nbytes, seconds in fastest.items():
        print(f"  {nbytes:>9} bytes  {seconds * 1e6:9.1f} us")
    print(f"ring model t = 2a + b/B: a = {latency * 1e6:.1f} us, B = {bandwidth / 1e9:.2f} GB/s")

    print("\npredicted speed-up on N machines, one rank each, global batch 128: t_comp(1) /")
    print("(t_comp(1)/N + 2(N-1) a + 2(N-1)/N b / B), t_comp(1) the one-thread compute above,")
    print("a the local latency, B the link (or this machine's measured bandwidth):")
    links = [(f"{g} Gb/s", g * 1e9 / 8) for g in LINKS_GBIT] + [("local B", bandwidth)]
    print(f"{'workload':9} {'N':>3} " + " ".join(f"{name:>9}" for name, _ in links))
    predictions = {}
    for workload in workloads:
        compute = summary[workload, "1 process, 1 thread"][1]
        for machines in MACHINES:
            row = []
            for name, link in links:
                comm_seconds = ring_seconds(machines, gradient_bytes[workload], latency, link)
                row.append(compute / (compute / machines + comm_seconds))
                predictions[f"{workload} N={machines} {name}"] = row[-1]
            print(f"{workload:9} {machines:>3} " + " ".join(f"{s:8.2f}x" for s in row))
        print(f"{'':9} gradients: {gradient_bytes[workload] / 1e6:.3f} MB of float32")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "runs": {f"{w} | {n}": r for (w, n), r in runs.items()},
                    "allreduce": fastest,
                    "latency_s": latency,
                    "bandwidth_bytes_per_s": bandwidth,
                    "predicted_speed_up": predictions,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
