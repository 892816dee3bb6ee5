"""The Model: a layer that can be compiled and trained, with Keras's training API.

One training step is the article's four steps:

    y_pred = model(x)                    1. forward pass
    loss   = loss_fn(y, y_pred)          2. loss (plus ``model.losses``: add_loss, regularizers)
    grads  = dL/dW for every weight W    3. backward pass: the engine applies the chain rule
    optimizer.apply(grads, weights)      4. update, W <- W - η dL/dW for SGD

``train_step(data)`` is exactly that and can be overridden, as can ``test_step(data)``,
``predict_step(data)``, ``compute_loss`` and ``metrics``, with Keras 3's contract: ``data`` is
one batch as the data gives it (``(x, y)``, ``(x, y, sample_weight)`` or ``x``, as Tensors), and
a step returns a dict of logs. ``fit`` loops it over shuffled batches and epochs, reporting
progress and calling callbacks as Keras does.
"""

import contextlib
import functools
import inspect
import math
import warnings

import numpy as np

from ... import nest
from ...engine import Tensor, no_grad
from ...fast import (
    DirectStep,
    InferencePlans,
    TrainStepPlans,
    active,
    batch_gathering,
    batch_runtime,
    training_runtime,
    update_loop,
)
from .. import distribution as distribution_module
from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from ..callbacks import CallbackList, History, ProgbarLogger
from ..callbacks.callback import pythonify_logs
from ..keras_tensor import is_shape, is_symbolic
from ..layers.base import Layer, tracked_metrics, walk_layers
from ..progress import Progbar
from ..registry import names_of, serializable
from ..saving import keras_file
from ..saving.serialization import (
    compile_arguments,
    compile_config,
    deserialize_config,
    is_functional_config,
)
from ..utils import pack_x_y_sample_weight, unpack_x_y_sample_weight
from . import data
from .compile_utils import CompileLoss, CompileMetrics, output_names
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


@serializable("keras.models")
class Model(Layer):
    """Base class of trainable models, built three ways as in Keras:

    - ``Sequential([...])``, a stack of layers;
    - ``Model(inputs, outputs)``, from layers called on ``keras.Input`` tensors (a
      :class:`~chainrule.keras.models.functional.Functional` model);
    - a subclass that creates its layers in ``__init__`` and uses them in
      ``call(self, inputs, training=False)``; layers and weights assigned to its attributes
      (also in lists) are tracked, and its weights are created on the first call.
    """

    _passes_strings_on = True  # its layers take or refuse strings (TextVectorization first)

    # The class that ``Model(inputs, outputs)`` makes. Functional names itself when it is
    # defined (``class Functional(Model, functional=True)``), so that this module, below it,
    # need not import it.
    _functional_class = None
    _distribution = distribution_module.SingleProcess()  # compile() sets the one in force

    def __init_subclass__(cls, functional=False, **kwargs):
        super().__init_subclass__(**kwargs)
        if functional:
            Model._functional_class = cls

    # For each subclass of Model built from inputs and outputs, its functional twin.
    _functional_twins = {}

    def __new__(cls, *args, **kwargs):
        functional = Model._functional_class
        if cls is Model and (len(args) >= 2 or "inputs" in kwargs or "outputs" in kwargs):
            return functional.__new__(functional)  # which checks its inputs and outputs
        inputs = args[0] if args else kwargs.get("inputs")
        outputs = args[1] if len(args) > 1 else kwargs.get("outputs")
        if is_symbolic(inputs) and is_symbolic(outputs) and not issubclass(cls, functional):
            # A subclass of Model (overriding train_step, say) called as Model(inputs, outputs)
            # is a functional model with the subclass's methods, as in Keras: the instance's
            # class derives from both, the subclass first.
            twin = Model._functional_twins.get(cls)
            if twin is None:
                twin = type(cls.__name__, (cls, functional), {"__module__": cls.__module__})
                twin.__qualname__ = cls.__qualname__
                Model._functional_twins[cls] = twin
            return super().__new__(twin)
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
        self._compile_loss = None
        self._loss_weights = None
        self._loss_object = None
        self._loss_tracker = None  # compile() makes it, as Keras does
        self._initial_epoch = None  # set by a callback (BackupAndRestore) to resume a fit
        self._predict_plans = InferencePlans()  # predict needs no compile

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
            loss: name, Loss instance, or function ``loss(y_true, y_pred)``; for a model with
                several outputs, one loss for all of them, a list with one per output, or a
                dict keyed by output names (the names of the layers computing them); None when
                the loss comes only from ``add_loss``, an overridden ``compute_loss`` or
                ``train_step``.
            loss_weights: the weight w_k of each output's loss in the total
                sum_k w_k L_k: a number, a list or a dict, as ``loss``.
            metrics: names ('accuracy', ...), Metric objects or functions, updated without
                sample weights: a list for one output; for several, a list with one entry per
                output (a metric or a list of them) or a dict keyed by output names.
            weighted_metrics: the same, updated with each batch's ``sample_weight`` (or class
                weights); one named like a metric in ``metrics`` is reported as 'weighted_<name>'.
            run_eagerly: run every step through the engine instead of replaying its traced plan.

        The remaining arguments are accepted for compatibility and have no effect here.
        """
        self._distribution = distribution_module.distribution()  # e.g. a strategy's scope
        self.optimizer = self._distribution.wrap_optimizer(optimizers_module.get(optimizer))
        self.loss = loss
        self._loss_weights = loss_weights  # for the compile config that saving writes
        names = output_names(self)
        self._compile_loss = None if loss is None else CompileLoss(loss, loss_weights, names)
        single = loss is not None and not isinstance(loss, (list, tuple, dict))
        self._loss_object = losses_module.as_loss_object(loss) if single else None
        self._metric_identifiers = metrics if metrics is not None else []
        self._weighted_metric_identifiers = weighted_metrics if weighted_metrics is not None else []
        self._compile_metrics = None
        if metrics is not None or weighted_metrics is not None:
            self._compile_metrics = CompileMetrics(metrics, weighted_metrics, names)
        self._loss_tracker = metrics_module.Mean(name="loss")
        # A compute_loss of the user's may keep state of its own (a metric it updates, say),
        # which replaying a recorded step would skip: such a model trains through the engine.
        replay = not run_eagerly and type(self).compute_loss is Model.compute_loss
        self._train_plans = TrainStepPlans(replay=replay)
        self._test_plans = InferencePlans(replay=replay)
        self._predict_plans = InferencePlans(replay=not run_eagerly)
        self.compiled = True

    def _require_compiled(self, method):
        if not self.compiled:
            raise RuntimeError(
                f"You must call compile() before {method}(): e.g. model.compile(optimizer='sgd', "
                f"loss='categorical_crossentropy', metrics=['accuracy'])."
            )

    def _needs_targets(self, step):
        """Whether batches must hold targets y for ``step`` ('train_step' or 'test_step'): only
        when Keras's own step and ``compute_loss`` run a compiled loss, which reads them. (A
        step of the user's may do without, as may a model whose loss comes from add_loss.)"""
        own = getattr(type(self), step) is getattr(Model, step)
        return own and type(self).compute_loss is Model.compute_loss and bool(self._compile_loss)

    def _unbuilt(self):
        """Whether the compiled loss or metrics still wait for a first batch to be resolved."""
        loss, metrics = self._compile_loss, self._compile_metrics  # checked on every step
        return (loss is not None and not loss.built) or (metrics is not None and not metrics.built)

    def _build_metrics_for(self, data):
        """Resolve the compiled loss and metrics before the first step, from its batch ``data``
        ('accuracy' needs the shapes of labels and outputs to choose its kind): a step of the
        user's reads them from ``self.metrics``, which must list them already."""
        x, y, _ = unpack_x_y_sample_weight(data)
        if y is None:
            return
        with no_grad():
            y_pred = self(x, training=False)
        names = output_names(self)  # known now for a Sequential model built on data
        for compiled in (self._compile_loss, self._compile_metrics):
            if compiled is not None and not compiled.built:
                compiled.output_names = compiled.output_names or names
                compiled.build(y, y_pred)

    @property
    def metrics(self):
        """The metrics ``fit`` and ``evaluate`` reset at the start of each epoch and report, in
        Keras's order: the loss tracker ('loss'), the compiled metrics as one metric
        ('compile_metrics') and, with several losses, each output's loss ('<output>_loss'), once
        compiled; then the Metric objects held in this model's attributes, then those of its
        layers (other models excepted). Override it to list your own trackers instead."""
        found = []
        if self.compiled:
            found.append(self._loss_tracker)
            if self._compile_metrics is not None:
                found.append(self._compile_metrics)
            if self._compile_loss is not None:
                found += self._compile_loss.metrics
        known = {id(m) for m in found}
        if self.compiled:  # Metric objects given to compile are reported by compile_metrics
            given = (self._metric_identifiers, self._weighted_metric_identifiers)
            known.update(id(m) for m in nest.flatten(given))
        for layer in walk_layers(self):
            if layer is not self and isinstance(layer, Model):
                continue
            for metric in tracked_metrics(layer):
                if id(metric) not in known:
                    known.add(id(metric))
                    found.append(metric)
        return found

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def reset_metrics(self):
        """Reset every metric in ``self.metrics`` (``fit`` does so at each epoch's start)."""
        for metric in self.metrics:
            metric.reset_state()

    def get_metrics_result(self):
        """{name: metric.result()} for every metric in ``self.metrics``, in that order (a
        metric whose result is a dict adds its entries)."""
        results = {}
        for metric in self._current_metrics():
            result = metric.result()
            if isinstance(result, dict):
                results.update(result)
            else:
                results[metric.name] = result
        return results

    def _current_metrics(self):
        """``self.metrics``, but read only once per epoch inside ``fit`` and ``evaluate`` (at
        the epoch's first step, once that step has built the layers), as Keras reads it once
        when it traces the step: walking the layers for it on every step would cost more than
        the step's own bookkeeping."""
        fixed = self.__dict__.get("_epoch_metrics")
        if fixed is None:  # outside an epoch
            return self.metrics
        if isinstance(fixed, list):  # the epoch's first read
            fixed = tuple(self.metrics)
            object.__setattr__(self, "_epoch_metrics", fixed)  # not tracked as an attribute
        return fixed

    @contextlib.contextmanager
    def _metrics_read_once(self):
        """Within the block (one epoch's steps), ``get_metrics_result`` reads ``self.metrics``
        once (see ``_current_metrics``)."""
        outer = self.__dict__.get("_epoch_metrics")
        object.__setattr__(self, "_epoch_metrics", [])
        try:
            yield
        finally:
            object.__setattr__(self, "_epoch_metrics", outer)

    def _logs_can_wait(self):
        """Whether, for the rest of this epoch of ``fit``, each step may update the metrics and
        leave their results to be read only by what reads the logs (a callback's batch hook;
        Keras too reads a step's logs lazily), the loss for the NaN check coming from the loss
        tracker. Only when the logs are certainly those results, with 'loss' the tracker's:
        Keras's own ``train_step``, ``compute_metrics`` and ``get_metrics_result``, and the
        metrics just the loss tracker and compile_metrics, none of whose metrics is named
        'loss'. Asked after the epoch's first step, once the metrics are built."""
        own = all(
            getattr(type(self), name) is getattr(Model, name) and name not in self.__dict__
            for name in ("train_step", "compute_metrics", "get_metrics_result")
        )
        compiled = self._compile_metrics
        expected = (self._loss_tracker,) if compiled is None else (self._loss_tracker, compiled)
        return (
            own
            and self._current_metrics() == expected
            and (compiled is None or all(m.name != "loss" for m in compiled.metrics))
        )

    def _held_optimizers(self):
        """The compiled optimizer and any other that an attribute of the model holds (a GAN's
        ``d_optimizer`` and ``g_optimizer``, say), each once."""
        held = [self.optimizer] + [
            value for value in vars(self).values() if isinstance(value, optimizers_module.Optimizer)
        ]
        return list(
            {id(optimizer): optimizer for optimizer in held if optimizer is not None}.values()
        )

    def _direct_step(self):
        """``_train_step_logged_lazily`` on the rest of this epoch's usual batches, its parts
        found now and then called directly (:class:`chainrule.fast.DirectStep`); None where a
        step does more than replay its plan, apply the gradients (``Optimizer._direct_apply``),
        add the loss to its tracker and update the compiled metrics of one output: outside the
        speed package, under a distribution, with a loss per output, or where the optimizer
        does more in ``apply``. Asked after ``_logs_can_wait``, when that holds."""
        optimizer, plans = self.optimizer, self._train_plans
        compiled_loss, compiled_metrics = self._compile_loss, self._compile_metrics
        if (
            not active()
            or type(self._distribution) is not distribution_module.SingleProcess
            or plans.weights is None
            or (compiled_loss is not None and compiled_loss.metrics)
        ):
            return None
        apply = optimizer._direct_apply(plans.weights)
        updates, weighted = [], []
        if compiled_metrics is not None:
            updates = compiled_metrics._direct_updates()
            weighted = compiled_metrics._direct_updates(weighted_batch=True)
        if apply is None or updates is None:
            return None
        return DirectStep(plans, apply, self._loss_tracker.add, updates, weighted)

    def _train_step_logged_lazily(self, data):
        """``train_step(data)`` whose logs are read later: the metrics are updated now, and
        ``get_metrics_result`` (the logs) is returned uncalled."""
        x, y, sample_weight, y_pred = self._fit_batch(data)
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result

    # ----- one step ----------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The loss of one batch: the compiled loss of (y, y_pred, sample_weight), plus the sum of
        each Tensor in ``self.losses`` (``add_loss`` and weight regularizers). With several
        outputs the compiled loss is sum_k w_k L_k(y_k, y_pred_k, s_k) (see ``compile``), and
        each unweighted L_k is added to its tracker, reported as '<output>_loss'.

        Raises:
            ValueError: no loss at all (none compiled, none added), or a compiled loss without
                targets ``y``.
        """
        losses = []
        if self._compile_loss is not None:
            if y is None:
                raise ValueError(
                    f"The loss compiled into model {self.name!r} needs targets, but the batch "
                    f"holds only x: pass y to fit()/evaluate(), yield (x, y) batches, or compile "
                    f"without a loss when the model adds its own with add_loss()."
                )
            losses.append(self._compile_loss(y, y_pred, sample_weight))
        for loss in self.losses:
            loss = loss if isinstance(loss, Tensor) else Tensor(np.asarray(loss, np.float32))
            losses.append(loss.sum() if loss.ndim else loss)
        if not losses:
            raise ValueError(
                "No loss to compute. Provide a `loss` argument in `compile()`, or add one with "
                "`add_loss()` in a layer's call()."
            )
        return functools.reduce(lambda total, loss: total + loss, losses)

    def _compute_loss(self, x, y, y_pred, sample_weight, training):
        """``compute_loss``, also when an override has no ``training`` parameter (as before
        Keras 3.3)."""
        if "training" in _parameters(type(self).compute_loss):
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    # Keras 2's names for the compiled loss and metrics, which Keras 3 on TensorFlow keeps
    @property
    def compiled_metrics(self):
        """Keras 2's ``self.compiled_metrics.update_state(y, y_pred, sample_weight=None)``, as
        Keras 3 on TensorFlow keeps it: every metric of ``self.metrics`` is updated, a ``Mean``
        (the loss tracker, say) with y_pred alone, with a warning naming the current way."""
        return _CompiledMetrics(self)

    def compiled_loss(self, y, y_pred, sample_weight=None, regularization_losses=None):
        """Keras 2's ``self.compiled_loss(y, y_pred)``: ``compute_loss`` of the batch, with a
        warning naming it (``regularization_losses`` is ignored, as in Keras 3: compute_loss
        adds ``self.losses``)."""
        warnings.warn(
            "`model.compiled_loss()` is deprecated. Instead, use "
            "`model.compute_loss(x, y, y_pred, sample_weight)`.",
            stacklevel=2,
        )
        return self.compute_loss(x=None, y=y, y_pred=y_pred, sample_weight=sample_weight)

    def forward_loss(self, x, y=None, sample_weight=None):
        """Steps 1 and 2 on Tensors: (loss, y_pred) for one training batch."""
        y_pred = self(x, training=True)
        return self._compute_loss(x, y, y_pred, sample_weight, True), y_pred

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics with one batch and return ``get_metrics_result()``. As in
        Keras, only ``weighted_metrics`` see ``sample_weight``; the loss tracker is updated by
        the step itself."""
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def train_step(self, data):
        """One training step on ``data``, a batch ``(x, y)``, ``(x, y, sample_weight)`` or
        ``x``: forward, loss (``compute_loss``), backward, update; then the metrics. Returns the
        logs, {name: value} of ``self.metrics``.

        Steps 1 to 3 run through the engine, or replay its recorded plan once that has been
        checked to give the same results (see ``chainrule.fast.train_step``;
        ``compile(run_eagerly=True)`` turns replaying off).
        """
        x, y, sample_weight, y_pred = self._fit_batch(data)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def _fit_batch(self, data):
        """``train_step`` up to the metrics: steps 1 to 4 on ``data`` and the loss trackers.
        Returns (x, y, sample_weight, y_pred) for the metrics."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        plans = self._train_plans
        if plans.weights is None:
            if not self.built:  # create the weights first, so that this step updates them too
                with no_grad():
                    self(nest.map_structure(lambda t: t[:1], x), training=False)
            # Keras also fixes what trains at compile time: compile again after changing it
            plans.weights = self.trainable_weights
        weights = plans.weights
        leaves, arrays = _batch_arrays(x, y, sample_weight)
        forward = self._loss_forward(x, y, sample_weight, leaves, training=True)
        with self._output_losses_returned():
            loss, (y_pred, output_losses, *masks), grads = plans.step(
                self, arrays, weights, forward
            )
        if masks:
            y_pred = _with_masks(y_pred, *masks)
        optimizer = self.optimizer
        scale = float(optimizer.scale_loss(1.0)) if hasattr(optimizer, "scale_loss") else 1
        if scale != 1:  # the gradient of the scaled loss S L, which the optimizer unscales
            grads = [None if g is None else g * scale for g in grads]
        optimizer.update_loop = update_loop()
        optimizer.apply(grads, weights)
        self._track_losses(loss, output_losses, len(arrays[0]))
        return x, y, sample_weight, y_pred

    def _loss_forward(self, x, y, sample_weight, leaves, training):
        """The forward pass and loss of a step as a function of the batch's Tensors (one per
        array of ``leaves``, the batch flattened): (loss, (y_pred, each output's loss[, the
        outputs' masks])), so that a replayed step reports each output's loss too and its
        metrics skip the steps a mask hides."""
        compile_loss = self._compile_loss

        def forward(*tensors):
            given = iter(tensors)
            batch = nest.pack_like(
                (x, y, sample_weight), [None if a is None else next(given) for a in leaves]
            )
            if training:
                loss, y_pred = self.forward_loss(*batch)
            else:
                y_pred = self(batch[0], training=False)
                loss = self._compute_loss(*batch[:2], y_pred, batch[2], False)
            outputs = (y_pred, list(compile_loss.values) if compile_loss else [])
            masks = _output_masks(y_pred)
            return _zero_if_empty(loss), outputs + (masks,) if masks else outputs

        return forward

    @contextlib.contextmanager
    def _output_losses_returned(self):
        """Within the block, the compiled loss keeps each output's loss in ``values`` for the
        step to return, rather than adding it to its tracker (:meth:`_track_losses` does)."""
        compile_loss = self._compile_loss
        if compile_loss is not None:
            compile_loss.values, compile_loss.track = [], False
        try:
            yield
        finally:
            if compile_loss is not None:
                compile_loss.track = True

    def _track_losses(self, loss, output_losses, batch_size):
        """Add a batch's loss, and each output's if there are several, to their trackers."""
        self._loss_tracker.add(loss, batch_size)
        compile_loss = self._compile_loss
        if compile_loss is not None and compile_loss.metrics:
            compile_loss.track_values(output_losses, batch_size)

    def test_step(self, data):
        """One evaluation step on ``data`` (as in ``train_step``): forward and loss without an
        update, then the metrics; returns the logs. The forward pass and loss replay their
        recorded plan once it has been checked, as the training step does."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        leaves, arrays = _batch_arrays(x, y, sample_weight)
        loss_forward = self._loss_forward(x, y, sample_weight, leaves, training=False)

        def forward(*tensors):  # (loss, y_pred, losses[, masks]): a flat tuple packs faster
            loss, outputs = loss_forward(*tensors)
            return (loss, *outputs)

        with no_grad(), self._output_losses_returned():
            loss, y_pred, output_losses, *masks = self._test_plans.run(self, arrays, forward)
        y_pred = _with_masks(y_pred, *masks) if masks else _as_tensor(y_pred)
        self._track_losses(loss, output_losses, len(arrays[0]))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's outputs for the x of ``data`` (a batch, as in ``train_step``), replayed
        from their recorded plan once it has been checked, as the training step is."""
        x, _, _ = unpack_x_y_sample_weight(data)
        leaves = nest.flatten(x)
        if not all(isinstance(leaf, Tensor) for leaf in leaves):
            return self(x, training=False)

        def forward(*tensors):
            return self(nest.pack_like(x, list(tensors)), training=False)

        with no_grad():
            outputs = self._predict_plans.run(self, [leaf.data for leaf in leaves], forward)
        return _as_tensor(outputs)

    def _get_metrics_result_or_logs(self, logs):
        """The metrics' results when a step's ``logs`` have their names (the default steps),
        else the step's own ``logs`` (a step of the user's reporting other values), as Keras."""
        results = self.get_metrics_result()
        if isinstance(logs, dict) and set(logs) == set(results):
            return results
        return logs

    def _flatten_metrics_in_order(self, logs):
        """``evaluate``'s list: the values of ``logs`` in the order of ``self.metrics`` (the
        compiled metrics in compile order, when their names are the logs' keys: one output),
        then the others by name; one value alone for a single one."""
        names = []
        for metric in self.metrics:  # the compiled metrics by their own names, as Keras
            if isinstance(metric, CompileMetrics):
                names += [m.name for m in metric.metrics if m.name in logs]
            elif metric.name in logs:
                names.append(metric.name)
        values = [logs[name] for name in names]
        values += [logs[key] for key in sorted(logs) if key not in names]
        return values[0] if len(values) == 1 else values

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
                in a new random order each epoch (``shuffle``): for several inputs (outputs) a
                list of arrays in the model's order or a dict keyed by the Input (output
                layer) names; or ``x`` alone as a source of
                batches (x, y), (x, y, sample_weight) or x: a ``chainrule.data.Dataset``, a
                ``keras.utils.PyDataset`` or a generator, used as it comes (``shuffle`` only
                reorders a PyDataset's batches; ``batch_size`` is ignored for a PyDataset or a
                generator, and refused for a Dataset). Without ``y`` (or with batches of x
                alone), ``train_step`` gets x alone: a model whose loss comes from
                ``add_loss`` or from its own step needs no targets.
            class_weight: {class index: weight}; sample i then weighs class_weight[c_i], c_i
                its label (or the argmax of a one-hot row); for models with one output only.
            sample_weight: one weight per sample of the arrays; for several outputs, a list or
                dict with one array per output, or one array used for every output.
            validation_split: the *last* fraction of the arrays (before shuffling) held out
                for validation, with their sample weights.
            validation_data: (x_val, y_val[, sample_weight]) arrays (each may be a list or
                dict, as ``x``, ``y`` and ``sample_weight``), or a source of batches.
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
        targets = self._needs_targets("train_step")
        if validation_split and validation_data is None:
            if data.is_stream(x):
                raise ValueError(
                    f"validation_split is only supported for arrays; got x as a "
                    f"{data.describe(x)}. Pass validation_data=... instead."
                )
            arrays, held_out = data.split_validation(
                data.checked_arrays("fit", x, y, sample_weight, targets=targets), validation_split
            )
            training = data.array_batches(
                arrays, batch_size, steps_per_epoch, shuffle, class_weight
            )
            validation = data.array_batches(held_out, validation_batch_size, validation_steps)
        else:
            training = data.batches(
                "fit",
                x,
                y,
                sample_weight,
                batch_size,
                steps_per_epoch,
                shuffle,
                class_weight,
                targets,
            )
            validation = data.validation_batches(
                validation_data,
                validation_batch_size,
                validation_steps,
                self._needs_targets("test_step"),
            )
        if isinstance(training, data.ArrayBatches):
            training.gather = batch_gathering()
        training = data.EpochIterator(training, steps_per_epoch)
        if validation is not None:
            validation = data.EpochIterator(validation, validation_steps)
        verbose = 1 if verbose == "auto" else verbose
        if not self._distribution.is_primary:  # only process 0 prints
            verbose = 0

        self.history = History()
        extra = [ProgbarLogger(verbose)] if verbose else []
        callbacks = [  # callbacks that write files run in process 0 only
            c
            for c in callbacks or []
            if self._distribution.is_primary or not getattr(c, "primary_only", False)
        ]
        callbacks = CallbackList(
            callbacks + extra + [self.history],
            self,
            {"verbose": verbose, "epochs": epochs, "steps": training.num_batches},
        )
        self.stop_training = False
        for optimizer in self._held_optimizers():  # a train_step of the model's own updates too
            optimizer.update_loop = update_loop()
        callbacks.on_train_begin()
        started_built = self.built
        self._distribution.start(self)
        initial_epoch, self._initial_epoch = self._initial_epoch or initial_epoch, None
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            logs, lazily, direct = {}, False, None
            with self._metrics_read_once():
                for step, batch in enumerate(training.epoch()):
                    run = None if direct is None else direct.run_for(batch)
                    if run is None:
                        step_data = _step_data(self._distribution.shard(batch))
                        if self._unbuilt():
                            self._build_metrics_for(step_data)
                    callbacks.on_train_batch_begin(step)
                    if run is not None:  # the usual batch, its step's parts found already
                        direct.step(run, batch)
                        logs = self.get_metrics_result
                        loss = float(np.float32(self._loss_tracker.result_value()))
                    elif lazily:
                        logs = self._train_step_logged_lazily(step_data)
                        loss = float(np.float32(self._loss_tracker.result_value()))
                    else:
                        logs = self.train_step(step_data)
                        loss = logs.get("loss") if isinstance(logs, dict) else None
                        lazily = self._logs_can_wait()
                        direct = self._direct_step() if lazily else None
                    if not started_built:  # the weights were made by this first step: align them
                        self._distribution.start(self)
                        started_built = True
                    if loss is not None and _is_not_finite(loss):
                        self._report_nan(epoch, step, float(loss))
                    callbacks.on_train_batch_end(step, logs)
                    if self.stop_training:
                        break
            if callable(logs):  # the last step's logs, read now
                logs = logs()
            if training.exhausted:  # a used-up generator: nothing left to train on
                data.warn_ran_out()
                break
            with self._distribution.synchronized(self.metrics):
                epoch_logs = dict(self._get_metrics_result_or_logs(logs))
            if validation is not None and _should_validate(epoch, validation_freq):
                val_logs, _ = self._test_loop(validation, callbacks)
                epoch_logs.update({f"val_{k}": v for k, v in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        self._distribution.finish()
        if epochs > 0 and hasattr(self.optimizer, "finalize_variable_values"):
            # with use_ema, the weights take their moving averages, as Keras's fit ends
            self.optimizer.finalize_variable_values(self.trainable_weights)
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
    def _test_loop(self, iterator, callbacks):
        """(logs, number of batches) of ``test_step`` over one epoch of ``iterator`` (a
        ``data.EpochIterator``), from a fresh pass, calling the ``on_test_*`` hooks."""
        self.reset_metrics()
        iterator.reset()
        callbacks.on_test_begin()
        logs, steps = {}, 0
        with self._metrics_read_once():
            for step, batch in enumerate(iterator.epoch()):
                step_data = _step_data(self._distribution.shard(batch))
                if self._unbuilt():
                    self._build_metrics_for(step_data)
                callbacks.on_test_batch_begin(step)
                logs = self.test_step(step_data)
                callbacks.on_test_batch_end(step, logs)
                steps = step + 1
        self._distribution.finish()
        if iterator.exhausted:
            raise ValueError(
                "There was no data to evaluate on: the data yielded no batch (a generator can "
                "be read only once; a Dataset or PyDataset starts over on each use)."
            )
        with self._distribution.synchronized(self.metrics):
            logs = pythonify_logs(self._get_metrics_result_or_logs(logs))
        callbacks.on_test_end(logs)
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
        """The loss and metrics over the data, batch by batch (``test_step``).

        Args:
            x, y, sample_weight: arrays (or lists or dicts of them, as in ``fit``), batched by
                ``batch_size`` (32); or ``x`` alone as a Dataset, PyDataset or generator of
                batches (``batch_size`` then ignored).
            steps: evaluate on this many batches only (default: all).
            callbacks: callbacks whose ``on_test_*`` hooks are called.

        Returns:
            The loss alone when nothing else is reported, else a list in Keras's order: 'loss',
            each output's loss, then the other values by name; a dict {name: value} with
            ``return_dict=True``.
        """
        self._require_compiled("evaluate")
        steps = data.check_count(steps, "steps")
        batches = data.batches(
            "evaluate",
            x,
            y,
            sample_weight,
            batch_size,
            steps,
            targets=self._needs_targets("test_step"),
        )
        iterator = data.EpochIterator(batches, steps)
        verbose = 1 if verbose == "auto" else verbose
        if not self._distribution.is_primary:  # only process 0 prints
            verbose = 0
        callbacks = CallbackList(
            callbacks or [], self, {"epochs": 1, "steps": iterator.num_batches, "verbose": verbose}
        )
        bar = Progbar(0, verbose=verbose) if verbose else None
        logs, steps = self._test_loop(iterator, callbacks)
        if bar is not None:  # started before the loop, so its clock measures the steps
            bar.target = steps
            bar.update(steps, logs, finalize=True)
        if return_dict:
            return logs
        return self._flatten_metrics_in_order(logs)

    @training_runtime
    @_without_float_warnings
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs (``predict_step`` on each batch, joined along axis 0) as NumPy
        arrays, in the structure ``predict_step`` returns: for arrays ``x``, computed in batches
        of ``batch_size`` (32); for a Dataset, PyDataset or generator, on each of its batches
        (first ``steps`` batches only, if given; ``batch_size`` ignored). ``callbacks`` get the
        ``on_predict_*`` hooks, each batch's outputs as ``logs["outputs"]``. ``verbose``: "auto"
        or 1, a progress bar, as in Keras; 2, one line at the end; 0, silent."""
        steps = data.check_count(steps, "steps")
        batches = data.batches("predict", x, batch_size=batch_size, steps=steps)
        iterator = data.EpochIterator(batches, steps)
        verbose = 1 if verbose == "auto" else verbose
        if not self._distribution.is_primary:  # only process 0 prints
            verbose = 0
        callbacks = CallbackList(
            callbacks or [], self, {"epochs": 1, "steps": iterator.num_batches, "verbose": verbose}
        )
        bar = Progbar(iterator.num_batches, verbose=verbose) if verbose else None
        callbacks.on_predict_begin()
        outputs = []
        with no_grad():
            for step, batch in enumerate(iterator.epoch()):
                callbacks.on_predict_batch_begin(step)
                batch_outputs = nest.map_structure(_raw, self.predict_step(_step_data(batch)))
                outputs.append(batch_outputs)
                callbacks.on_predict_batch_end(step, {"outputs": batch_outputs})
                if bar is not None:
                    bar.update(step + 1, {})
        if not outputs:
            raise ValueError("predict() got no data: x yielded no batch.")
        if bar is not None:
            bar.target = len(outputs)
            bar.update(len(outputs), {}, finalize=True)
        callbacks.on_predict_end()
        joined = [np.concatenate(parts, axis=0) for parts in zip(*map(nest.flatten, outputs))]
        joined = nest.pack_like(outputs[0], joined)
        if isinstance(joined, dict):  # Keras returns a dict of outputs by sorted name
            joined = {key: joined[key] for key in sorted(joined)}
        return joined

    @batch_runtime
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One ``train_step`` on one batch; returns that batch's loss (and metrics), computed
        before the update: the metrics are reset first, as Keras 3 does."""
        self._require_compiled("train_on_batch")
        x, y, sample_weight = data.checked_arrays(
            "train_on_batch", x, y, sample_weight, targets=self._needs_targets("train_step")
        )
        weight = None if y is None else data.merge_class_weight(y, sample_weight, class_weight)
        batch = _step_data((x, y, weight))
        if self._unbuilt():
            self._build_metrics_for(batch)
        self.reset_metrics()
        logs = self.train_step(batch)
        return self._batch_result(logs, return_dict)

    @batch_runtime
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) of ``test_step`` on one batch, without updating the weights."""
        self._require_compiled("test_on_batch")
        self.reset_metrics()
        arrays = data.checked_arrays(
            "test_on_batch", x, y, sample_weight, targets=self._needs_targets("test_step")
        )
        batch = _step_data(arrays)
        if self._unbuilt():
            self._build_metrics_for(batch)
        return self._batch_result(self.test_step(batch), return_dict)

    @batch_runtime
    def predict_on_batch(self, x):
        """The model's outputs (``predict_step``) for one batch, as NumPy arrays."""
        with no_grad():
            outputs = self.predict_step(pack_x_y_sample_weight(_as_tensor(data.input_arrays(x))))
        return nest.map_structure(_raw, outputs)

    # ----- saving ------------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The model a config describes, as Keras 3's ``Model.from_config``: a functional
        config (one with ``input_layers``) makes a functional model (of ``cls`` when it is a
        subclass), any other config is passed to ``cls(**config)`` with its nested
        descriptions built (only chainrule's classes and ``custom_objects``).

        Raises:
            FileFormatError: a functional config that does not describe a graph of layers.
            TypeError: a config with arguments ``cls.__init__`` does not take (override
                ``get_config`` and ``from_config`` together).
        """
        if is_functional_config(config):
            functional = Model._functional_class
            target = functional if cls is Model else cls
            return functional.from_config.__func__(target, config, custom_objects)
        return cls(**deserialize_config(config, custom_objects))

    def get_compile_config(self):
        """The arguments ``compile`` was given, serialized, as saving writes them in the file's
        ``compile_config`` (``{}`` for a model not compiled). A model whose ``compile`` takes
        arguments of its own overrides this method and :meth:`compile_from_config` together."""
        return compile_config(self) if self.compiled else {}

    def compile_from_config(self, config):
        """Compile the model as :meth:`get_compile_config`'s ``config`` says, when a saved model
        is loaded: ``compile(**arguments)`` with each argument built from its description.

        As in Keras 3, a model whose class overrides ``compile`` but not this method is left
        uncompiled, with a warning: its ``compile`` takes other arguments.
        """
        if type(self).compile is not Model.compile:
            warnings.warn(
                "`compile()` was not called as part of model loading because the model's "
                "`compile()` method is custom. All subclassed Models that have `compile()` "
                "overridden should also override `get_compile_config()` and "
                "`compile_from_config(config)`. Alternatively, you can call `compile()` "
                "manually after loading.",
                stacklevel=2,
            )
            return
        self.compile(**compile_arguments(config))

    def save(self, filepath, overwrite=True, zipped=None, **kwargs):
        """Save the model to ``filepath`` (``.keras``, Keras 3's format), atomically: the
        architecture, the weights, the compile config and the optimizer's state.

        Load it with ``chainrule.keras.models.load_model`` or ``keras.saving.load_model``.
        When several processes train the model (a strategy's scope), only process 0 writes.
        """
        if self._distribution.is_primary:
            keras_file.save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def save_weights(self, filepath, overwrite=True, max_shard_size=None):
        """Save the weights and the optimizer's state to ``filepath`` (``.weights.h5``); only
        process 0 writes when several processes train the model."""
        if self._distribution.is_primary:
            keras_file.save_weights(
                self, filepath, overwrite=overwrite, max_shard_size=max_shard_size
            )

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        """Load the weights (and optimizer state) from a ``.weights.h5`` or ``.keras`` file;
        ``skip_mismatch`` leaves the layers whose stored weights do not fit as they are."""
        if kwargs:
            raise TypeError(f"load_weights() got unexpected arguments: {sorted(kwargs)}")
        keras_file.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def export(self, filepath, format="onnx", verbose=None, input_signature=None, **kwargs):
        """Write the model for serving: ``format="onnx"`` writes an ONNX file that onnxruntime
        runs (``chainrule.keras.export.export_onnx``; needs ``pip install "chainrule[onnx]"``).

        Keras's default format, a TensorFlow SavedModel, needs TensorFlow: it is refused with
        a message, as are ``input_signature`` and other formats' options.

        Raises:
            ValueError: a format chainrule does not write.
        """
        writers = names_of("keras.export")
        if format not in writers:
            raise ValueError(
                f"Model.export: chainrule writes the formats {sorted(writers)}; got "
                f"format={format!r}. A TensorFlow SavedModel needs TensorFlow: export to ONNX "
                f"with model.export(path, format='onnx')."
            )
        if input_signature is not None or kwargs:
            raise ValueError(
                "Model.export: the ONNX writer takes the model's own input shapes; "
                "input_signature and other options are not supported."
            )
        writers[format](self, filepath)
        if verbose:
            print(f"Saved the model for serving as {format} at {filepath}")

    def to_json(self, **kwargs):
        """The model's description as a JSON string (``model_from_json`` rebuilds it)."""
        return keras_file.to_json(self, **kwargs)

    def _batch_result(self, logs, return_dict):
        logs = pythonify_logs(self._get_metrics_result_or_logs(logs))
        return logs if return_dict else self._flatten_metrics_in_order(logs)


def _zero_if_empty(loss):
    """The loss of a batch without rows, the empty array Keras's reduction returns, as 0: such a
    batch (a process's part of a global batch with fewer rows than processes) weighs nothing,
    and the gradient of 0 is zero."""
    return loss.sum() if loss.size == 0 else loss


def _step_data(batch):
    """What a step gets from one ``(x, y, sample_weight)`` batch of arrays: Tensors packed as
    ``pack_x_y_sample_weight`` packs them (``x`` alone when there is no ``y``)."""
    x, y, sample_weight = batch
    if type(x) is np.ndarray and type(y) is np.ndarray and sample_weight is None:
        return Tensor(x), Tensor(y)  # the usual batch, packed as below without the calls
    return pack_x_y_sample_weight(_as_tensor(x), _as_tensor(y), _as_tensor(sample_weight))


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


def _needs_outputs(identifier):
    """Whether a metric identifier ('accuracy') resolves only once labels and outputs are
    seen."""
    return isinstance(identifier, str) and identifier.lower() in metrics_module.ACCURACY_NAMES


class _CompiledMetrics:
    """What ``model.compiled_metrics`` returns: Keras 2's object, whose ``update_state``
    updates the model's metrics."""

    def __init__(self, model):
        self._model = model

    def update_state(self, y, y_pred, sample_weight=None):
        warnings.warn(
            "`model.compiled_metrics()` is deprecated. Instead, use e.g.:\n```\nfor metric in "
            "self.metrics:\n    metric.update_state(y, y_pred)\n```\n",
            stacklevel=2,
        )
        for metric in self._model.metrics:
            if isinstance(metric, metrics_module.Mean):
                metric.update_state(y_pred, sample_weight=sample_weight)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)


@functools.cache
def _parameters(function):
    """The parameters of a function, read once: ``compute_loss``'s are asked on every step."""
    return inspect.signature(function).parameters


def _is_not_finite(value):
    """Whether a logged value of one number (a scalar Tensor, array or number) is inf or NaN;
    False for a value of several numbers."""
    if type(value) is float:
        return not math.isfinite(value)
    size = value.size if isinstance(value, Tensor) else np.size(value)
    return size == 1 and not math.isfinite(float(value))


def _raw(value):
    """The array of a Tensor (or of anything array-like)."""
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _batch_arrays(x, y, sample_weight):
    """(leaves, arrays): the batch's Tensors (and Nones) flattened, and the arrays of those
    given, the data a step's plan runs on."""
    if sample_weight is None and type(x) is Tensor and type(y) is Tensor:  # the usual batch
        return [x, y, None], (x.data, y.data)
    leaves = nest.flatten((x, y, sample_weight))
    return leaves, tuple([_raw(a) for a in leaves if a is not None])


def _output_masks(y_pred):
    """{position in ``nest.flatten(y_pred)``: mask} for the outputs that carry a Keras mask
    (a sequence model's output after ``Embedding(mask_zero=True)``, say)."""
    masks = {i: losses_module.get_keras_mask(leaf) for i, leaf in enumerate(nest.flatten(y_pred))}
    return {i: mask for i, mask in masks.items() if mask is not None}


def _with_masks(y_pred, masks):
    """The outputs of a step (arrays) as Tensors again where ``masks`` (from
    :func:`_output_masks`, as arrays) gives one a mask, so that the metrics apply it, as
    Keras's do."""
    leaves = nest.flatten(y_pred)
    for i, mask in masks.items():
        leaves[i] = Tensor(leaves[i])
        leaves[i]._keras_mask = Tensor(mask)
    return nest.pack_like(y_pred, leaves)


def _as_tensor(value):
    """An array, or a list or dict of arrays (None entries kept), as Tensors."""
    if value is None or isinstance(value, np.ndarray):  # one array: every step of most models
        return None if value is None else Tensor(value)
    return nest.map_structure(lambda a: None if a is None else Tensor(a), value)


def _zeros(shape, dtype):
    """Zeros of ``shape`` (None axes as 1), or the same structure of arrays for a list or dict
    of shapes."""
    if isinstance(shape, dict):
        return {key: _zeros(value, dtype) for key, value in shape.items()}
    if is_shape(shape):
        return np.zeros(tuple(1 if n is None else n for n in shape), dtype=dtype)
    return [_zeros(value, dtype) for value in shape]
