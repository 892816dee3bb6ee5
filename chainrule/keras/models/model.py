"""The Model: a layer that can be compiled and trained, with Keras's training API.

One training step is the article's four steps:

    y_pred = model(x)                    1. forward pass
    loss   = loss_fn(y, y_pred)          2. loss (plus regularization penalties)
    grads  = dL/dW for every weight W    3. backward pass: the engine applies the chain rule
    optimizer.apply(grads, weights)      4. update, W <- W - η dL/dW for SGD

``train_step`` is exactly that and can be overridden; ``fit`` loops it over shuffled batches and
epochs, reporting progress and calling callbacks as Keras does.
"""

import functools
import math
import warnings

import numpy as np

from ...engine import Tensor, no_grad
from ...fast import TrainStepPlans, training_runtime, update_loop
from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from ..callbacks import CallbackList, History, ProgbarLogger
from ..keras_tensor import is_shape
from ..layers.base import Layer
from ..progress import Progbar
from ..saving import keras_file
from . import data
from .summary import subclassed_rows, summary_text


def _without_float_warnings(method):
    """Run ``fit``, ``evaluate`` or ``predict`` without NumPy's floating-point warnings
    (overflow, invalid operation, division by zero), as Keras prints none: the training math
    reports what matters in its own words (a loss that became inf or NaN stops ``fit`` with the
    epoch and batch where it happened)."""

    @functools.wraps(method)
    def run(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return method(*args, **kwargs)

    return run


class Model(Layer):
    """Base class of trainable models, built three ways as in Keras:

    - ``Sequential([...])``, a stack of layers;
    - ``Model(inputs, outputs)``, from layers called on ``keras.Input`` tensors (a
      :class:`~chainrule.keras.models.functional.Functional` model);
    - a subclass that creates its layers in ``__init__`` and uses them in
      ``call(self, inputs, training=False)``; layers and weights assigned to its attributes
      (also in lists) are tracked, and its weights are created on the first call.
    """

    # The class that ``Model(inputs, outputs)`` makes. Functional names itself when it is
    # defined (``class Functional(Model, functional=True)``), so that this module, below it,
    # need not import it.
    _functional_class = None

    def __init_subclass__(cls, functional=False, **kwargs):
        super().__init_subclass__(**kwargs)
        if functional:
            Model._functional_class = cls

    def __new__(cls, *args, **kwargs):
        if cls is Model and (len(args) >= 2 or "inputs" in kwargs or "outputs" in kwargs):
            return Model._functional_class.__new__(Model._functional_class)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._metric_identifiers = []
        self._weighted_metric_identifiers = []
        self._compile_metrics = None
        self._weighted_metrics = None
        self._loss_tracker = metrics_module.Mean(name="loss")
        self._initial_epoch = None  # set by a callback (BackupAndRestore) to resume a fit

    # ----- structure ---------------------------------------------------------------------------
    @property
    def layers(self):
        """The layers this model holds (a subclassed model's, in the order they were assigned)."""
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        """A layer by name or by index into ``layers``."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        names = ", ".join(layer.name for layer in self.layers)
        raise ValueError(f"No such layer: {name!r}. The model's layers are: {names}.")

    def build(self, input_shape=None):
        """Create the weights of a subclassed model: it is called once on zeros of
        ``input_shape`` (a shape, or a list or dict of shapes; None axes taken as 1)."""
        self.built = True  # the call below runs ``call``, not this method again
        if input_shape is not None:
            with no_grad():
                self(_zeros(input_shape, self.dtype), training=False)

    def summary(
        self,
        line_length=None,
        positions=None,
        print_fn=None,
        expand_nested=False,
        show_trainable=False,
        layer_range=None,
    ):
        """Print the Keras-style table of layers, output shapes and parameter counts.

        Raises:
            ValueError: a subclassed model that has not been built (called on data) yet.
        """
        (print_fn or print)(summary_text(self, *self._summary_rows()))

    def _summary_rows(self):
        """The rows of the summary's table, and whether it has the "Connected to" column."""
        return subclassed_rows(self)

    # ----- compile -----------------------------------------------------------------------------
    def compile(
        self,
        optimizer="rmsprop",
        loss=None,
        loss_weights=None,
        metrics=None,
        weighted_metrics=None,
        run_eagerly=False,
        steps_per_execution=1,
        jit_compile="auto",
        auto_scale_loss=True,
    ):
        """Configure training: the optimizer, the loss and the metrics to report.

        Args:
            optimizer: name ('sgd', 'adam', 'rmsprop') or Optimizer instance.
            loss: name, Loss instance, or function ``loss(y_true, y_pred)``.
            metrics: list of names ('accuracy', ...), Metric objects or functions, updated
                without sample weights.
            weighted_metrics: the same, updated with each batch's ``sample_weight`` (or class
                weights); one named like a metric in ``metrics`` is reported as 'weighted_<name>'.
            run_eagerly: run every step through the engine instead of replaying its traced plan.
            The remaining arguments are accepted for compatibility and have no effect here.
        """
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = loss
        self._loss_object = None if loss is None else losses_module.as_loss_object(loss)
        for argument, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value is not None and not isinstance(value, (list, tuple)):
                raise TypeError(
                    f"{argument} must be a list, e.g. {argument}=['accuracy']; got "
                    f"{type(value).__name__}"
                )
        self._metric_identifiers = list(metrics or [])
        self._weighted_metric_identifiers = list(weighted_metrics or [])
        for identifier in self._metric_identifiers + self._weighted_metric_identifiers:
            # fail now on unknown names, not mid-fit
            if not (isinstance(identifier, str) and identifier.lower() in ("accuracy", "acc")):
                metrics_module.get(identifier)
        self._compile_metrics = None
        self._weighted_metrics = None
        self._train_plans = TrainStepPlans(replay=not run_eagerly)
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
            names = {metric.name for metric in self._compile_metrics}
            self._weighted_metrics = []
            for identifier in self._weighted_metric_identifiers:
                metric = metrics_module.get(identifier, y, y_pred)
                if metric.name in names:  # Keras's name for the weighted twin of a metric
                    metric.name = f"weighted_{metric.name}"
                self._weighted_metrics.append(metric)
            self._sorted_metrics = sorted(self.metrics, key=lambda m: m.name)

    @property
    def metrics(self):
        return (
            [self._loss_tracker]
            + list(self._compile_metrics or [])
            + list(self._weighted_metrics or [])
        )

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        for metric in self.metrics:
            metric.reset_state()

    def get_metrics_result(self):
        """The current value of every metric, keyed by name in alphabetical order (as Keras):
        a float, or an array for a metric with several values (F1Score per class, say)."""
        if self._compile_metrics is None:  # nothing measured yet: the loss alone
            return {"loss": self._loss_tracker.result_value()}
        return {m.name: m.result_value() for m in self._sorted_metrics}

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
        checked to give the same results (see ``chainrule.fast.train_step``;
        ``compile(run_eagerly=True)`` turns replaying off).
        """
        plans = self._train_plans
        if plans.weights is None:
            if not self.built:  # create the weights first, so that this step updates them too
                with no_grad():
                    self(x[:1], training=False)
            # Keras also fixes what trains at compile time: compile again after changing it
            plans.weights = self.trainable_weights
        weights = plans.weights
        arrays = (x, y) if sample_weight is None else (x, y, sample_weight)
        loss, y_pred, grads = plans.step(self, arrays, weights)
        self.optimizer.update_loop = update_loop()
        self.optimizer.apply(grads, weights)
        return self._update_metrics(y, y_pred, loss, len(x), sample_weight)

    def test_step(self, x, y, sample_weight=None):
        """Forward and loss without an update; then the metrics."""
        with no_grad():
            y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        return self._update_metrics(y, y_pred, loss, len(x), sample_weight)

    def _update_metrics(self, y, y_pred, loss, batch_size, sample_weight=None):
        """Add one batch to the running metrics; y_pred and loss as arrays or Tensors. As in
        Keras, only ``weighted_metrics`` see ``sample_weight``."""
        y_pred = y_pred.data if isinstance(y_pred, Tensor) else y_pred
        if self._compile_metrics is None:
            self._build_metrics(y, y_pred)
        self._loss_tracker.add(loss.data if isinstance(loss, Tensor) else loss, batch_size)
        for metric in self._compile_metrics:
            metric.update_state(y, y_pred)
        for metric in self._weighted_metrics:
            metric.update_state(y, y_pred, sample_weight=sample_weight)
        return self.get_metrics_result()

    # ----- fit ---------------------------------------------------------------------------------
    @training_runtime
    @_without_float_warnings
    def fit(
        self,
        x=None,
        y=None,
        batch_size=None,
        epochs=1,
        verbose="auto",
        callbacks=None,
        validation_split=0.0,
        validation_data=None,
        shuffle=True,
        class_weight=None,
        sample_weight=None,
        initial_epoch=0,
        steps_per_epoch=None,
        validation_steps=None,
        validation_batch_size=None,
        validation_freq=1,
    ):
        """Train for ``epochs`` epochs, one ``train_step`` per batch.

        Args:
            x, y: arrays of samples and their targets, served in batches of ``batch_size`` (32)
                in a new random order each epoch (``shuffle``); or ``x`` alone as a source of
                batches (x, y) or (x, y, sample_weight): a ``chainrule.data.Dataset``, a
                ``keras.utils.PyDataset`` or a generator, used as it comes (``shuffle`` only
                reorders a PyDataset's batches; ``batch_size`` must not be given).
            class_weight: {class index: weight}; sample i then weighs class_weight[c_i], c_i
                its label (or the argmax of a one-hot row).
            sample_weight: one weight per sample of the arrays.
            validation_split: the *last* fraction of the arrays (before shuffling) held out
                for validation, with their sample weights.
            validation_data: (x_val, y_val[, sample_weight]) arrays, or a source of batches.
            steps_per_epoch: batches per epoch; a pass over the data then carries over from one
                epoch to the next, as Keras does. By default an epoch is one full pass.
            validation_steps: batches per validation (default: a full pass).
            validation_batch_size: batch size of validation arrays (default: ``batch_size``).
            validation_freq: validate after every N-th epoch (an int), or after the epochs in a
                list (counted from 1).

        Returns:
            A :class:`History` whose ``history`` maps 'loss', the metrics and their 'val_'
            versions to one value per epoch (per validated epoch, for 'val_').

        Raises:
            ValueError: inconsistent arguments (``batch_size``, ``y`` or ``validation_split``
                with a source of batches; ``class_weight`` with ``sample_weight``), and the
                data errors of ``checked_arrays`` in :mod:`chainrule.keras.models.data`.
        """
        self._require_compiled("fit")
        batch_size = data.check_count(batch_size, "batch_size")
        validation_batch_size = (
            data.check_count(validation_batch_size, "validation_batch_size") or batch_size
        )
        steps_per_epoch = data.check_count(steps_per_epoch, "steps_per_epoch")
        validation_steps = data.check_count(validation_steps, "validation_steps")
        _check_validation_freq(validation_freq)
        if validation_split and validation_data is None:
            if data.is_stream(x):
                raise ValueError(
                    f"validation_split is only supported for arrays; got x as a "
                    f"{data.describe(x)}. Pass validation_data=... instead."
                )
            arrays, held_out = data.split_validation(
                data.checked_arrays("fit", x, y, sample_weight), validation_split
            )
            training = data.array_batches(
                arrays, batch_size, steps_per_epoch, shuffle, class_weight
            )
            validation = data.array_batches(held_out, validation_batch_size, validation_steps)
        else:
            training = data.batches(
                "fit", x, y, sample_weight, batch_size, steps_per_epoch, shuffle, class_weight
            )
            validation = data.validation_batches(
                validation_data, validation_batch_size, validation_steps
            )
        training = data.EpochIterator(training, steps_per_epoch)
        if validation is not None:
            validation = data.EpochIterator(validation, validation_steps)
        verbose = 1 if verbose == "auto" else verbose

        self.history = History()
        extra = [ProgbarLogger(verbose)] if verbose else []
        callbacks = CallbackList(
            list(callbacks or []) + extra + [self.history],
            self,
            {
                "epochs": epochs,
                "steps": training.num_batches,
                "verbose": verbose,
                "batch_size": training.batches.batch_size,
            },
        )
        self.stop_training = False
        callbacks.on_train_begin()
        initial_epoch, self._initial_epoch = self._initial_epoch or initial_epoch, None
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            for step, (x_batch, y_batch, weight_batch) in enumerate(training.epoch()):
                callbacks.on_train_batch_begin(step)
                logs = self.train_step(x_batch, y_batch, weight_batch)
                if not math.isfinite(logs["loss"]):
                    self._report_nan(epoch, step, logs["loss"])
                callbacks.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if training.exhausted:  # a used-up generator: nothing left to train on
                data.warn_ran_out()
                break
            epoch_logs = self.get_metrics_result()
            if validation is not None and _should_validate(epoch, validation_freq):
                val_logs, _ = self._test_loop(validation)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        callbacks.on_train_end(epoch_logs)
        return self.history

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
    def _test_loop(self, iterator):
        """(logs, number of batches) of ``test_step`` over one epoch of ``iterator`` (a
        ``data.EpochIterator``), from a fresh pass."""
        self.reset_metrics()
        iterator.reset()
        logs, steps = {}, 0
        for steps, (x_batch, y_batch, weight_batch) in enumerate(iterator.epoch(), 1):
            logs = self.test_step(x_batch, y_batch, weight_batch)
        if iterator.exhausted:
            raise ValueError(
                "There was no data to evaluate on: the data yielded no batch (a generator can "
                "be read only once; a Dataset or PyDataset starts over on each use)."
            )
        return logs, steps

    @training_runtime
    @_without_float_warnings
    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        steps=None,
        callbacks=None,
        return_dict=False,
    ):
        """The loss and metrics over the data, batch by batch.

        Args:
            x, y, sample_weight: arrays, batched by ``batch_size`` (32); or ``x`` alone as a
                Dataset, PyDataset or generator of (x, y[, sample_weight]) batches.
            steps: evaluate on this many batches only (default: all).

        Returns:
            The loss alone when no metrics were compiled, else [loss, metric, ...] in compile
            order; a dict {name: value} with ``return_dict=True``.
        """
        self._require_compiled("evaluate")
        steps = data.check_count(steps, "steps")
        batches = data.batches("evaluate", x, y, sample_weight, batch_size, steps)
        bar = Progbar(0, verbose=1 if verbose == "auto" else verbose) if verbose else None
        logs, steps = self._test_loop(data.EpochIterator(batches, steps))
        if bar is not None:  # started before the loop, so its clock measures the steps
            bar.target = steps
            bar.update(steps, logs, finalize=True)
        if return_dict:
            return logs
        values = [logs[m.name] for m in self.metrics]
        return values[0] if len(values) == 1 else values

    @training_runtime
    @_without_float_warnings
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs as one NumPy array: for arrays ``x``, computed in batches of
        ``batch_size`` (32); for a Dataset, PyDataset or generator, on the x part of each of its
        batches (first ``steps`` batches only, if given)."""
        steps = data.check_count(steps, "steps")
        iterator = data.EpochIterator(
            data.batches("predict", x, batch_size=batch_size, steps=steps), steps
        )
        with no_grad():
            outputs = [self(x_batch, training=False).numpy() for x_batch, _, _ in iterator.epoch()]
        if not outputs:
            raise ValueError("predict() got no data: x yielded no batch.")
        return np.concatenate(outputs, axis=0)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on one batch; returns the loss (and metrics) so far."""
        self._require_compiled("train_on_batch")
        x, y, sample_weight = data.checked_arrays("train_on_batch", x, y, sample_weight)
        logs = self.train_step(x, y, data.merge_class_weight(y, sample_weight, class_weight))
        return self._batch_result(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) on one batch, without updating the weights."""
        self._require_compiled("test_on_batch")
        self.reset_metrics()
        logs = self.test_step(*data.checked_arrays("test_on_batch", x, y, sample_weight))
        return self._batch_result(logs, return_dict)

    def predict_on_batch(self, x):
        """The model's outputs for one batch, as a NumPy array."""
        with no_grad():
            return self(data.as_input_array(x), training=False).numpy()

    # ----- saving ------------------------------------------------------------------------------
    def save(self, filepath, overwrite=True):
        """Save the model to ``filepath`` (``.keras``, Keras 3's format), atomically: the
        architecture, the weights, the compile config and the optimizer's state.

        Load it with ``chainrule.keras.models.load_model`` or ``keras.saving.load_model``.
        """
        keras_file.save_model(self, filepath, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=True):
        """Save the weights and the optimizer's state to ``filepath`` (``.weights.h5``)."""
        keras_file.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Load the weights (and optimizer state) from a ``.weights.h5`` or ``.keras`` file."""
        keras_file.load_weights(self, filepath)

    def to_json(self, **kwargs):
        """The model's description as a JSON string (``model_from_json`` rebuilds it)."""
        return keras_file.to_json(self, **kwargs)

    def _batch_result(self, logs, return_dict):
        if return_dict:
            return logs
        values = [logs[m.name] for m in self.metrics]
        return values[0] if len(values) == 1 else values


def _check_validation_freq(validation_freq):
    """An int >= 1 (validate every N epochs) or a list of epochs counted from 1, as Keras."""
    if isinstance(validation_freq, (int, np.integer)) and not isinstance(validation_freq, bool):
        if validation_freq < 1:
            raise ValueError(f"validation_freq must be at least 1; got {validation_freq}.")
        return
    if not isinstance(validation_freq, (list, tuple)):
        raise ValueError(
            f"Expected validation_freq to be a list or int. Received: "
            f"validation_freq={validation_freq!r} of the type {type(validation_freq).__name__}."
        )


def _should_validate(epoch, validation_freq):
    """Whether to validate after ``epoch`` (counted from 0)."""
    if isinstance(validation_freq, (list, tuple)):
        return epoch + 1 in validation_freq
    return (epoch + 1) % validation_freq == 0


def _zeros(shape, dtype):
    """Zeros of ``shape`` (None axes as 1), or the same structure of arrays for a list or dict
    of shapes."""
    if isinstance(shape, dict):
        return {key: _zeros(value, dtype) for key, value in shape.items()}
    if is_shape(shape):
        return np.zeros(tuple(1 if n is None else n for n in shape), dtype=dtype)
    return [_zeros(value, dtype) for value in shape]
