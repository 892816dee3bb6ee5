"""The Model: a layer that can be compiled and trained, with Keras's training API.

One training step is the article's four steps:

    y_pred = model(x)                    1. forward pass
    loss   = loss_fn(y, y_pred)          2. loss (plus regularization penalties)
    grads  = dL/dW for every weight W    3. backward pass: the engine applies the chain rule
    optimizer.apply(grads, weights)      4. update, W <- W - η dL/dW for SGD

``train_step`` is exactly that and can be overridden; ``fit`` loops it over shuffled batches and
epochs, reporting progress and calling callbacks as Keras does.
"""

import math
import warnings

import numpy as np

from ... import random
from ...engine import Tensor, no_grad
from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from ..callbacks import CallbackList, History, ProgbarLogger
from ..layers.base import Layer
from ..progress import Progbar
from . import data
from .replay import TrainStepPlans


class Model(Layer):
    """Base class of trainable models (``Sequential`` is the one most programs use)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._metric_identifiers = []
        self._compile_metrics = None
        self._loss_tracker = metrics_module.Mean(name="loss")

    # ----- compile -----------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configure training: the optimizer, the loss and the metrics to report.

        Args:
            optimizer: name ('sgd', 'adam', 'rmsprop') or Optimizer instance.
            loss: name, Loss instance, or function ``loss(y_true, y_pred)``.
            metrics: list of names ('accuracy', ...), Metric objects or functions.
            run_eagerly: run every step through the engine instead of replaying its traced plan.
            The remaining arguments are accepted for compatibility and have no effect here.
        """
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss
        self._loss_object = None if loss is None else losses_module.as_loss_object(loss)
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise TypeError(
                f"metrics must be a list, e.g. metrics=['accuracy']; got {type(metrics).__name__}"
            )
        self._metric_identifiers = list(metrics or [])
        for identifier in self._metric_identifiers:  # fail now on unknown names, not mid-fit
            if not (isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc")):
                metrics_module.get(identifier)
        self._compile_metrics = None
        self._train_plans = TrainStepPlans(enabled=not run_eagerly)
        self.compiled = True

    def _require_compiled(self, method):
        if not self.compiled:
            raise RuntimeError(
                f"You must call compile() before {method}(): e.g. model.compile(optimizer='sgd', "
                f"loss='categorical_crossentropy', metrics=['accuracy'])."
            )
        if self._loss_object is None and method != "predict":
            raise ValueError(f"{method}() needs a loss: pass loss=... to compile().")

    def _build_metrics(self, y, y_pred):
        """Resolve the metric identifiers once, from the first batch's labels and outputs."""
        if self._compile_metrics is None:
            self._compile_metrics = [
                metrics_module.get(identifier, y, y_pred) for identifier in self._metric_identifiers
            ]

    @property
    def metrics(self):
        return [self._loss_tracker] + list(self._compile_metrics or [])

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    def get_metrics_result(self):
        """The current value of every metric, keyed by name in alphabetical order (as Keras)."""
        return {m.name: float(m.result()) for m in sorted(self.metrics, key=lambda m: m.name)}

    # ----- one step ----------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss plus the model's regularization penalties (``self.losses``)."""
        loss = self._loss_object(y, y_pred, sample_weight)
        for penalty in self.losses:
            loss = loss + penalty
        return loss

    def forward_loss(self, x, y, sample_weight=None):
        """Steps 1 and 2 on Tensors: (loss, y_pred) for one training batch."""
        y_pred = self(x, training=True)
        return self.compute_loss(x, y, y_pred, sample_weight), y_pred

    def train_step(self, x, y, sample_weight=None):
        """Forward, loss, backward, update; then the metrics. Returns the running logs.

        Steps 1 to 3 run through the engine, or replay its recorded plan once that has been
        checked to give the same results (see ``replay.py``; ``compile(run_eagerly=True)``
        turns replaying off).
        """
        if not self.built:  # create the weights first, so that this step updates them too
            with no_grad():
                self(x[:1], training=False)
        weights = self.trainable_weights
        arrays = (x, y) if sample_weight is None else (x, y, sample_weight)
        loss, y_pred, grads = self._train_plans.step(self, arrays, weights)
        self.optimizer.apply(grads, weights)
        return self._update_metrics(y, y_pred, loss, len(x))

    def test_step(self, x, y, sample_weight=None):
        """Forward and loss without an update; then the metrics."""
        with no_grad():
            y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        return self._update_metrics(y, y_pred, loss, len(x))

    def _update_metrics(self, y, y_pred, loss, batch_size):
        """Add one batch to the running metrics; y_pred and loss as arrays or Tensors."""
        y_pred = y_pred.data if isinstance(y_pred, Tensor) else y_pred
        self._build_metrics(y, y_pred)
        self._loss_tracker.update_state(loss.data if isinstance(loss, Tensor) else loss,
                                        sample_weight=batch_size)
        for metric in self._compile_metrics:
            metric.update_state(y, y_pred)
        return self.get_metrics_result()

    # ----- fit ---------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train for ``epochs`` passes over (x, y) in shuffled batches of ``batch_size`` (32).

        ``validation_split`` holds out the *last* fraction of the data (before shuffling), as
        Keras does; ``validation_data`` = (x_val, y_val[, sample_weight]) is evaluated after
        each epoch. Returns a :class:`History` whose ``history`` maps 'loss', the metrics and
        their 'val_' versions to per-epoch values.
        """
        self._require_compiled("fit")
        batch_size = _check_batch_size(batch_size)
        x = data.as_input_array(x, "x")
        y = data.as_target_array(y, "y")
        sample_weight = None if sample_weight is None else np.asarray(sample_weight, np.float32)
        data.check_lengths(x, y, sample_weight)
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = data.split_validation(
                (x, y, sample_weight), validation_split
            )
        validation = self._validation_arrays(validation_data)
        n = len(x)
        steps = math.ceil(n / batch_size)
        verbose = 1 if verbose == "auto" else verbose

        self.history = History()
        extra = [ProgbarLogger(verbose)] if verbose else []
        callbacks = CallbackList(
            list(callbacks or []) + extra + [self.history], self,
            {"epochs": epochs, "steps": steps, "verbose": verbose, "batch_size": batch_size},
        )
        self.stop_training = False
        callbacks.on_train_begin()
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            order = random.generator().permutation(n) if shuffle else None
            for step, index in enumerate(data.batch_slices(n, batch_size, order)):
                callbacks.on_train_batch_begin(step)
                logs = self.train_step(
                    data.take(x, index), data.take(y, index), data.take(sample_weight, index)
                )
                if not math.isfinite(logs["loss"]):
                    self._report_nan(epoch, step, logs["loss"])
                callbacks.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = self.get_metrics_result()
            if validation is not None and (epoch + 1) % validation_freq == 0:
                x_val, y_val, weight_val = validation
                val_logs = self.evaluate(x_val, y_val, sample_weight=weight_val, verbose=0,
                                         batch_size=validation_batch_size or batch_size,
                                         return_dict=True)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        callbacks.on_train_end(epoch_logs)
        return self.history

    def _validation_arrays(self, validation_data):
        if validation_data is None:
            return None
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight)."
            )
        x_val = data.as_input_array(validation_data[0], "validation x")
        y_val = data.as_target_array(validation_data[1], "validation y")
        weight = validation_data[2] if len(validation_data) == 3 else None
        weight = None if weight is None else np.asarray(weight, np.float32)
        data.check_lengths(x_val, y_val, weight)
        return x_val, y_val, weight

    def _report_nan(self, epoch, step, value):
        self.stop_training = True
        warnings.warn(
            f"The loss became {value} at epoch {epoch + 1}, batch {step + 1}; training stopped. "
            f"Lower the learning rate, check the inputs for extreme values, or use a loss "
            f"with from_logits=True.",
            RuntimeWarning,
            stacklevel=3,
        )

    # ----- evaluate, predict -----------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """The loss and metrics over (x, y), in batches (32 by default).

        Returns:
            The loss alone when no metrics were compiled, else [loss, metric, ...] in compile
            order; a dict {name: value} with ``return_dict=True``.
        """
        self._require_compiled("evaluate")
        batch_size = _check_batch_size(batch_size)
        x = data.as_input_array(x, "x")
        y = data.as_target_array(y, "y")
        sample_weight = None if sample_weight is None else np.asarray(sample_weight, np.float32)
        data.check_lengths(x, y, sample_weight)
        self.reset_metrics()
        logs = {}
        steps = 0
        for steps, index in enumerate(data.batch_slices(len(x), batch_size), 1):
            logs = self.test_step(x[index], y[index], data.take(sample_weight, index))
        if verbose:
            Progbar(steps, verbose=1 if verbose == "auto" else verbose).update(
                steps, logs, finalize=True
            )
        if return_dict:
            return logs
        values = [logs[m.name] for m in self.metrics]
        return values[0] if len(values) == 1 else values

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x`` as a NumPy array, computed in batches (32 by default)."""
        batch_size = _check_batch_size(batch_size)
        x = data.as_input_array(x, "x")
        with no_grad():
            outputs = [self(x[index], training=False).numpy()
                       for index in data.batch_slices(len(x), batch_size)]
        return np.concatenate(outputs, axis=0)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns the loss (and metrics) so far."""
        self._require_compiled("train_on_batch")
        logs = self.train_step(data.as_input_array(x), data.as_target_array(y), sample_weight)
        return self._batch_result(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) on one batch, without updating the weights."""
        self._require_compiled("test_on_batch")
        self.reset_metrics()
        logs = self.test_step(data.as_input_array(x), data.as_target_array(y), sample_weight)
        return self._batch_result(logs, return_dict)

    def predict_on_batch(self, x):
        """The model's outputs for one batch, as a NumPy array."""
        with no_grad():
            return self(data.as_input_array(x), training=False).numpy()

    def _batch_result(self, logs, return_dict):
        if return_dict:
            return logs
        values = [logs[m.name] for m in self.metrics]
        return values[0] if len(values) == 1 else values


def _check_batch_size(batch_size):
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    return int(batch_size)

