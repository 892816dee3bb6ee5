"""`chainrule train`: fit the article's network to MNIST, report the test results, and write the
run's files (model, history, plots), stopping cleanly on Ctrl-C."""

import csv
import io
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from ...keras.callbacks import Callback, GradientFlow
from ...keras.optimizers import OPTIMIZERS
from ...keras.saving import atomic_write
from ...keras.utils import set_random_seed, to_categorical
from ..plot import plot_gradient_flow, plot_history
from . import digits
from .arguments import EXIT_INTERRUPTED, CommandError
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


def train_command(args):
    """`chainrule train`: fit, report the test results, write the run's files."""
    out = _output_folder(args.out)
    if args.seed is not None:
        set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = digits.mnist()
    model = digits.dense_network(args.hidden)
    rate = {} if args.learning_rate is None else {"learning_rate": args.learning_rate}
    optimizer = OPTIMIZERS[args.optimizer](**rate)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    layers = " -> ".join(
        [f"{PIXELS}"] + [f"{units} relu" for units in args.hidden] + [f"{NUM_CLASSES} softmax"]
    )
    described = (
        f"{layers}, {args.optimizer} (learning rate {float(optimizer.learning_rate):g}), "
        f"batch {args.batch_size}"
    )
    verbose = 0 if args.quiet else "auto"
    if not args.quiet:
        print(
            f"MNIST: {len(x_train)} training and {len(x_test)} test images; model {described}, "
            f"{args.epochs} epochs",
            flush=True,
        )

    stopper = StopOnInterrupt()
    callbacks = [stopper]
    flow = None
    if args.explain:
        fitted = int(len(x_train) * (1 - args.validation_split))
        steps = args.epochs * -(-fitted // args.batch_size)
        flow = GradientFlow(
            x_train[:256], to_categorical(y_train[:256], NUM_CLASSES), every=max(1, steps // 200)
        )
        callbacks.append(flow)
    start = time.perf_counter()
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
    if stopper.interrupted:
        epoch, batch = stopper.interrupted
        print(f"Stopped by Ctrl-C after batch {batch} of epoch {epoch}; results so far:")
    test_loss, test_accuracy = model.evaluate(
        x_test, to_categorical(y_test, NUM_CLASSES), batch_size=args.batch_size, verbose=verbose
    )
    print(f"Test loss: {test_loss:.4f}")
    print(f"Test accuracy: {test_accuracy:.4f}")

    record = {
        "params": {
            "epochs": args.epochs,
            "batch_size": args.batch_size,
            "optimizer": args.optimizer,
            "learning_rate": float(optimizer.learning_rate),
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
    title = f"MNIST: {described}; test accuracy {test_accuracy:.4f}"
    written = _write_run(out, model, record, title, flow)
    print(
        f"{len(history.epoch)} epochs in {seconds:.1f} s; wrote {', '.join(written)} "
        f"in {out}{os.sep}"
    )
    return EXIT_INTERRUPTED if stopper.interrupted else 0


def _output_folder(out):
    """Create the run's folder (default runs/<date-time>, made unique) and check it is writable."""
    if out is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in [""] + [f"-{n}" for n in range(2, 100)]:
            candidate = Path("runs") / f"{stamp}{suffix}"
            if not candidate.exists():
                out = candidate
                break
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out} is a file; pass --out with a folder to write results in")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        raise CommandError(
            f"cannot write results to --out {out}: {err.strerror or err}; pass --out with a "
            "folder you can write to"
        ) from None
    return out


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
