"""Callbacks that pass the logs on: to a CSV file, or to functions of your own."""

import csv

from .callback import Callback


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file: the column ``epoch``, then the log keys
    in alphabetical order (fixed by the first epoch; a key missing later is written "NA").

    Args:
        filename: the file's path.  separator: default ",".
        append: add to an existing file (without repeating its header) instead of overwriting.
    """

    primary_only = True  # with several processes training, only process 0 writes the file

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = str(filename), separator, append
        self.keys = self.writer = self.csv_file = None
        self.append_header = True

    def on_train_begin(self, logs=None):
        self.append_header = True
        if self.append:
            try:
                with open(self.filename) as existing:
                    self.append_header = not existing.readline()
            except FileNotFoundError:
                pass
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.keys = self.writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self.writer is None:
            dialect = type("Dialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(
                self.csv_file, fieldnames=["epoch"] + self.keys, dialect=dialect
            )
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, _csv_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _csv_value(value):
    """A log value for a CSV cell: arrays (per-class metrics) as "[a, b, ...]"."""
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        return value
    return f"[{', '.join(map(str, value))}]"


class LambdaCallback(Callback):
    """A callback made of functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    on_epoch_begin / on_epoch_end take (epoch, logs), on_train_begin / on_train_end take (logs),
    on_train_batch_begin / on_train_batch_end take (batch, logs); any other hook may be given by
    name in ``kwargs``.
    """

    def __init__(
        self,
        on_epoch_begin=None,
        on_epoch_end=None,
        on_train_begin=None,
        on_train_end=None,
        on_train_batch_begin=None,
        on_train_batch_end=None,
        **kwargs,
    ):
        super().__init__()
        hooks = dict(
            kwargs,
            on_epoch_begin=on_epoch_begin,
            on_epoch_end=on_epoch_end,
            on_train_begin=on_train_begin,
            on_train_end=on_train_end,
            on_train_batch_begin=on_train_batch_begin,
            on_train_batch_end=on_train_batch_end,
        )
        for hook, fn in hooks.items():
            if fn is None:
                continue
            if not hook.startswith("on_") or not hasattr(Callback, hook):
                raise TypeError(f"LambdaCallback: {hook!r} is not a callback hook")
            setattr(self, hook, _with_logs(fn, takes_index="epoch" in hook or "batch" in hook))


def _with_logs(fn, takes_index):
    """``fn`` called as Keras calls hooks, (epoch or batch, logs) or (logs), with logs None
    when the caller gives none."""

    def hook(*args, logs=None):
        index, rest = (args[:1], args[1:]) if takes_index else ((), args)
        return fn(*index, rest[0] if rest else logs)

    return hook
