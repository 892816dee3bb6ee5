"""Callbacks: code that ``fit`` calls at fixed points, with Keras's hook names and order.

on_train_begin
  on_epoch_begin(epoch)
    on_train_batch_begin(batch) ... on_train_batch_end(batch, logs)   (each step)
    [on_test_begin ... on_test_end]                                    (validation)
  on_epoch_end(epoch, logs)          logs: loss, metrics, val_loss, val_metrics
on_train_end(logs)
"""

import csv
import inspect
import json
import math
import numbers
import os
import shutil
import warnings

from .progress import Progbar


class Callback:
    """Base class: override the hooks you need. ``self.model`` and ``self.params`` are set."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass


class History(Callback):
    """Records each epoch's logs: ``history.history['loss']`` is the list of epoch losses."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self


class ProgbarLogger(Callback):
    """Prints ``Epoch i/n`` and the progress line of each epoch (``verbose`` 1 or 2)."""

    def __init__(self, verbose=1):
        super().__init__()
        self.verbose = verbose
        self.bar = None
        self.seen = 0  # batches of the current (or last) epoch

    def on_epoch_begin(self, epoch, logs=None):
        epochs = self.params.get("epochs", 1)
        if epochs > 1:
            print(f"Epoch {epoch + 1}/{epochs}", flush=True)
        # Without a step count (a generator), an epoch is taken to be as long as the last one.
        self.bar = Progbar(self.params.get("steps") or self.seen, verbose=self.verbose)

    def on_train_batch_end(self, batch, logs=None):
        self.seen = batch + 1
        self.bar.update(self.seen, logs or {})

    def on_epoch_end(self, epoch, logs=None):
        self.bar.target = self.bar.target or self.seen
        self.bar.update(self.bar.target, logs or {}, finalize=True)


class CallbackList:
    """Calls each hook on every callback in order.

    A hook is called only on the callbacks that override it, so the per-batch hooks of the
    usual callbacks (History, say) cost nothing in the training loop.
    """

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        methods = [getattr(c, hook) for c in self.callbacks if _overrides(c, hook)]

        def call_all(*args, **kwargs):
            for method in methods:
                method(*args, **kwargs)

        hook_function = methods[0] if len(methods) == 1 else call_all
        setattr(self, hook, hook_function)  # found once; later calls skip __getattr__
        return hook_function


def _overrides(callback, hook):
    """Whether ``callback`` does something in ``hook`` (the train-batch hooks forward to the
    ``on_batch_*`` aliases, so overriding either counts)."""

    def overridden(name):  # by the class, or on the instance (as LambdaCallback does)
        return name in vars(callback) or getattr(type(callback), name) is not getattr(
            Callback, name
        )

    alias = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}
    return overridden(hook) or (hook in alias and overridden(alias[hook]))


# ----- callbacks that act on the training --------------------------------------------------------


def _monitored(callback, logs, action):
    """``logs[callback.monitor]``, or None with a warning the first time it is missing (Keras
    repeats the same warning each epoch; Python shows it once)."""
    value = (logs or {}).get(callback.monitor)
    if value is None and not callback._warned_missing:
        callback._warned_missing = True
        warnings.warn(
            f"{action} conditioned on metric `{callback.monitor}` which is not available. "
            f"Available metrics are: {','.join(logs or {})}",
            RuntimeWarning,
            stacklevel=3,
        )
    return value


def _check_mode(callback, mode):
    if mode not in ("auto", "min", "max"):
        warnings.warn(
            f"{type(callback).__name__} mode {mode!r} is unknown, fallback to auto mode.",
            stacklevel=3,
        )
        return "auto"
    return mode


def _monitor_sign(callback):
    """-1 when ``callback.monitor`` should go down, +1 when up, None when that cannot be told:
    from ``callback.mode``, else losses down and metrics in the direction they declare."""
    if callback.mode != "auto":
        return -1 if callback.mode == "min" else 1
    name = callback.monitor.removeprefix("val_")
    if name == "loss":
        return -1
    for metric in getattr(callback.model, "metrics", ()):
        direction = getattr(metric, "_direction", None)
        if metric.name == name and direction is not None:
            return 1 if direction == "up" else -1
    return None


def _improves(sign, value, reference, min_delta=0):
    """Whether ``value`` beats ``reference`` by more than ``min_delta`` in the direction
    ``sign`` (-1: lower is better, +1: higher is better)."""
    return sign * (value - reference) > min_delta


class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving.

    At the end of each epoch (from ``start_from_epoch`` on), the value v of ``monitor`` improves
    on the best so far when v < best - min_delta (mode "min") or v > best + min_delta ("max").
    After ``patience`` epochs without improvement (and never at epoch 0) it sets
    ``model.stop_training``. With ``baseline``, the wait is only reset by an improvement that
    also beats the baseline. With ``restore_best_weights``, the weights of the best epoch are
    put back when training ends, whether or not it stopped early.

    Args:
        monitor: a key of the epoch logs (default "val_loss").  min_delta: default 0.
        patience: default 0.  verbose: 1 prints when it stops and restores.
        mode: "min", "max" or "auto" (default): minimize losses, and a metric in the direction
            it declares (accuracies, precision, AUC... up; errors down).
        baseline: default None.  restore_best_weights: default False.
        start_from_epoch: epochs to wait before monitoring (default 0).

    A monitor missing from the logs gives one warning listing the available keys, and the
    epoch is skipped.

    Raises:
        ValueError: in mode "auto", when the monitored quantity is in the logs but its direction
            cannot be told (pass mode="min" or "max").
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
    ):
        super().__init__()
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.verbose, self.baseline = verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.mode = _check_mode(self, mode)
        self._warned_missing = False
        self._reset()

    def _reset(self):
        self.wait = self.stopped_epoch = self.best_epoch = 0
        self.best_weights = None
        self.best = None
        self._sign = None  # -1: lower is better; +1: higher is better

    def on_train_begin(self, logs=None):
        self._reset()

    def _direction(self, current):
        """-1 (minimize) or +1 (maximize), None while it cannot be told yet."""
        sign = _monitor_sign(self)
        if sign is None and current is not None:
            raise ValueError(
                f"EarlyStopping callback received monitor={self.monitor} but cannot determine "
                f"whether that metric should be maximized or minimized. Pass mode='max' in order "
                f"to do early stopping based on the highest metric value, or mode='min' for the "
                f"lowest."
            )
        return sign

    def _is_improvement(self, value, reference):
        return _improves(self._sign, value, reference, self.min_delta)

    def on_epoch_end(self, epoch, logs=None):
        current = _monitored(self, logs, "Early stopping")
        if self._sign is None:
            self._sign = self._direction(current)
            if self._sign is None:
                return
            self.best = -self._sign * math.inf
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(
                    f"Restoring model weights from the end of the best epoch: "
                    f"{self.best_epoch + 1}."
                )
            self.model.set_weights(self.best_weights)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when a monitored quantity has stopped improving.

    An epoch improves when v < best - min_delta (mode "min") or v > best + min_delta ("max");
    mode "auto" means "max" when "acc" is in the monitor's name, else "min" (Keras's rule).
    After ``patience`` epochs without improvement the rate becomes max(lr * factor, min_lr)
    (if lr > min_lr), then ``cooldown`` epochs pass before counting again. The epoch logs get a
    "learning_rate" entry.

    Args:
        monitor: default "val_loss".  factor: default 0.1, < 1.  patience: default 10.
        verbose: 1 prints each reduction.  mode: default "auto".  min_delta: default 1e-4.
        cooldown: default 0.  min_lr: default 0.

    Raises:
        ValueError: factor >= 1.
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.1,
        patience=10,
        verbose=0,
        mode="auto",
        min_delta=1e-4,
        cooldown=0,
        min_lr=0.0,
    ):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr
        self.mode = _check_mode(self, mode)
        self._warned_missing = False
        self._reset()

    def _reset(self):
        maximize = self.mode == "max" or (self.mode == "auto" and "acc" in self.monitor)
        self._sign = 1 if maximize else -1
        self.best = -self._sign * math.inf
        self.cooldown_counter = self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(self.model.optimizer.learning_rate)
        current = _monitored(self, logs, "Learning rate reduction is")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if _improves(self._sign, current, self.best, self.min_delta):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old = float(self.model.optimizer.learning_rate)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose > 0:
                        print(
                            f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                            f"to {new}."
                        )
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)`` (or
    ``schedule(epoch)`` for a function of one argument); epochs count from 0. The epoch logs get
    a "learning_rate" entry.

    Args:
        schedule: the function.  verbose: 1 prints each new rate.

    Raises:
        ValueError: a schedule that returns something other than a number.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                f"LearningRateScheduler expects a function of (epoch, lr); got {schedule!r}"
            )
        self.schedule, self.verbose = schedule, verbose
        try:
            inspect.signature(schedule).bind(0, 0.0)
            self._takes_lr = True
        except TypeError:
            self._takes_lr = False
        except ValueError:  # no signature available (some builtins): assume Keras's new API
            self._takes_lr = True

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        rate = (
            self.schedule(epoch, float(optimizer.learning_rate))
            if self._takes_lr
            else self.schedule(epoch)
        )
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {rate!r}"
            )
        optimizer.learning_rate = float(rate)
        if self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                f"{float(rate)}."
            )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class TerminateOnNaN(Callback):
    """Stop training at the first batch whose loss is NaN or infinite.

    Args:
        raise_error: raise RuntimeError at once instead of stopping gracefully (which still runs
            every callback's on_train_end).
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                f"Terminating training immediately."
            )
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file: the column ``epoch``, then the log keys
    in alphabetical order (fixed by the first epoch; a key missing later is written "NA").

    Args:
        filename: the file's path.  separator: default ",".
        append: add to an existing file (without repeating its header) instead of overwriting.
    """

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


# ----- callbacks that save the training -----------------------------------------------------------


class _BatchCounter:
    """Counts the batches seen across epochs and says when ``every`` of them have passed."""

    def __init__(self, every):
        self.every, self.seen, self.last = every, 0, None

    def due(self, batch):
        new_epoch = self.last is None or batch <= self.last
        self.seen += batch + 1 if new_epoch else batch - self.last
        self.last = batch
        if self.seen >= self.every:
            self.seen = 0
            return True
        return False


def _check_save_freq(callback, save_freq):
    if save_freq != "epoch" and (
        isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1
    ):
        raise ValueError(
            f"{type(callback).__name__}: save_freq must be 'epoch' or a positive number of "
            f"batches; got {save_freq!r}"
        )
    return None if save_freq == "epoch" else _BatchCounter(save_freq)


class ModelCheckpoint(Callback):
    """Save the model, or its weights, as training goes: after each epoch, every ``save_freq``
    batches, or only when the monitored quantity improves. Every save is atomic, so a crash
    mid-save leaves the previous file whole.

    ``filepath`` may name the epoch (counted from 1) and any key of the logs, as in
    ``"ckpt/{epoch:02d}-{val_loss:.2f}.keras"``; missing folders are created.

    Args:
        filepath: a ``.keras`` file, or a ``.weights.h5`` file with ``save_weights_only``.
        monitor: the logs' key that ``save_best_only`` compares (default "val_loss").
        verbose: 1 prints a line for each save (and each epoch that does not improve).
        save_best_only: save only when v improves on the best value so far: v < best in mode
            "min", v > best in mode "max". A monitor missing from the logs gives a warning,
            and the model is saved (as Keras 3 does).
        save_weights_only: save with ``save_weights`` (weights and optimizer state) instead of
            ``save`` (the whole model).
        mode: "auto" (default: the loss down, metrics in their declared direction), "min" or
            "max".
        save_freq: "epoch" (default) or a number of batches.
        initial_value_threshold: the value the first save must beat (default: none).

    Raises:
        ValueError: a filepath with the wrong extension, or a bad ``save_freq``.

    Example::

        model.fit(x, y, validation_split=0.1, callbacks=[
            ModelCheckpoint("best.keras", monitor="val_loss", save_best_only=True)])
    """

    def __init__(
        self,
        filepath,
        monitor="val_loss",
        verbose=0,
        save_best_only=False,
        save_weights_only=False,
        mode="auto",
        save_freq="epoch",
        initial_value_threshold=None,
    ):
        super().__init__()
        self.filepath = os.fspath(filepath)
        suffix = ".weights.h5" if save_weights_only else ".keras"
        if not self.filepath.endswith(suffix):
            raise ValueError(
                f"ModelCheckpoint: with save_weights_only={save_weights_only}, the filepath must "
                f"end in {suffix}; got {self.filepath!r}"
            )
        self.monitor, self.verbose = monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.save_freq = save_freq
        self._counter = _check_save_freq(self, save_freq)
        self.mode = _check_mode(self, mode)
        self.best = initial_value_threshold
        self._sign = None
        self._warned_missing = False
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._counter is not None and self._counter.due(batch):
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self._counter is None:
            self._save(epoch, None, logs)

    def _save(self, epoch, batch, logs):
        logs = logs or {}
        filepath = self._path(epoch, batch, logs)
        if self.save_best_only and not self._improved(epoch, logs, filepath):
            return
        if self.verbose > 0 and not self.save_best_only:
            print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def _improved(self, epoch, logs, filepath):
        current = _monitored(self, logs, "Saving the best model is")
        if current is None:
            return True
        if self._sign is None:
            self._sign = _monitor_sign(self)
            if self._sign is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but cannot "
                    f"determine whether that metric should be maximized or minimized. Pass "
                    f"mode='max' to keep the highest value, or mode='min' for the lowest."
                )
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self.best is None or _improves(self._sign, current, self.best):
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                    f"{current:.5f}, saving model to {filepath}"
                )
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _path(self, epoch, batch, logs):
        fields = dict(logs)
        if batch is not None and "batch" not in fields:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(epoch=epoch + 1, **fields)
        except KeyError as err:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {err} is '
                f"not a key of the logs ({', '.join(logs) or 'none'})."
            ) from err


class BackupAndRestore(Callback):
    """Make ``fit`` resume where an interrupted run stopped.

    After each epoch (or every ``save_freq`` batches) it saves the weights and the optimizer's
    state to ``<backup_dir>/latest.weights.h5``, and the epoch reached to
    ``<backup_dir>/training_metadata.json``, each atomically. When ``fit`` begins and a backup
    exists, both are loaded and ``fit`` continues from that epoch (a backup made mid-epoch
    restarts that epoch). When training ends without an error the backup folder is deleted,
    unless ``delete_checkpoint`` is False.

    Args:
        backup_dir: the folder for the backup (used by this callback only).
        save_freq: "epoch" (default) or a number of batches.
        double_checkpoint: keep the previous backup too (``*.bkp``) and fall back to it when the
            latest cannot be read.
        delete_checkpoint: delete ``backup_dir`` when training ends (default True).

    Raises:
        ValueError: an empty ``backup_dir``, a bad ``save_freq``, or (when fit begins) a model
            that is not built yet.
    """

    def __init__(
        self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True
    ):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: empty backup_dir argument passed")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self._counter = _check_save_freq(self, save_freq)
        self.double_checkpoint, self.delete_checkpoint = double_checkpoint, delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._epoch = 0

    def on_train_begin(self, logs=None):
        from .saving import FileFormatError

        if not self.model.built:
            raise ValueError(
                f"To use BackupAndRestore, the model must be built before fit(): model "
                f"{self.model.name!r} is not. Give it an input shape (an Input layer or "
                f"input_shape=) or call it on a batch of data first."
            )
        try:
            self._restore()
        except (OSError, FileFormatError):
            if not (self.double_checkpoint and os.path.exists(self._weights_path + ".bkp")):
                raise
            for path in (self._weights_path, self._metadata_path):
                if os.path.exists(path + ".bkp"):
                    shutil.copyfile(path + ".bkp", path)
            self._restore()

    def _restore(self):
        from .saving import FileFormatError

        if os.path.exists(self._weights_path):
            self.model.load_weights(self._weights_path)
        if os.path.exists(self._metadata_path):
            with open(self._metadata_path, "rb") as file:
                try:
                    epoch = json.load(file)["epoch"]
                except (ValueError, KeyError, TypeError) as err:
                    raise FileFormatError(
                        f"{self._metadata_path} is damaged ({type(err).__name__}: {err})"
                    ) from err
            if not isinstance(epoch, int) or epoch < 0:
                raise FileFormatError(f"{self._metadata_path}: bad epoch {epoch!r}")
            self._epoch = epoch
            self.model._initial_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._counter is not None and self._counter.due(batch):
            self._backup()

    def on_epoch_end(self, epoch, logs=None):
        self._epoch = epoch + 1
        if self._counter is None:
            self._backup()

    def _backup(self):
        from .saving import atomic_write

        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path in (self._weights_path, self._metadata_path):
                if os.path.exists(path):
                    shutil.copyfile(path, path + ".bkp")
        self.model.save_weights(self._weights_path, overwrite=True)
        with atomic_write(self._metadata_path) as file:
            file.write(json.dumps({"epoch": self._epoch}).encode())

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


class GradientFlow(Callback):
    """Records each layer's gradient norm ‖dL/dW‖ and weight norm ‖W‖ every ``every`` training
    steps, and warns when a layer's gradients vanish or explode for a sustained stretch.

    A layer's ‖dL/dW‖ is the L2 norm of the gradients of all its trainable weights together,
    sqrt(Σ_w ‖dL/dw‖²), and ‖W‖ likewise. The gradient is measured as a training step computes it
    (``training=True``) on one fixed batch (x, y), the same at every measurement, so that the
    curves show the network changing rather than the noise between batches. Measuring changes
    nothing: the non-trainable state (BatchNormalization's statistics) and the random generator
    are restored afterwards.

    Args:
        x, y: the batch to measure on, e.g. a few hundred training samples.
        every: measure every this many training steps (counted across epochs), and once before
            the first step.
        low, high: a layer's gradient vanishes below ``low`` and explodes above ``high``.
        patience: warn when a layer's gradient norm stays beyond a threshold for this many
            measurements in a row (once per such stretch).

    Attributes:
        steps: the training step of each measurement (0: before the first).
        gradient_norms: {layer name: [‖dL/dW‖ at each measurement]}.
        weight_norms: {layer name: [‖W‖ at each measurement]}.
        alerts: the warnings given, as text.

    Example::

        flow = GradientFlow(x_train[:256], y_train[:256], every=50)
        model.fit(x_train, y_train, callbacks=[flow])
        chainrule.plot.plot_gradient_flow(flow, "gradient_flow.png")
    """

    def __init__(self, x, y, every=50, low=1e-7, high=1e3, patience=5):
        super().__init__()
        for name, value in (("every", every), ("patience", patience)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GradientFlow: {name} must be a positive integer; got {value!r}")
        if not 0 < low < high:
            raise ValueError(
                f"GradientFlow: expected thresholds 0 < low < high; got low={low!r}, high={high!r}"
            )
        self.x, self.y = x, y
        self.every, self.low, self.high, self.patience = every, low, high, patience
        self.steps, self.gradient_norms, self.weight_norms, self.alerts = [], {}, {}, []
        self._step, self._streaks = 0, {}

    def on_train_begin(self, logs=None):
        self.steps, self.gradient_norms, self.weight_norms, self.alerts = [], {}, {}, []
        self._step, self._streaks = 0, {}
        self._measure()

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if self._step % self.every == 0:
            self._measure()

    def _measure(self):
        from .. import random
        from ..engine import Tensor, grad_arrays, no_grad

        model = self.model
        if not model.built:  # as the first training step would: create the weights first
            with no_grad():
                model(Tensor(self.x)[:1], training=False)
        layers = [layer for layer in getattr(model, "layers", [model]) if layer.trainable_weights]
        weights = [w for layer in layers for w in layer.trainable_weights]
        state, kept = random.get_state(), [w.data.copy() for w in model.non_trainable_weights]
        try:
            loss, _ = model.forward_loss(Tensor(self.x), Tensor(self.y))
            grads = grad_arrays(loss, weights)
        finally:
            random.set_state(state)
            for variable, data in zip(model.non_trainable_weights, kept):
                variable.data[...] = data
        self.steps.append(self._step)
        by_weight = dict(zip(map(id, weights), grads))
        for layer in layers:
            gradient = _norm([by_weight[id(w)] for w in layer.trainable_weights])
            self.gradient_norms.setdefault(layer.name, []).append(gradient)
            self.weight_norms.setdefault(layer.name, []).append(
                _norm([w.data for w in layer.trainable_weights])
            )
            self._watch(layer.name, gradient)

    def _watch(self, name, norm):
        """Count the measurements in a row beyond each threshold; warn when one reaches
        ``patience``."""
        for kind, beyond in (("vanishing", norm < self.low), ("exploding", norm > self.high)):
            streak = self._streaks.get((name, kind), 0) + 1 if beyond else 0
            self._streaks[(name, kind)] = streak
            if streak != self.patience:
                continue
            if kind == "vanishing":
                rule = f"< {self.low:g}"
                advice = (
                    "its weights have all but stopped learning. Saturated sigmoid or tanh units, "
                    "dead ReLUs, a poor initialization or a tiny learning rate are the usual "
                    "causes."
                )
            else:
                rule = f"> {self.high:g}"
                advice = (
                    "lower the learning rate, clip the gradients (e.g. clipnorm=1.0) or normalize "
                    "the inputs."
                )
            message = (
                f"GradientFlow: layer {name!r} has {kind} gradients, ‖dL/dW‖ {rule} for "
                f"{streak} measurements in a row (steps {self.steps[-streak]} to "
                f"{self.steps[-1]}, now {norm:.3g}): {advice}"
            )
            self.alerts.append(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)


def _norm(arrays):
    """sqrt(Σ ‖a‖²) over the arrays (None counts as zeros)."""
    return math.sqrt(sum(float((a * a).sum()) for a in arrays if a is not None))
