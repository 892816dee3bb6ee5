"""Callbacks that set the optimizer's learning rate as training goes."""

import inspect
import math
import numbers

from .callback import Callback
from .monitor import check_mode, improves, monitored


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
        self.mode = check_mode(self, mode)
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
        current = monitored(self, logs, "Learning rate reduction is")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if improves(self._sign, current, self.best, self.min_delta):
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
