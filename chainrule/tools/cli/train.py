"""`chainrule train`: fit the article's network to MNIST, report the test results, and write the
run's files (model, history, plots), stopping cleanly on Ctrl-C."""

import contextlib
import csv
import io
import itertools
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from ...distributed import comm
from ...distributed.strategy import MultiWorkerMirroredStrategy
from ...keras.callbacks import Callback, GradientFlow
from ...keras.optimizers import OPTIMIZERS
from ...keras.saving import atomic_write
from ...keras.utils import set_random_seed, to_categorical
from ..plot import plot_gradient_flow, plot_history
from . import digits
from .arguments import EXIT_INTERRUPTED, CommandError, UsageError, plural
from .digits import NUM_CLASSES, PIXELS


class StopOnInterrupt(Callback):
    """Ctrl-C during `fit` stops training after the current batch instead of raising.

    The first SIGINT sets `model.stop_training`, which `fit` checks after every batch, and puts
    the previous handler back, so a second Ctrl-C interrupts at once. The previous handler is also
    restored when training ends. Outside the main thread, where Python cannot set signal handlers,
    this callback does nothing.

    Attributes:
        interrupted: None, or (epoch, batch), counted from 1, of the last batch trained before a
            Ctrl-C stopped training; set when training ends.
    """

    def __init__(self):
        super().__init__()
        self.interrupted = None
        self._requested = False
        self._previous = None
        self._position = (0, 0)

    def on_train_begin(self, logs=None):
        self.interrupted, self._requested = None, False
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._stop)

    def on_epoch_begin(self, epoch, logs=None):
        self._position = (epoch + 1, 0)

    def on_train_batch_end(self, batch, logs=None):
        self._position = (self._position[0], batch + 1)

    def on_train_end(self, logs=None):
        self._restore()
        if self._requested:
            self.interrupted = self._position

    def _stop(self, signum, frame):
        self._requested = True
        self.model.stop_training = True
        self._restore()
        print(
            "\nCtrl-C: stopping after this batch (press Ctrl-C again to quit at once)",
            file=sys.stderr,
            flush=True,
        )

    def _restore(self):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None


MAX_WEIGHTS = 2**28  # 1 GiB of float32 weights; training holds several times that


class StopOnDivergence(Callback):
    """Stop training at the first batch whose loss is NaN or infinite, as TerminateOnNaN does,
    and remember where.

    Attributes:
        diverged: None, or (epoch, batch, loss), counted from 1, of the first such batch.
    """

    def __init__(self):
        super().__init__()
        self.diverged = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if self.diverged is None and loss is not None and not math.isfinite(loss):
            self.diverged = (self._epoch, batch + 1, loss)
            self.model.stop_training = True


def train_command(args):
    """`chainrule train`: check the options, fit, report the test results, write the run's
    files. No folder is made before every option has been checked against the others and the
    data."""
    if args.workers > 1 and comm.launched_size() == 1:
        return _launch_workers(args.workers, args.argv)
    _check_model_size(args.hidden)
    _check_out(args.out, args.overwrite)
    (x_train, y_train), (x_test, y_test) = digits.mnist()
    _check_validation_split(args.validation_split, len(x_train), args.batch_size)
    strategy = MultiWorkerMirroredStrategy() if comm.launched_size() > 1 else None
    primary = strategy is None or strategy.distribution.is_primary
    if not primary:  # process 0 alone prints and writes the run's files
        args.quiet = True
    existed = args.out is not None and args.out.exists()
    out = _output_folder(args.out) if primary else None
    if args.seed is not None:
        set_random_seed(args.seed)
    model = digits.dense_network(args.hidden)
    rate = {} if args.learning_rate is None else {"learning_rate": args.learning_rate}
    optimizer = OPTIMIZERS[args.optimizer](**rate)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    optimizer = model.optimizer
    layers = " -> ".join(
        [f"{PIXELS}"] + [f"{units} relu" for units in args.hidden] + [f"{NUM_CLASSES} softmax"]
    )
    described = (
        f"{layers}, {args.optimizer} (learning rate {float(optimizer.learning_rate):g}), "
        f"batch {args.batch_size}"
    )
    verbose = 0 if args.quiet else "auto"
    if not args.quiet:
        processes = "" if strategy is None else f", {strategy.num_replicas_in_sync} processes"
        print(
            f"MNIST: {len(x_train)} training and {len(x_test)} test images; model {described}, "
            f"{plural(args.epochs, 'epoch')}{processes}",
            flush=True,
        )

    stopper, divergence = StopOnInterrupt(), StopOnDivergence()
    callbacks = [stopper, divergence]
    flow = None
    if args.explain:
        fitted = int(len(x_train) * (1 - args.validation_split))
        steps = args.epochs * -(-fitted // args.batch_size)
        flow = GradientFlow(
            x_train[:256], to_categorical(y_train[:256], NUM_CLASSES), every=max(1, steps // 200)
        )
        callbacks.append(flow)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Overflow and a NaN loss are reported below, in one line, by StopOnDivergence.
        warnings.simplefilter("ignore", RuntimeWarning)
        history = model.fit(
            x_train,
            to_categorical(y_train, NUM_CLASSES),
            batch_size=args.batch_size,
            epochs=args.epochs,
            validation_split=args.validation_split,
            verbose=verbose,
            callbacks=callbacks,
        )
    seconds = time.perf_counter() - start
    _refuse_divergence(divergence.diverged, model, _learning_rate(args, optimizer), out, existed)
    partial = _partial_epoch(stopper, history)
    if stopper.interrupted:
        epoch, batch = stopper.interrupted
        steps = stopper.params.get("steps")
        print(f"Stopped by Ctrl-C after batch {batch} of {steps} of epoch {epoch}; results so far:")
    test_loss, test_accuracy = model.evaluate(
        x_test, to_categorical(y_test, NUM_CLASSES), batch_size=args.batch_size, verbose=verbose
    )
    if not primary:
        return 0
    print(f"Test loss: {test_loss:.4f}")
    print(f"Test accuracy: {test_accuracy:.4f}")

    record = {
        "params": {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "optimizer": args.optimizer,
            "learning_rate": _learning_rate(args, optimizer),
            "hidden": list(args.hidden),
            "seed": args.seed,
            "validation_split": args.validation_split,
        },
        "epoch": history.epoch,
        "history": history.history,
        "test": {"loss": test_loss, "accuracy": test_accuracy},
        "interrupted": stopper.interrupted is not None,
        "seconds": round(seconds, 3),
    }
    if partial is not None:
        record["partial_epoch"] = partial
    title = f"MNIST: {described}; test accuracy {test_accuracy:.4f}"
    written = _write_run(out, model, record, title, flow)
    trained = plural(len(history.epoch), "epoch")
    if partial is not None:
        trained += f" and {partial['batches']} of {partial['steps']} batches"
    print(f"{trained} in {seconds:.1f} s; wrote {', '.join(written)} in {out}{os.sep}")
    return EXIT_INTERRUPTED if stopper.interrupted else 0


def _launch_workers(workers, argv):
    """Run this same `chainrule train` in ``workers`` processes under mpiexec; its exit status."""
    mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which(
        "mpiexec"
    )
    if mpiexec is None:
        raise CommandError(
            '--workers needs MPI: pip install "chainrule[mpi]" (mpi4py and the MPICH wheel, '
            "which brings mpiexec)"
        )
    command = [mpiexec, "-n", str(workers), sys.executable, "-m", "chainrule", *argv]
    return subprocess.run(command).returncode


def _check_model_size(hidden):
    """Refuse layer sizes whose weights would not fit in memory, before anything is allocated."""
    sizes = [PIXELS, *hidden, NUM_CLASSES]
    weights = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:]))
    if weights > MAX_WEIGHTS:
        raise UsageError(
            "--hidden",
            f"{','.join(map(str, hidden))} makes a model of {weights:,} weights "
            f"({weights * 4 / 2**30:.1f} GiB as float32); at most {MAX_WEIGHTS:,} (1 GiB) are "
            "allowed, since training needs several times that in memory: use smaller layers, "
            "such as 128,64",
        )


def _check_validation_split(split, samples, batch_size):
    """Refuse a --validation-split that leaves less than a batch to train on, or holds out
    nothing; `fit` splits off the last floor(n (1 - split)) samples, as computed here."""
    if not split:
        return
    fitted = int(math.floor(samples * (1.0 - split)))
    if fitted == samples:
        raise UsageError(
            "--validation-split",
            f"{split:g} holds out none of the {samples} training images; use 0 for no "
            "validation or a larger fraction, such as 0.1",
        )
    if fitted < batch_size:
        raise UsageError(
            "--validation-split",
            f"{split:g} leaves {fitted} of the {samples} training images to train on, fewer "
            f"than one batch of {batch_size}; use a smaller fraction, such as 0.1",
        )


def _check_out(out, overwrite):
    """Refuse an --out that is a file, or a folder holding files unless `overwrite`; create
    nothing."""
    if out is None or not out.exists():
        return
    if not out.is_dir():
        raise CommandError(f"--out {out} is a file; pass --out with a folder to write results in")
    try:
        taken = not overwrite and any(out.iterdir())
    except OSError as err:
        raise CommandError(f"cannot read --out {out}: {err.strerror or err}") from None
    if taken:
        raise CommandError(
            f"--out {out} already holds files (an earlier run?); pass --overwrite to replace "
            "them, or choose another folder with --out"
        )


def _output_folder(out):
    """Create the run's folder and check it is writable. The default, runs/<date-time>, is
    always a new folder: -2, -3, ... is added to a name that exists, and each is claimed with
    one mkdir, so that two runs started in the same second never share a folder."""
    try:
        if out is None:
            out = _new_run_folder(Path("runs"), time.strftime("%Y%m%d-%H%M%S"))
        else:
            out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise CommandError(
            f"cannot write results to --out {out}: {err.strerror or err}; pass --out with a "
            "folder you can write to"
        ) from None
    return out


def _new_run_folder(parent, stamp):
    parent.mkdir(parents=True, exist_ok=True)
    for number in itertools.count(1):
        folder = parent / (stamp if number == 1 else f"{stamp}-{number}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue


def _learning_rate(args, optimizer):
    """The run's learning rate as the user knows it: the ``--learning-rate`` given, else the
    optimizer's default, written as the shortest decimal of the float32 value it keeps (0.01)."""
    if args.learning_rate is not None:
        return args.learning_rate
    return float(str(np.float32(float(optimizer.learning_rate))))


def _refuse_divergence(diverged, model, learning_rate, out, existed):
    """End the command if the loss or the weights became NaN or infinite: nothing is written
    (an earlier run's files in `out` stay as they were), and a folder made for this run is
    removed."""
    if diverged is None and all(np.isfinite(weight).all() for weight in model.get_weights()):
        return
    if not existed and out is not None:  # out is None in the processes that do not write
        with contextlib.suppress(OSError):
            out.rmdir()  # empty: nothing was written yet
    where = (
        "the weights became NaN or infinite"
        if diverged is None
        else f"the loss became {diverged[2]} at batch {diverged[1]} of epoch {diverged[0]}"
    )
    raise CommandError(
        f"training diverged: {where} (--learning-rate {learning_rate:g}); "
        "no files were written: lower the learning rate with --learning-rate"
    )


def _partial_epoch(stopper, history):
    """Take the epoch that Ctrl-C cut short out of `history`, as Keras's CSVLogger would never
    have written it, and return it as {"epoch", "batches", "steps", "logs"} (None if Ctrl-C
    came at an epoch's end, or never)."""
    steps = stopper.params.get("steps") if stopper.params else None
    if not stopper.interrupted or not history.epoch or stopper.interrupted[1] == steps:
        return None
    logs = {key: values.pop() for key, values in history.history.items()}
    return {
        "epoch": history.epoch.pop(),
        "batches": stopper.interrupted[1],
        "steps": steps,
        "logs": logs,
    }


def _write_run(out, model, record, title, flow=None):
    """Write model.keras, history.csv, history.json and training.png (and gradient_flow.png from
    a GradientFlow callback `flow`); return the names written.

    Each file is written whole or not at all (a temporary file renamed into place). A file that
    needs a missing optional extra (h5py for the model, matplotlib for the plot) is skipped with
    a one-line note, and the others are still written.
    """
    keys = sorted(record["history"])
    table = io.StringIO(newline="")
    writer = csv.writer(table)  # the columns of Keras's CSVLogger: epoch from 0, sorted keys
    writer.writerow(["epoch"] + keys)
    for row, epoch in enumerate(record["epoch"]):
        writer.writerow([epoch] + [record["history"][key][row] for key in keys])
    history_csv = table.getvalue().encode("utf-8")
    history_json = (json.dumps(record, indent=2) + "\n").encode("utf-8")
    writers = {
        "model.keras": model.save,
        "history.csv": lambda path: _write_atomically(path, lambda file: file.write(history_csv)),
        "history.json": lambda path: _write_atomically(path, lambda file: file.write(history_json)),
        "training.png": lambda path: _write_atomically(
            path, lambda file: plot_history(record["history"], file, title=title)
        ),
    }
    if flow is not None and flow.steps:
        writers["gradient_flow.png"] = lambda path: _write_atomically(
            path, lambda file: plot_gradient_flow(flow, file, title=title)
        )
    written = []
    for name, write in writers.items():
        try:
            write(out / name)
            written.append(name)
        except ImportError as err:
            print(f"{name} not written: {err}")
        except OSError as err:
            raise CommandError(f"cannot write {out / name}: {err}") from None
    return written


def _write_atomically(path, write):
    """Call `write(file)` on a binary file that becomes `path` only once it is complete."""
    with atomic_write(path) as file:
        write(file)
