"""Each layer's gradient and weight norms through training, with warnings when gradients
vanish or explode."""

import math
import warnings

from ... import random
from ...engine import Tensor, grad_arrays, no_grad
from .callback import Callback


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
