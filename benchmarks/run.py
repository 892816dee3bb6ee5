"""Time chainrule against TensorFlow/Keras, PyTorch, JAX and a hand-written NumPy loop on MNIST.

    python benchmarks/run.py [--workload article|wide|all|convnet|lstm] [--epochs N] [--repeat R]
                             [--peers tf,torch,jax] [--threads N] [--unset-openblas-env]
                             [--load N] [--data DIR] [--json FILE]

Every system trains in its own interpreter (``bench_<system>.py``), one after the other, so that
each one's import time and peak memory are its own: chainrule and the NumPy reference with this
Python, each peer with the Python of its virtual environment (``CHAINRULE_BENCH_TF_PYTHON``,
``..._TORCH_PYTHON``, ``..._JAX_PYTHON``; default ``/work/venvs/{tf,torch,jax}/bin/python``). A
peer whose Python is missing, or that fails, is skipped with a note. The repeats go round the
systems in turn, so that a slow spell on a shared machine hits all of them alike. Each child's
standard output is a pseudo-terminal, so progress bars draw as they do for a user.

The table's s/epoch is the median over epochs 2..N of all repeats (the first epoch pays for
compilation and warm-up); samples/s is the training set's size over it; test accuracy is the
median over repeats after the last epoch; import is ``import <framework>`` in a fresh interpreter
(median); peak RSS is the largest of the repeats; the last column is the system's s/epoch divided
by chainrule's.

``--load N`` keeps N busy processes (pure-Python loops) on the cores while everything runs, as on
a machine shared with other work; they end with the run, on an error or Ctrl-C too.
"""

import argparse
import contextlib
import datetime
import fcntl
import json
import os
import platform
import pty
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
from pathlib import Path

from common import DEFAULT_DATA, WORKLOADS, numpy_blas

HERE = Path(__file__).resolve().parent
OPENBLAS_TUNING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_SETTINGS = re.compile(r"^(OMP_|MKL_|OPENBLAS_|GOTO|BLIS_|NVPL_|XLA_FLAGS|TF_NUM_)")
DEFAULT_REPEAT = 3
TERMINAL_SIZE = (40, 120)  # rows, columns of the children's pseudo-terminal

# name -> (script, environment variable naming its Python, default Python)
SYSTEMS = {
    "chainrule": ("bench_chainrule.py", None, sys.executable),
    "numpy": ("bench_numpy.py", None, sys.executable),
    "tf": ("bench_tf.py", "CHAINRULE_BENCH_TF_PYTHON", "/work/venvs/tf/bin/python"),
    "torch": ("bench_torch.py", "CHAINRULE_BENCH_TORCH_PYTHON", "/work/venvs/torch/bin/python"),
    "jax": ("bench_jax.py", "CHAINRULE_BENCH_JAX_PYTHON", "/work/venvs/jax/bin/python"),
}
PEERS = ("tf", "torch", "jax")

# (workload, what is measured, (kind, argument), upper limit, lower limit or None), checked on an
# idle machine (no --load). Kind 'ratio' is chainrule's s/epoch over the named system's;
# 'accuracy' counts only after the given number of epochs; 'import' and 'rss' are chainrule's own
# import time and peak memory. The article's ratios to PyTorch and TensorFlow, its accuracy and
# memory are the first benchmarks' targets; the ratios of 1.1 and 0.9, the speed issue's.
TARGETS = [
    ("article", "chainrule s/epoch / NumPy loop's", ("ratio", "numpy"), 1.1, None),
    ("article", "chainrule s/epoch / PyTorch's", ("ratio", "torch"), 0.36, None),
    ("article", "chainrule s/epoch / Keras-TensorFlow's", ("ratio", "tf"), 0.1, None),
    ("article", "chainrule test accuracy after 10 epochs", ("accuracy", 10), 0.935, 0.915),
    ("article", "import chainrule (s)", ("import", None), 0.3, None),
    ("article", "chainrule peak RSS (MB)", ("rss", None), 400, None),
    ("wide", "chainrule s/epoch / PyTorch's", ("ratio", "torch"), 0.9, None),
    ("wide", "chainrule s/epoch / JAX's", ("ratio", "jax"), 0.9, None),
    ("convnet", "chainrule s/epoch / Keras-TensorFlow's", ("ratio", "tf"), 0.9, None),
    ("convnet", "chainrule peak RSS (MB)", ("rss", None), 1500, None),
]
#: With busy processes beside it (--load), every workload's one target: chainrule at most this
#: many times the fastest peer's s/epoch (the NumPy loop is a reference, not a peer).
LOADED_LIMIT = 1.2


def parse_args():
    parser = argparse.ArgumentParser(
        description="Time chainrule's fit against its peers on MNIST (see benchmarks/README.md)."
    )
    parser.add_argument(
        "--workload",
        choices=["article", "wide", "all", "convnet", "lstm"],
        default="article",
        help="all = article and wide; convnet and lstm run convnet.py and sequences.py",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="epochs per run (default: the workload's, 10 for article, 3 for wide)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="runs per system (default 3; convnet.py's own default for convnet)",
    )
    parser.add_argument(
        "--peers",
        default=",".join(PEERS),
        help="comma-separated subset of tf,torch,jax, or 'none' (default: all)",
    )
    parser.add_argument(
        "--unset-openblas-env",
        action="store_true",
        help="remove OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the children's environment",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="run the benchmarks on N of this machine's CPUs (default: all); "
        "every library sizes its thread pools to them",
    )
    parser.add_argument(
        "--data",
        default=str(DEFAULT_DATA),
        help="folder with MNIST's IDX .gz files (default: chainrule's copy)",
    )
    parser.add_argument(
        "--load",
        type=int,
        default=0,
        help="keep N busy processes (pure-Python loops) on the CPUs while measuring (default 0)",
    )
    parser.add_argument("--json", help="also write every run's raw record to this file")
    args = parser.parse_args()
    if args.load < 0:
        parser.error(f"--load must be 0 or more; got {args.load}")
    if args.epochs is not None and args.epochs < 1:
        parser.error(f"--epochs must be at least 1; got {args.epochs}")
    if args.repeat is not None and args.repeat < 1:
        parser.error(f"--repeat must be at least 1; got {args.repeat}")
    available = len(os.sched_getaffinity(0))
    if args.threads is not None and not 1 <= args.threads <= available:
        parser.error(f"--threads must be between 1 and {available}; got {args.threads}")
    peers = [] if args.peers == "none" else [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = sorted(set(peers) - set(PEERS))
    if unknown:
        parser.error(f"--peers: unknown {', '.join(unknown)}; choose from {', '.join(PEERS)}")
    args.systems = ["chainrule", "numpy"] + [p for p in PEERS if p in peers]
    return args


def child_environment(unset_openblas):
    env = dict(os.environ)
    if unset_openblas:
        for name in OPENBLAS_TUNING:
            env.pop(name, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    return env


# A busy process: a pure-Python loop that ends by itself once its parent is gone (killed too hard
# to stop it), checking about ten times a second.
BUSY_LOOP = """
import os
parent = os.getppid()
while os.getppid() == parent:
    for _ in range(300_000):
        pass
"""


@contextlib.contextmanager
def busy_processes(count):
    """Within the block, ``count`` processes each keep a CPU busy; they end when it does, on an
    error or KeyboardInterrupt too."""
    processes = []
    try:
        for _ in range(count):
            processes.append(subprocess.Popen([sys.executable, "-c", BUSY_LOOP]))
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def python_of(system):
    _, variable, default = SYSTEMS[system]
    return os.environ.get(variable, default) if variable else default


def run_child(command, env, workdir):
    """Run ``command`` with a pseudo-terminal as its standard output.

    Returns (exit status, the tail of what it printed on both streams).
    """
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", *TERMINAL_SIZE, 0, 0))
    stderr_path = Path(workdir) / "stderr.txt"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=terminal, stderr=stderr, env=env, cwd=HERE
        )
    os.close(terminal)
    printed = bytearray()

    def drain():  # the child blocks once the terminal's buffer is full: keep reading it
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            printed.extend(chunk)
            del printed[:-4096]

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    status = process.wait()
    reader.join()
    os.close(controller)
    tail = printed.decode(errors="replace") + stderr_path.read_text(errors="replace")
    return status, tail[-3000:]


def run_benchmark(python, arguments, env):
    """Run ``python *arguments --out FILE`` in a fresh interpreter.

    Returns (the JSON record the script wrote to FILE, None), or (None, a note saying why not).
    """
    if not Path(python).exists():
        return None, f"skipped: {python} not found (see benchmarks/README.md to install it)"
    with tempfile.TemporaryDirectory(prefix="chainrule-bench-") as workdir:
        out = Path(workdir) / "result.json"
        status, tail = run_child([python, *arguments, "--out", str(out)], env, workdir)
        if status != 0 or not out.exists():
            last = [line for line in tail.splitlines() if line.strip()][-1:] or ["no output"]
            return None, f"failed (exit status {status}): {last[0].strip()[:200]}"
        return json.loads(out.read_text()), None


def run_system(system, workload, epochs, seed, env, data_dir):
    """One training run of ``bench_<system>.py``: its JSON record, or a note saying why not."""
    script, _, _ = SYSTEMS[system]
    arguments = [
        str(HERE / script),
        "--data",
        str(data_dir),
        "--workload",
        workload,
        "--seed",
        str(seed),
    ]
    if epochs is not None:
        arguments += ["--epochs", str(epochs)]
    return run_benchmark(python_of(system), arguments, env)


def summarize(records):
    """Median s/epoch over epochs 2..N of every repeat, and the other columns."""
    epochs = [s for r in records for s in (r["epoch_seconds"][1:] or r["epoch_seconds"])]
    seconds = statistics.median(epochs)
    accuracies = [r["test_accuracy"] for r in records]
    return {
        "name": records[0]["system"],
        "version": records[0]["version"],
        "seconds": seconds,
        "samples_per_second": records[0]["samples"] / seconds,
        "accuracy": statistics.median(accuracies),
        "accuracy_range": (min(accuracies), max(accuracies)),
        "import": statistics.median(r["import_seconds"] for r in records),
        "rss": max(r["peak_rss_mb"] for r in records),
        "backend": records[0]["backend"],
        "cpus": records[0]["cpus"],
        "epochs": len(records[0]["epoch_seconds"]),
    }


def table(summaries, systems, notes):
    """The results as a Markdown table, chainrule first."""
    reference = summaries.get("chainrule")
    rows = [
        (
            "| system | version | s/epoch | samples/s | test accuracy | import (s) "
            "| peak RSS (MB) | time / chainrule's |"
        ),
        "|---|---|--:|--:|--:|--:|--:|--:|",
    ]
    for system in systems:
        if system not in summaries:
            rows.append(f"| {system} | {notes.get(system, 'no result')} |  |  |  |  |  |  |")
            continue
        s = summaries[system]
        low, high = s["accuracy_range"]
        accuracy = f"{s['accuracy']:.4f}" + (f" ({low:.4f} to {high:.4f})" if low != high else "")
        ratio = f"{s['seconds'] / reference['seconds']:.2f}" if reference else "n/a"
        rows.append(
            f"| {s['name']} | {s['version']} | {s['seconds']:.3f} | {s['samples_per_second']:,.0f} "
            f"| {accuracy} | {s['import']:.2f} | {s['rss']:.0f} | {ratio} |"
        )
    return "\n".join(rows)


def check_targets(workload, summaries, load=0):
    """Lines saying, for each of the workload's targets, the measured value and met or missed:
    the TARGETS on an idle machine; with ``load`` busy processes, LOADED_LIMIT against the
    fastest peer that ran."""
    chainrule = summaries.get("chainrule")
    if chainrule is None:
        return []
    if load:
        peers = {s: summaries[s]["seconds"] for s in PEERS if s in summaries}
        if not peers:
            return [f"- chainrule s/epoch / the fastest peer's <= {LOADED_LIMIT}: no peer ran"]
        fastest = min(peers, key=peers.get)
        value = chainrule["seconds"] / peers[fastest]
        met = "met" if value <= LOADED_LIMIT else "MISSED"
        return [
            f"- chainrule s/epoch / the fastest peer's ({fastest}) <= {LOADED_LIMIT}, with {load} "
            f"busy processes: {value:.3g}, {met}"
        ]
    lines = []
    for target_workload, what, (kind, arg), limit, lower in TARGETS:
        if target_workload != workload:
            continue
        if kind == "ratio":
            if arg not in summaries:
                lines.append(f"- {what} <= {limit}: not measured ({arg} did not run)")
                continue
            value = chainrule["seconds"] / summaries[arg]["seconds"]
        elif kind == "accuracy":
            if chainrule["epochs"] != arg:
                lines.append(f"- {what}: not measured (ran {chainrule['epochs']} epochs)")
                continue
            value = chainrule["accuracy"]
        else:
            value = chainrule[kind]
        met = value <= limit and (lower is None or value >= lower)
        band = f"in [{lower}, {limit}]" if lower is not None else f"<= {limit}"
        lines.append(f"- {what} {band}: {value:.3g}, {'met' if met else 'MISSED'}")
    return lines


def describe_machine(args):
    blas = numpy_blas()
    settings = {k: v for k, v in sorted(os.environ.items()) if THREAD_SETTINGS.match(k)}
    lines = [
        f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        (
            f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs "
            f"(os.cpu_count()), {_cpu_model()}; Python {platform.python_version()}"
        ),
        f"benchmarks run on CPUs {sorted(os.sched_getaffinity(0))}",
        (
            f"NumPy {blas['numpy']}: BLAS {blas['blas']} {blas['blas_version']} "
            f"({blas['blas_config']})"
        ),
        "thread/BLAS environment: "
        + (", ".join(f"{k}={v}" for k, v in settings.items()) or "none set"),
    ]
    lines += [f"{name}: {os.environ.get(name, 'unset')}" for name in OPENBLAS_TUNING]
    lines.append(load_words(args.load))
    if args.unset_openblas_env:
        lines.append("--unset-openblas-env: both removed from the benchmarks' environment")
    return lines


def load_words(count):
    """The ``--load`` setting as the table states it."""
    if not count:
        return "load 0 (nothing added on the CPUs)"
    return f"load {count} ({count} busy pure-Python processes on the CPUs while measuring)"


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run_workload(args, workload, env):
    config = dict(WORKLOADS[workload], **({"epochs": args.epochs} if args.epochs else {}))
    sizes = "-".join(str(n) for n in (784, *config["hidden"], 10))
    print(
        f"\n## {workload}: {sizes} ReLU, {config['optimizer']} {config['learning_rate']}, "
        f"batch {config['batch_size']}, {config['epochs']} epochs, {args.repeat} repeat(s), "
        f"{load_words(args.load)}\n",
        flush=True,
    )
    records = {system: [] for system in args.systems}
    notes = {}
    for seed in range(args.repeat):
        for system in args.systems:
            if system in notes:
                continue
            record, note = run_system(system, workload, args.epochs, seed, env, args.data)
            if note:
                notes[system] = note
                print(f"  {system}: {note}", flush=True)
                continue
            records[system].append(record)
            epochs = ", ".join(f"{s:.3f}" for s in record["epoch_seconds"])
            print(
                f"  {system} (seed {seed}): s/epoch [{epochs}], test accuracy "
                f"{record['test_accuracy']:.4f}",
                flush=True,
            )
    summaries = {s: summarize(r) for s, r in records.items() if r and s not in notes}
    print()
    print(table(summaries, args.systems, notes))
    print()
    for summary in summaries.values():
        details = "".join(f", {k} {v}" for k, v in summary["backend"].items())
        print(f"{summary['name']}: {summary['cpus']} CPU(s){details}")
    targets = check_targets(workload, summaries, args.load)
    if targets:
        print("\ntargets:")
        print("\n".join(targets))
    return {"config": config, "records": records, "notes": notes}


def run_convnet(args, env):
    """The convolutional workload has its own script, run with the same options."""
    script = HERE / "convnet.py"
    if not script.exists():
        sys.exit(f"--workload convnet needs {script}, which is not there")
    command = [
        sys.executable,
        str(script),
        "--peers",
        ",".join(args.systems[2:]) or "none",
        "--data",
        args.data,
    ]
    if args.epochs:
        command += ["--epochs", str(args.epochs)]
    if args.repeat:
        command += ["--repeat", str(args.repeat)]
    if args.unset_openblas_env:
        command.append("--unset-openblas-env")
    if args.json:
        command += ["--json", args.json]
    sys.exit(subprocess.call(command, env=env))


def run_lstm(args, env):
    """The LSTM workload is sequences.py's (its training step against PyTorch's, in turns), run
    on the same CPUs and under the same load; it has no peers but PyTorch, no epochs and no
    repeats. Under load its limit is LOADED_LIMIT, PyTorch being the fastest peer there is."""
    command = [sys.executable, str(HERE / "sequences.py"), "--workload", "lstm"]
    command += ["--threads", str(len(os.sched_getaffinity(0)))]
    if args.load:
        command += ["--limit", str(LOADED_LIMIT)]
    sys.exit(subprocess.call(command, env=env))


def main():
    args = parse_args()
    if args.threads is not None:  # the children inherit the CPU set, as with `taskset`
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.threads])
    env = child_environment(args.unset_openblas_env)
    with busy_processes(args.load):
        if args.workload == "convnet":
            print(f"convnet, {load_words(args.load)}", flush=True)
            run_convnet(args, env)
        if args.workload == "lstm":
            print(f"lstm, {load_words(args.load)}", flush=True)
            run_lstm(args, env)
        args.repeat = args.repeat or DEFAULT_REPEAT
        print("# chainrule benchmarks\n")
        print("\n".join(describe_machine(args)), flush=True)
        workloads = ["article", "wide"] if args.workload == "all" else [args.workload]
        results = {w: run_workload(args, w, env) for w in workloads}
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
