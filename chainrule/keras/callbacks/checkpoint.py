"""Callbacks that save the training: checkpoints of the model, and backups to resume from."""

import json
import os
import shutil

from ..saving import FileFormatError, atomic_write
from .callback import Callback
from .monitor import check_mode, improves, monitor_sign, monitored


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
        self.mode = check_mode(self, mode)
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
        current = monitored(self, logs, "Saving the best model is")
        if current is None:
            return True
        if self._sign is None:
            self._sign = monitor_sign(self)
            if self._sign is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but cannot "
                    f"determine whether that metric should be maximized or minimized. Pass "
                    f"mode='max' to keep the highest value, or mode='min' for the lowest."
                )
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self.best is None or improves(self._sign, current, self.best):
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
