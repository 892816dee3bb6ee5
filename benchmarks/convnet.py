"""The keras-io "Simple MNIST convnet", timed in chainrule, Keras/TensorFlow and PyTorch.

    python benchmarks/convnet.py [--epochs N] [--repeat R] [--peers tf,torch] [--json FILE]
    python benchmarks/run.py --workload convnet ...        (the same, from the suite)

The model, as keras-io writes it: Conv2D(32, 3x3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3x3,
relu) -> MaxPooling2D(2) -> Flatten -> Dropout(0.5) -> Dense(10, softmax); categorical
cross-entropy, Adam (Keras's defaults), batch 128, validation_split=0.1, pixels / 255 with a
channel axis. chainrule and TensorFlow run that program unchanged (``keras.Sequential``, ``fit``
with its progress bar); PyTorch runs the same layers (NCHW, logits into ``F.cross_entropy``) in
the idiomatic loop, holding out the same last 10% and evaluating it after each epoch as ``fit``
does. Each system trains in its own interpreter (a peer in its virtual environment, as in
``run.py``), the repeats going round the systems in turn. s/epoch is the median over epochs
2..N (the first pays for tracing and warm-up; with one epoch, that epoch), each epoch's time
including its validation pass; test accuracy is after the last epoch.
"""

import argparse
import importlib
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from common import CLASSES, EpochClock, load_mnist, write_result
from run import (
    busy_processes,
    check_targets,
    child_environment,
    describe_machine,
    python_of,
    run_child,
    summarize,
)

HERE = Path(__file__).resolve().parent
BATCH_SIZE, VALIDATION_SPLIT, SAMPLES = 128, 0.1, 54000
PEERS = ("tf", "torch")
NAMES = {"chainrule": "chainrule", "tf": "keras/tensorflow", "torch": "pytorch"}


def images(data, split):
    """MNIST as keras-io feeds it: (n, 28, 28, 1) float32 in [0, 1], one-hot labels."""
    return data[f"x_{split}"].reshape(-1, 28, 28, 1), data[f"y_{split}"]


# ----- one training run, in the framework's own interpreter ----------------------------------


def convnet_model(keras, seed):
    """The keras-io model, compiled, with ``keras`` (chainrule.keras or tf.keras)."""
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(CLASSES, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def keras_convnet(keras, data, epochs, seed):
    """The keras-io program with ``keras`` (chainrule.keras or tf.keras)."""
    model = convnet_model(keras, seed)
    clock = EpochClock()

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            clock.start()

        def on_epoch_end(self, epoch, logs=None):
            clock.stop()

    x, y = images(data, "train")
    history = model.fit(
        x,
        y,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        validation_split=VALIDATION_SPLIT,
        callbacks=[EpochTimer()],
    )
    _, accuracy = model.evaluate(*images(data, "test"), verbose=0)
    logs = {k: v[-1] for k, v in history.history.items()}
    return clock, accuracy, logs


def run_chainrule(data, epochs, seed):
    import chainrule

    clock, accuracy, logs = keras_convnet(chainrule.keras, data, epochs, seed)
    return chainrule.__version__, clock, accuracy, logs, {}


def run_tf(data, epochs, seed):
    import tensorflow as tf

    clock, accuracy, logs = keras_convnet(tf.keras, data, epochs, seed)
    backend = {  # 0 means TensorFlow's default: one thread per core
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }
    return f"{tf.__version__} (keras {tf.keras.__version__})", clock, accuracy, logs, backend


def run_torch(data, epochs, seed):
    import torch
    from torch import nn
    from torch_epoch import train_epoch

    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(1600, CLASSES),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = images(data, "train")
    x = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    labels = torch.from_numpy(y.argmax(1))
    split = int(len(x) * (1 - VALIDATION_SPLIT))  # Keras holds out the last 10%
    x_train, labels_train, x_val, labels_val = x[:split], labels[:split], x[split:], labels[split:]

    def accuracy_on(inputs, targets):
        model.eval()
        with torch.no_grad():
            correct = sum(
                (model(inputs[i : i + 1000]).argmax(1) == targets[i : i + 1000]).sum().item()
                for i in range(0, len(inputs), 1000)
            )
        model.train()
        return correct / len(inputs)

    clock = EpochClock()
    for _ in range(epochs):
        clock.start()
        loss, train_accuracy = train_epoch(model, optimizer, x_train, labels_train, BATCH_SIZE)
        val_accuracy = accuracy_on(x_val, labels_val)
        clock.stop()
    x_test, y_test = images(data, "test")
    accuracy = accuracy_on(
        torch.from_numpy(np.ascontiguousarray(x_test.transpose(0, 3, 1, 2))),
        torch.from_numpy(y_test.argmax(1)),
    )
    logs = {"loss": loss, "accuracy": train_accuracy, "val_accuracy": val_accuracy}
    backend = {
        "blas": "mkl" if torch.backends.mkl.is_available() else "not mkl",
        "mkldnn": torch.backends.mkldnn.is_available(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "intra_op_threads": torch.get_num_threads(),
        "inter_op_threads": torch.get_num_interop_threads(),
    }
    return torch.__version__, clock, accuracy, logs, backend


RUNNERS = {"chainrule": run_chainrule, "tf": run_tf, "torch": run_torch}


FRAMEWORKS = {"chainrule": "chainrule", "tf": "tensorflow", "torch": "torch"}


def train_one(args):
    """The child's part: import the framework (timed), train, write the JSON record."""
    began = time.perf_counter()
    importlib.import_module(FRAMEWORKS[args.system])
    import_seconds = time.perf_counter() - began
    data = load_mnist(args.data)
    version, clock, accuracy, logs, backend = RUNNERS[args.system](data, args.epochs, args.seed)
    args.workload, args.config = "convnet", {"epochs": args.epochs, "batch_size": BATCH_SIZE}
    write_result(
        args, NAMES[args.system], version, import_seconds, clock, SAMPLES, accuracy, logs, backend
    )


# ----- the comparison -------------------------------------------------------------------------


def compare(args):
    env = child_environment(args.unset_openblas_env)
    systems = ["chainrule"] + [p for p in PEERS if p in args.peers]
    print("# the keras-io Simple MNIST convnet\n")
    if "jax" in args.peers:
        print("(jax: no runner for this workload)")
    print("\n".join(describe_machine(args)))
    print(
        f"\nbatch {BATCH_SIZE}, validation_split {VALIDATION_SPLIT}, Adam, {args.epochs} "
        f"epoch(s), {args.repeat} repeat(s)\n",
        flush=True,
    )
    records = {system: [] for system in systems}
    notes = {}
    with busy_processes(args.load):
        _measure(args, systems, env, records, notes)
    summaries = {s: summarize(r) for s, r in records.items() if r}
    print()
    print(convnet_table(summaries, systems, notes))
    for summary in summaries.values():
        if summary["backend"]:
            details = ", ".join(f"{k} {v}" for k, v in summary["backend"].items())
            print(f"\n{summary['name']}: {details}", end="")
    print()
    targets = check_targets("convnet", summaries, args.load)
    if targets:
        print("\ntargets:")
        print("\n".join(targets))
    if args.json:
        Path(args.json).write_text(json.dumps({"records": records, "notes": notes}, indent=1))


def _measure(args, systems, env, records, notes):
    """Run every system ``args.repeat`` times, each in a child process of its own, adding each
    run's record to ``records`` (or why it did not run to ``notes``)."""
    for seed in range(args.repeat):
        for system in systems:
            if system in notes:
                continue
            python = python_of(system)
            if not Path(python).exists():
                notes[system] = f"skipped: {python} not found"
                print(f"  {system}: {notes[system]}", flush=True)
                continue
            with tempfile.TemporaryDirectory(prefix="chainrule-convnet-") as workdir:
                out = Path(workdir) / "result.json"
                command = [
                    python,
                    str(HERE / "convnet.py"),
                    "--system",
                    system,
                    "--seed",
                    str(seed),
                    "--epochs",
                    str(args.epochs),
                    "--data",
                    args.data,
                    "--out",
                    str(out),
                ]
                status, tail = run_child(command, env, workdir)
                if status != 0 or not out.exists():
                    last = [line for line in tail.splitlines() if line.strip()][-1:] or ["?"]
                    notes[system] = f"failed (exit status {status}): {last[0].strip()[:200]}"
                    print(f"  {system}: {notes[system]}", flush=True)
                    continue
                record = json.loads(out.read_text())
            records[system].append(record)
            epochs = ", ".join(f"{s:.2f}" for s in record["epoch_seconds"])
            print(
                f"  {system} (seed {seed}): s/epoch [{epochs}], test accuracy "
                f"{record['test_accuracy']:.4f}, peak RSS {record['peak_rss_mb']:.0f} MB",
                flush=True,
            )


def convnet_table(summaries, systems, notes):
    """Markdown: s/epoch, test accuracy, peak RSS, and each system's time over chainrule's."""
    reference = summaries.get("chainrule")
    rows = [
        "| system | version | s/epoch | samples/s | test accuracy | peak RSS (MB) "
        "| time / chainrule's |",
        "|---|---|--:|--:|--:|--:|--:|",
    ]
    for system in systems:
        if system not in summaries:
            rows.append(f"| {NAMES[system]} | {notes.get(system, 'no result')} |  |  |  |  |  |")
            continue
        s = summaries[system]
        ratio = s["seconds"] / reference["seconds"] if reference else float("nan")
        rows.append(
            f"| {s['name']} | {s['version']} | {s['seconds']:.2f} | "
            f"{s['samples_per_second']:,.0f} | {s['accuracy']:.4f} | {s['rss']:.0f} | "
            f"{ratio:.2f} |"
        )
    return "\n".join(rows)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run (default 2)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per system (default 1)")
    parser.add_argument(
        "--peers",
        default=",".join(PEERS),
        help="comma-separated subset of tf,torch, or 'none' (default: both)",
    )
    parser.add_argument(
        "--data",
        default=str(HERE.parent / "chainrule" / "keras" / "datasets" / "data"),
        help="folder with MNIST's IDX .gz files (default: chainrule's copy)",
    )
    parser.add_argument(
        "--unset-openblas-env",
        action="store_true",
        help="remove OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the children",
    )
    parser.add_argument(
        "--load",
        type=int,
        default=0,
        help="keep N busy processes on the CPUs while measuring (default 0)",
    )
    parser.add_argument("--json", help="also write every run's raw record to this file")
    parser.add_argument("--system", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.epochs < 1 or args.repeat < 1:
        parser.error("--epochs and --repeat must be at least 1")
    args.peers = [] if args.peers == "none" else [p.strip() for p in args.peers.split(",")]
    unknown = sorted(set(args.peers) - set(PEERS) - {"jax"})  # jax, from run.py: not run here
    if unknown:
        parser.error(f"--peers: unknown {', '.join(unknown)}; choose from {', '.join(PEERS)}")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.system:
        train_one(arguments)
    else:
        compare(arguments)
