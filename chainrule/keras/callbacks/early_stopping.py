"""Callbacks that stop training: when the monitored quantity stops improving, or on a NaN
loss."""

import math

from .callback import Callback
from .monitor import check_mode, improves, monitor_sign, monitored


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
        self.mode = check_mode(self, mode)
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
        sign = monitor_sign(self)
        if sign is None and current is not None:
            raise ValueError(
                f"EarlyStopping callback received monitor={self.monitor} but cannot determine "
                f"whether that metric should be maximized or minimized. Pass mode='max' in order "
                f"to do early stopping based on the highest metric value, or mode='min' for the "
                f"lowest."
            )
        return sign

    def _is_improvement(self, value, reference):
        return improves(self._sign, value, reference, self.min_delta)

    def on_epoch_end(self, epoch, logs=None):
        current = monitored(self, logs, "Early stopping")
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
