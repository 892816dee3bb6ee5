"""Backpropagation made visible: one training step of a model, every factor of the chain rule
computed three ways.

For a compiled Sequential model, a small batch x (n, d) and its labels y, :func:`explain` runs the
article's four steps in float64 and records each in a dataclass:

1. Forward (:class:`ForwardStep`): for a Dense layer l, with a_0 = x,

       z_l = a_{l-1} W_l + b_l        (n, units)        a_l = f(z_l)        (n, units)

2. Loss (:class:`LossStep`): L(ŷ, y) with ŷ = a_L.
3. Backward (:class:`BackwardStep`), from the output down, by the chain rule:

       dL/dz_l     = dL/da_l ⊙ f'(z_l)     (n, units)    through the Jacobian diag(a) - a aᵀ
                                                          for a softmax
       dL/dW_l     = a_{l-1}ᵀ dL/dz_l       (d_in, units)
       dL/db_l     = Σ_batch dL/dz_l        (units,)
       dL/da_{l-1} = dL/dz_l W_lᵀ           (n, d_in)     the upstream gradient of layer l - 1

   Each factor (a :class:`Gradient`) is computed three ways: by these formulas, written out with
   NumPy below (the textbook); by chainrule's autodiff engine; and by central finite differences
   (L(v + h) - L(v - h)) / 2h, perturbing a sample of the entries of v. Their agreement is the
   maximum relative error between them.
4. Update (:class:`UpdateStep`): the optimizer's actual step, W_new = W - η dL/dW for SGD, and the
   ratio |ΔW| / |W|.

Layers without a textbook formula here (Conv2D, BatchNormalization, Flatten, Dropout, ...) are
called as they are, in inference mode, and compared engine against finite differences; the
textbook chain resumes below them from the engine's gradient.
"""

import sys
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..engine import Tensor, gradients

# ----- the textbook: the article's formulas, written out with NumPy ---------------------------
# Shapes: z, a (n, k) for a batch of n samples and k units; y the labels as an (n, k) matrix.


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _softmax_jacobian(z, a):
    """da_p/dz_q = a_p (δ_pq - a_q) for each sample: (n, k, k)."""
    return a[:, :, None] * (np.eye(a.shape[1]) - a[:, None, :])


@dataclass(eq=False)
class _Activation:
    """An activation f and its derivative: elementwise f'(z) (n, k), or the Jacobian (n, k, k).

    ``kink``: f' jumps at z = 0, where the derivative is undefined; the formulas, like Keras,
    take the left-hand value there.
    """

    f: object
    derivative: object
    formula: str
    kink: bool = False


ACTIVATIONS = {
    "linear": _Activation(lambda z: z, lambda z, a: np.ones_like(z), "f'(z) = 1"),
    "relu": _Activation(
        lambda z: np.maximum(z, 0),
        lambda z, a: (z > 0).astype(z.dtype),
        "f'(z) = 1[z > 0]",
        kink=True,
    ),
    "leaky_relu": _Activation(  # Keras's default slope, 0.2
        lambda z: np.where(z > 0, z, 0.2 * z),
        lambda z, a: np.where(z > 0, 1.0, 0.2),
        "f'(z) = 1 if z > 0 else 0.2",
        kink=True,
    ),
    "elu": _Activation(
        lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
        lambda z, a: np.where(z > 0, 1.0, a + 1),
        "f'(z) = 1 if z > 0 else a + 1",
    ),
    "sigmoid": _Activation(_sigmoid, lambda z, a: a * (1 - a), "f'(z) = a (1 - a)"),
    "tanh": _Activation(np.tanh, lambda z, a: 1 - a * a, "f'(z) = 1 - a²"),
    "softplus": _Activation(
        lambda z: np.logaddexp(0, z), lambda z, a: _sigmoid(z), "f'(z) = sigmoid(z)"
    ),
    "softmax": _Activation(_softmax, _softmax_jacobian, "da/dz = diag(a) - a aᵀ"),
}
"""The activations with a textbook derivative, by their Keras names."""


def _textbook_loss(loss, y, y_hat, output_activation):
    """The textbook gradient of the compiled loss: (dL/dŷ, its formula, fused), or None.

    ``fused`` is None, or (dL/dz, formula) for a loss that the engine computes straight from the
    logits z of the output activation (softmax + cross-entropy, sigmoid + binary cross-entropy).
    Only Keras's default reduction, the mean over the batch, is covered.
    """
    fn = getattr(loss, "fn", None)
    if getattr(fn, "__module__", None) != "chainrule.keras.losses" or y_hat.ndim != 2:
        return None
    if loss.reduction not in ("sum_over_batch_size", "mean"):
        return None
    name, options = fn.__name__, loss.fn_kwargs
    n, k = y_hat.shape
    y = np.asarray(y)
    if name == "sparse_categorical_crossentropy":
        y = np.eye(k)[y.reshape(n).astype(np.int64)]
        name = "categorical_crossentropy"
    y = y.reshape(n, -1).astype(np.float64)
    if y.shape != (n, k):
        return None
    smoothing = options.get("label_smoothing", 0.0)
    if name == "mean_squared_error":  # L = Σ (ŷ - y)² / (n k)
        return 2 * (y_hat - y) / (n * k), "dL/dŷ = 2 (ŷ - y) / (n k)", None
    if name == "mean_absolute_error":  # L = Σ |ŷ - y| / (n k)
        return np.sign(y_hat - y) / (n * k), "dL/dŷ = sign(ŷ - y) / (n k)", None
    if name == "categorical_crossentropy":  # L = -Σ y log(ŷ / Σŷ) / n
        y = y * (1 - smoothing) + smoothing / k
        total = y.sum(axis=1, keepdims=True)  # 1 for one-hot labels
        if options.get("from_logits"):
            return (_softmax(y_hat) * total - y) / n, "dL/dŷ = (softmax(ŷ) - y) / n", None
        upstream = -(y / y_hat - total / y_hat.sum(axis=1, keepdims=True)) / n
        fused = None
        if output_activation == "softmax":
            fused = (y_hat * total - y) / n, "(ŷ - y) / n"
        return upstream, "dL/dŷ = -(y / ŷ - Σy / Σŷ) / n", fused
    if name == "binary_crossentropy":  # L = -Σ y log ŷ + (1 - y) log(1 - ŷ) / (n k)
        y = y * (1 - smoothing) + smoothing / 2
        if options.get("from_logits"):
            return (_sigmoid(y_hat) - y) / (n * k), "dL/dŷ = (sigmoid(ŷ) - y) / (n k)", None
        upstream = (y_hat - y) / (y_hat * (1 - y_hat) * n * k)
        fused = None
        if output_activation == "sigmoid":
            fused = (y_hat - y) / (n * k), "(ŷ - y) / (n k)"
        return upstream, "dL/dŷ = (ŷ - y) / (ŷ (1 - ŷ) n k)", fused
    return None


# ----- the report ------------------------------------------------------------------------------


@dataclass(eq=False)
class Gradient:
    """One factor of the chain rule, computed three ways.

    Attributes:
        name: e.g. ``dL/dW_2``.
        formula: the textbook formula, e.g. ``a_1ᵀ dL/dz_2``.
        shape: its shape.
        textbook, engine: the full arrays, or None where that way does not apply.
        sample: the flat indices at which finite differences were taken.
        numeric: the finite differences at those indices; nan where the perturbation ±h crossed
            a ReLU kink (a pre-activation changed sign), where the derivative is undefined.
        textbook_error: max relative error, textbook against engine.
        numeric_error: max relative error, finite differences against the engine (against the
            textbook where the engine does not apply).
        agrees: whether every error is within the tolerance.
    """

    name: str
    formula: str
    shape: tuple
    textbook: np.ndarray = None
    engine: np.ndarray = None
    sample: np.ndarray = None
    numeric: np.ndarray = None
    textbook_error: float = None
    numeric_error: float = None
    agrees: bool = True

    @property
    def kinks(self):
        """How many sampled entries were skipped at a ReLU kink."""
        return int(np.isnan(self.numeric).sum())

    @property
    def value(self):
        """The engine's array, or the textbook's where the engine does not apply."""
        return self.engine if self.engine is not None else self.textbook

    @property
    def norm(self):
        """The Frobenius norm ‖value‖."""
        return float(np.linalg.norm(self.value)) if self.value is not None else float("nan")


@dataclass(eq=False)
class ForwardStep:
    """Layer l of the forward pass: z_l (None for layers without a pre-activation), a_l, and the
    layer's weights by name.

    ``dead_fraction``: for ReLU, the fraction of units that output 0 for every sample of the
    batch.
    """

    index: int
    layer: str
    kind: str
    formula: str
    z: np.ndarray
    a: np.ndarray
    weights: dict
    activation: str = None
    dead_fraction: float = None


@dataclass(eq=False)
class LossStep:
    """The loss L of the batch, its predictions ŷ (n, k) and labels y."""

    name: str
    value: float
    y_pred: np.ndarray
    y_true: np.ndarray


@dataclass(eq=False)
class BackwardStep:
    """Layer l of the backward pass: its factors, upstream dL/da_l first, dL/da_{l-1} last."""

    index: int
    layer: str
    kind: str
    gradients: list
    notes: list = field(default_factory=list)

    @property
    def agrees(self):
        return all(g.agrees for g in self.gradients)


@dataclass(eq=False)
class UpdateStep:
    """The optimizer's step on one weight: W_new = W_old + ΔW (ΔW = -η dL/dW for SGD)."""

    layer: str
    weight: str
    learning_rate: float
    old: np.ndarray
    gradient: np.ndarray
    new: np.ndarray

    @property
    def delta(self):
        return self.new - self.old

    @property
    def ratio(self):
        """|ΔW| / |W|: about 1e-3 per step is the usual sign of a healthy learning rate (nan
        while W is all zeros, as a fresh bias is)."""
        norm = np.linalg.norm(self.old)
        return float(np.linalg.norm(self.delta) / norm) if norm > 0 else float("nan")

    @property
    def health(self):
        """A verdict on ``ratio`` for kernels; biases and scales (1-D) start at 0 or 1, so
        their ratio says little about the learning rate."""
        ratio = self.ratio
        if self.old.ndim < 2 or np.isnan(ratio):
            return "—"
        if ratio < 1e-5:
            return "tiny: learning rate may be too low"
        if ratio > 1e-1:
            return "large: learning rate may be too high"
        return "ok"


@dataclass(eq=False)
class Explanation:
    """The four steps of one training step, as :func:`explain` computed them.

    ``agrees`` is False when any factor disagrees between the three ways; ``disagreements``
    names them. ``render()`` draws the report (rich tables when rich is installed).
    """

    model: str
    inputs: np.ndarray
    optimizer: str
    tolerance: float
    step: float
    forward: list
    loss: LossStep
    backward: list
    update: list
    notes: list = field(default_factory=list)

    @property
    def agrees(self):
        return all(step.agrees for step in self.backward)

    @property
    def disagreements(self):
        """The names of the factors whose three ways disagree, e.g. ['dL/dW_2 (layer dense)']."""
        return [
            f"{g.name} (layer {step.layer})"
            for step in self.backward
            for g in step.gradients
            if not g.agrees
        ]

    def gradient(self, name):
        """The factor called ``name``, e.g. ``report.gradient("dL/dW_2").engine``.

        Raises:
            KeyError: no factor has that name; the message lists them.
        """
        for step in self.backward:
            for g in step.gradients:
                if g.name == name:
                    return g
        names = sorted({g.name for step in self.backward for g in step.gradients})
        raise KeyError(f"explain: no factor named {name!r}; the factors are {', '.join(names)}")

    def render(self, file=None, matrices=None):
        """Print the report to ``file`` (default: standard output).

        Args:
            matrices: also print every number of every matrix; None decides by size (when no
                matrix has more than 64 entries).
        """
        _render(_blocks(self, matrices), file or sys.stdout)

    def __str__(self):
        import io

        buffer = io.StringIO()
        self.render(buffer)
        return buffer.getvalue()


# ----- the computation -------------------------------------------------------------------------


def explain(model, x, y, samples=8, step=1e-5, tolerance=1e-6, seed=0, verbose=True):
    """Run one training step of ``model`` on the batch (x, y) in the open, in float64.

    Every factor of dL/dW_l = dL/dŷ · dŷ/da_l · da_l/dW_l is computed by the textbook formula,
    by the engine, and by central finite differences, and the three are compared (see the module
    docstring for the formulas). The model, its optimizer and the global random state are left
    as they were.

    Args:
        model: a compiled Sequential model, of any of chainrule's layers.
        x: a small batch of inputs, (n, ...) as the model takes them.
        y: its labels, as the compiled loss takes them (one-hot for categorical_crossentropy).
        samples: how many entries of each matrix to check by finite differences (None: all).
        step: h, the finite-difference step.
        tolerance: the largest max relative error that counts as agreement.
        seed: seeds the choice of the entries checked by finite differences.
        verbose: print the report (rich tables when rich is installed, plain text otherwise).

    Returns:
        An :class:`Explanation`; a disagreement also raises a ``RuntimeWarning``.

    Raises:
        TypeError: ``model`` is not a Sequential model, or a layer cannot be copied.
        ValueError: the model is not compiled with a loss; x and y are empty or of different
            lengths; ``samples``, ``step`` or ``tolerance`` is not positive.

    Example::

        report = chainrule.explain(model, x_train[:32], y_train[:32])
        report.agrees                        # True: the three ways agree
        report.gradient("dL/dW_2").engine    # dL/dW of layer 2, by the engine
    """
    from .. import random
    from ..engine import no_grad

    _check_arguments(model, samples, step, tolerance)
    x, y = _check_batch(x, y)
    if not model.built:
        with no_grad():
            model(x[:1], training=False)
    state = random.get_state()  # building the float64 copies draws initial weights
    try:
        run = _Run(model, x, y)
    finally:
        random.set_state(state)
    checker = _Checker(samples, step, tolerance, np.random.default_rng(seed))
    notes = []
    backward = run.backward(checker, notes)
    update, optimizer_note = _update(model, run)
    notes.append(optimizer_note)
    report = Explanation(
        model=model.name,
        inputs=run.acts[0].numpy(),
        optimizer=type(model.optimizer).__name__,
        tolerance=tolerance,
        step=step,
        forward=run.forward_steps(),
        loss=LossStep(
            getattr(run.loss_object, "name", "loss"),
            float(run.loss.item()),
            run.acts[-1].numpy(),
            np.asarray(y),
        ),
        backward=backward,
        update=update,
        notes=notes,
    )
    if verbose:
        report.render()
    if not report.agrees:
        warnings.warn(
            f"explain: the textbook, the engine and finite differences disagree (max relative "
            f"error above {tolerance:g}) on {', '.join(report.disagreements)}",
            RuntimeWarning,
            stacklevel=2,
        )
    return report


def _check_arguments(model, samples, step, tolerance):
    from ..keras.models import Sequential

    if not isinstance(model, Sequential):
        raise TypeError(
            f"explain: expected a compiled Sequential model; got {type(model).__name__}. Build "
            f"one with chainrule.keras.Sequential([...]) and compile it."
        )
    if not model.compiled or getattr(model, "_loss_object", None) is None:
        raise ValueError(
            f"explain: model {model.name!r} is not compiled with a loss; call e.g. "
            f"model.compile(optimizer='sgd', loss='categorical_crossentropy') first."
        )
    if samples is not None and (not isinstance(samples, (int, np.integer)) or samples < 1):
        raise ValueError(f"explain: samples must be a positive integer or None; got {samples!r}")
    for name, value in (("step", step), ("tolerance", tolerance)):
        if not isinstance(value, (int, float)) or not 0 < value < float("inf"):
            raise ValueError(f"explain: {name} must be a positive number; got {value!r}")


def _check_batch(x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"explain: x must be a batch of at least one sample; got shape {x.shape}")
    if y.ndim == 0 or len(y) != len(x):
        raise ValueError(
            f"explain: x and y must hold the same number of samples; got x of shape {x.shape} "
            f"and y of shape {y.shape}"
        )
    return x, y


def _float64_copy(layer, input_shape):
    """The layer rebuilt from its config in float64, with the same weights."""
    config = dict(layer.get_config(), dtype="float64")
    try:
        twin = type(layer).from_config(config)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"explain: cannot rebuild layer {layer.name!r} ({type(layer).__name__}) from its "
            f"get_config() to compute it in float64: {error}. Give the layer a get_config() "
            f"that returns its constructor's arguments."
        ) from None
    twin.build(input_shape)
    twin.built = True
    twin.set_weights([w.astype(np.float64) for w in layer.get_weights()])
    return twin


class _Stage:
    """One layer of the model as explain computes it, on a float64 copy of the layer.

    A Dense layer that computes Dense's own ``call`` on (n, d) inputs is split into its
    pre-activation z = a W + b and activation a = f(z), which the textbook formulas cover; any
    other layer is called whole, in inference mode.
    """

    def __init__(self, index, layer, input_shape):
        from ..keras import activations
        from ..keras.layers import Dense

        self.index, self.layer = index, layer
        self.twin = _float64_copy(layer, input_shape)
        self.dense = (
            type(layer).call is Dense.call
            and layer.activity_regularizer is None
            and len(input_shape) == 2
        )
        self.activation_name = self.rule = None
        if self.dense:
            self.activation_name = activations.serialize(layer.activation)
            if activations.ACTIVATIONS.get(self.activation_name) is layer.activation:
                self.rule = ACTIVATIONS.get(self.activation_name)
        self.kinked = self.rule is not None and self.rule.kink

    def forward(self, a_prev):
        """(z, a) for the input a_prev; z is None for a layer called whole."""
        from .. import ops

        twin = self.twin
        if not self.dense:
            return None, twin(a_prev, training=False)
        if twin.bias is None:
            z = a_prev @ twin.kernel
        else:
            z = ops.linear(a_prev, twin.kernel, twin.bias)
        return z, twin.activation(z)

    @property
    def weights(self):
        """The float64 copies of the weights that training updates."""
        return [w for w in self.twin.weights if w.trainable]


class _Run:
    """The forward pass of the float64 copy of the model, and its backward pass three ways."""

    def __init__(self, model, x, y):
        self.loss_object = model._loss_object
        self.y = y
        a = Tensor(x.astype(np.float64), requires_grad=True)
        self.acts, self.zs, self.stages = [a], [], []
        for index, layer in enumerate(model.layers, 1):
            stage = _Stage(index, layer, (None,) + tuple(a.shape[1:]))
            z, a = stage.forward(a)
            self.stages.append(stage)
            self.zs.append(z)
            self.acts.append(a)
        self.penalized = bool(self._penalties())
        self.loss = self.loss_of(a)
        wanted = self.acts + [z for z in self.zs if z is not None]
        wanted += [w for stage in self.stages for w in stage.weights]
        found = gradients(self.loss, wanted)
        self.engine = {id(t): g.numpy() for t, g in zip(wanted, found) if g is not None}

    def _penalties(self):
        return [p for stage in self.stages for p in stage.twin.losses]

    def loss_of(self, y_pred):
        """The compiled loss of the predictions plus the layers' regularization penalties."""
        loss = self.loss_object(self.y, y_pred)
        for penalty in self._penalties():
            loss = loss + penalty
        return loss

    def loss_from(self, start, a):
        """(L, pattern) running the layers from position ``start`` on the input ``a``.

        ``pattern`` records which pre-activations of the ReLU layers are positive: when it
        differs between L(v + h) and L(v - h), the perturbation crossed a kink.
        """
        pattern = []
        for stage in self.stages[start:]:
            z, a = stage.forward(a)
            if stage.kinked:
                pattern.append((z.data > 0).tobytes())
        return float(self.loss_of(a).item()), tuple(pattern)

    def loss_after(self, position, z):
        """(L, pattern) from the pre-activation z of the layer at ``position``."""
        stage = self.stages[position]
        loss, pattern = self.loss_from(position + 1, stage.twin.activation(_leaf(z)))
        return loss, ((z > 0).tobytes(),) + pattern if stage.kinked else pattern

    def engine_gradient(self, tensor):
        """The engine's dL/d(tensor); zeros where the loss does not depend on it."""
        return self.engine.get(id(tensor), np.zeros(tensor.shape))

    def forward_steps(self):
        steps = []
        for stage, z, a in zip(self.stages, self.zs, self.acts[1:]):
            l, name = stage.index, stage.activation_name
            dead = None
            if name == "relu" and a.ndim == 2:
                dead = float(np.mean(np.all(a.data <= 0, axis=0)))
            if stage.dense:
                bias = "" if stage.twin.bias is None else f" + b_{l}"
                formula = f"z_{l} = a_{l - 1} W_{l}{bias},  a_{l} = {name}(z_{l})"
            else:
                formula = f"a_{l} = {type(stage.layer).__name__}(a_{l - 1})"
            steps.append(
                ForwardStep(
                    l,
                    stage.layer.name,
                    type(stage.layer).__name__,
                    formula,
                    None if z is None else z.numpy(),
                    a.numpy(),
                    {w.name: w.numpy() for w in stage.twin.weights},
                    name,
                    dead,
                )
            )
        return steps

    def backward(self, checker, notes):
        """The backward steps from the output layer down (see the module docstring)."""
        top = self.stages[-1]
        y_hat = self.acts[-1].numpy()
        textbook = None
        if self.penalized:
            notes.append(
                "The loss includes regularization penalties, which the textbook formulas here "
                "leave out: only the engine and finite differences are compared."
            )
        elif y_hat.ndim == 2:
            textbook = _textbook_loss(self.loss_object, self.y, y_hat, top.activation_name)
        upstream_textbook, formula, fused = textbook or (None, "", None)
        leaf = Tensor(y_hat.copy(), requires_grad=True)  # L as a function of ŷ alone
        engine = gradients(self.loss_object(self.y, leaf), leaf)
        values = y_hat.copy()
        upstream = checker.gradient(
            f"dL/da_{top.index}",
            formula or "dL/dŷ",
            upstream_textbook,
            np.zeros_like(values) if engine is None else engine.numpy(),
            checker.differences(values, lambda: (float(self.loss_of(_leaf(values)).item()), ())),
        )
        steps = []
        textbook_a = self._textbook_forward()
        for position in reversed(range(len(self.stages))):
            stage = self.stages[position]
            rows, step_notes = [upstream], []
            if self.penalized:
                upstream_textbook = None
            elif upstream_textbook is None and stage.dense:
                upstream_textbook = upstream.engine
                above = "for this loss" if stage is top else "above this layer"
                step_notes.append(
                    f"No textbook formula {above}: the textbook column continues from the "
                    f"engine's dL/da_{stage.index}."
                )
            if stage.dense:
                rows += self._dense_rows(
                    stage,
                    position,
                    upstream_textbook,
                    fused if stage is top else None,
                    textbook_a,
                    checker,
                    step_notes,
                )
                upstream_textbook = rows[-1].textbook
            else:
                rows += self._whole_layer_rows(stage, position, checker)
                upstream_textbook = None
                step_notes.append(
                    f"No textbook formula for {type(stage.layer).__name__}: the engine against "
                    f"finite differences."
                )
            upstream = rows[-1]
            steps.append(
                BackwardStep(
                    stage.index, stage.layer.name, type(stage.layer).__name__, rows, step_notes
                )
            )
        return steps

    def _textbook_forward(self):
        """a_l by the textbook formulas where they apply (the engine's a_l elsewhere)."""
        a = [self.acts[0].numpy()]
        for stage, engine_a in zip(self.stages, self.acts[1:]):
            if stage.dense and stage.rule is not None:
                a.append(stage.rule.f(self._textbook_z(stage, a[-1])))
            else:
                a.append(engine_a.numpy())
        return a

    @staticmethod
    def _textbook_z(stage, a_prev):
        """z_l = a_{l-1} W_l + b_l."""
        twin = stage.twin
        z = a_prev @ twin.kernel.numpy()
        return z if twin.bias is None else z + twin.bias.numpy()

    def _dense_rows(self, stage, position, upstream, fused, textbook_a, checker, notes):
        """da_l/dz_l, dL/dz_l, dL/dW_l, dL/db_l and dL/da_{l-1} of a Dense layer."""
        l, twin, rule = stage.index, stage.twin, stage.rule
        a_prev_tensor, z_tensor = self.acts[position], self.zs[position]
        a_prev, z = textbook_a[position], self._textbook_z(stage, textbook_a[position])
        rows = []

        # da_l/dz_l: f'(z) elementwise, or the Jacobian (softmax)
        local_textbook = None if rule is None else rule.derivative(z, rule.f(z))
        local_engine = _engine_local_derivative(twin.activation, z_tensor.numpy())
        if local_textbook is not None and local_textbook.ndim != local_engine.ndim:
            local_textbook, local_engine = _jacobian(local_textbook), _jacobian(local_engine)
        rows.append(
            checker.gradient(
                f"da_{l}/dz_{l}",
                rule.formula if rule else f"{stage.activation_name}'(z)",
                local_textbook,
                local_engine,
                lambda sample: _local_differences(
                    twin.activation,
                    z_tensor.numpy(),
                    local_engine.shape,
                    sample,
                    checker.step,
                    stage.kinked,
                ),
            )
        )

        # dL/dz_l = dL/da_l ⊙ f'(z_l)   (or the fused (ŷ - y) / n)
        dz_textbook, formula = None, f"dL/da_{l} ⊙ f'(z_{l})"
        if fused is not None:
            dz_textbook, formula = fused
        elif local_textbook is not None and upstream is not None:
            if local_textbook.ndim == 3:  # dL/dz_q = Σ_p dL/da_p da_p/dz_q
                dz_textbook = np.einsum("ip,ipq->iq", upstream, local_textbook)
                formula = f"(da_{l}/dz_{l})ᵀ dL/da_{l}"
            else:
                dz_textbook = upstream * local_textbook
        z_values = z_tensor.numpy().copy()
        rows.append(
            checker.gradient(
                f"dL/dz_{l}",
                formula,
                dz_textbook,
                self.engine_gradient(z_tensor),
                checker.differences(z_values, lambda: self.loss_after(position, z_values)),
            )
        )
        dz = dz_textbook
        if dz is None and upstream is not None:
            dz = rows[-1].engine
            notes.append(
                f"No textbook derivative for {stage.activation_name}: the textbook column "
                f"continues from the engine's dL/dz_{l}."
            )

        # dL/dW_l = a_{l-1}ᵀ dL/dz_l,  dL/db_l = Σ_batch dL/dz_l,  dL/da_{l-1} = dL/dz_l W_lᵀ
        def layer_loss():
            return self.loss_from(position, a_prev_tensor.detach())

        kernel = twin.kernel.numpy()
        weights = [
            (
                twin.kernel,
                f"dL/dW_{l}",
                f"a_{l - 1}ᵀ dL/dz_{l}",
                None if dz is None else a_prev.T @ dz,
            )
        ]
        if twin.bias is not None:
            weights.append(
                (
                    twin.bias,
                    f"dL/db_{l}",
                    f"Σ_batch dL/dz_{l}",
                    None if dz is None else dz.sum(axis=0),
                )
            )
        for variable, name, formula, textbook in weights:
            rows.append(
                checker.gradient(
                    name,
                    formula,
                    textbook,
                    self.engine_gradient(variable),
                    checker.differences(variable.data, layer_loss),
                )
            )
        a_values = a_prev_tensor.numpy().copy()
        rows.append(
            checker.gradient(
                f"dL/da_{l - 1}",
                f"dL/dz_{l} W_{l}ᵀ",
                None if dz is None else dz @ kernel.T,
                self.engine_gradient(a_prev_tensor),
                checker.differences(a_values, lambda: self.loss_from(position, _leaf(a_values))),
            )
        )
        return rows

    def _whole_layer_rows(self, stage, position, checker):
        """dL/dw for each trained weight w of a layer called whole, and dL/da_{l-1}."""
        l, a_prev = stage.index, self.acts[position]
        rows = []
        for variable in stage.weights:
            rows.append(
                checker.gradient(
                    f"dL/d{variable.name}_{l}",
                    "",
                    None,
                    self.engine_gradient(variable),
                    checker.differences(
                        variable.data, lambda: self.loss_from(position, a_prev.detach())
                    ),
                )
            )
        a_values = a_prev.numpy().copy()
        rows.append(
            checker.gradient(
                f"dL/da_{l - 1}",
                "",
                None,
                self.engine_gradient(a_prev),
                checker.differences(a_values, lambda: self.loss_from(position, _leaf(a_values))),
            )
        )
        return rows


def _leaf(values):
    """A float64 Tensor over ``values`` (no copy) that records, so fused losses fuse as in fit."""
    return Tensor(values, requires_grad=True)


def _engine_local_derivative(activation, z):
    """da/dz of ``activation`` at z (n, k) by the engine, one vector-Jacobian product per unit.

    Returns the diagonal f'(z) (n, k) when the Jacobian is diagonal (an elementwise activation),
    else the per-sample Jacobian (n, k, k), J[i, p, q] = da_ip/dz_iq.
    """
    leaf = _leaf(z.copy())
    a = activation(leaf)
    if a is leaf:  # the identity, linear
        return np.ones_like(z)
    rows = []
    for p in range(z.shape[1]):
        seed = np.zeros_like(z)
        seed[:, p] = 1
        row = gradients(a, leaf, grad_outputs=seed, retain_graph=True)
        rows.append(np.zeros_like(z) if row is None else row.numpy())
    jacobian = np.stack(rows, axis=1)
    diagonal = np.einsum("ipp->ip", jacobian)
    if np.array_equal(jacobian, _jacobian(diagonal)):
        return diagonal
    return jacobian


def _jacobian(derivative):
    """An elementwise derivative (n, k) as the diagonal Jacobians (n, k, k); others unchanged."""
    if derivative.ndim == 3:
        return derivative
    return derivative[:, :, None] * np.eye(derivative.shape[1])


def _local_differences(activation, z, shape, sample, step, kinked):
    """Central differences of a = f(z) at the sampled flat indices of da/dz of ``shape``:
    (n, k) entries da_ip/dz_ip, or (n, k, k) entries da_ip/dz_iq; nan where z ± h straddles the
    kink at 0 of a ``kinked`` activation."""
    values = z.copy()
    found = []
    for index in sample:
        i, p, *rest = np.unravel_index(index, shape)
        q = rest[0] if rest else p
        original = values[i, q]
        if kinked and (original + step > 0) != (original - step > 0):
            found.append(np.nan)
            continue
        values[i, q] = original + step
        up = np.asarray(activation(Tensor(values)))[i, p]
        values[i, q] = original - step
        down = np.asarray(activation(Tensor(values)))[i, p]
        values[i, q] = original
        found.append((up - down) / (2 * step))
    return np.array(found)


def _central_differences(evaluate, values, sample, step):
    """(L(v + h e_i) - L(v - h e_i)) / 2h at each sampled flat index i of the array ``values``,
    which ``evaluate()`` reads, returning (L, kink pattern); each entry is changed in place and
    restored. nan where the two patterns differ: the perturbation crossed a ReLU kink."""
    flat = values.reshape(-1)  # a view: the arrays here are contiguous
    found = []
    for index in sample:
        original = flat[index]
        flat[index] = original + step
        up, up_pattern = evaluate()
        flat[index] = original - step
        down, down_pattern = evaluate()
        flat[index] = original
        found.append((up - down) / (2 * step) if up_pattern == down_pattern else np.nan)
    return np.array(found)


def _relative_error(a, b):
    """max_i |a_i - b_i| / max_i max(|a_i|, |b_i|): the largest difference relative to the
    largest entry (0 when both are all zeros; inf when the shapes differ)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return float("inf")
    if a.size == 0:
        return 0.0
    scale = max(np.abs(a).max(), np.abs(b).max())
    return float(np.abs(a - b).max() / scale) if scale > 0 else 0.0


class _Checker:
    """Builds each :class:`Gradient`: compares the three ways on a sample of entries."""

    def __init__(self, samples, step, tolerance, rng):
        self.samples, self.step, self.tolerance, self.rng = samples, step, tolerance, rng

    def differences(self, values, evaluate):
        """The finite differences of L in the entries of ``values``, as a function of the sampled
        indices; ``evaluate()`` returns (L, kink pattern)."""
        return lambda sample: _central_differences(evaluate, values, sample, self.step)

    def choose(self, reference):
        """Flat indices to check: all of them, or ``samples`` of them, half among the nonzero
        entries of ``reference`` (so that a sparse gradient is checked where it lives)."""
        size = reference.size
        if self.samples is None or self.samples >= size:
            return np.arange(size)
        nonzero = np.flatnonzero(reference)
        chosen = self.rng.choice(nonzero, min(len(nonzero), self.samples // 2), replace=False)
        rest = np.setdiff1d(np.arange(size), chosen)
        more = self.rng.choice(rest, self.samples - len(chosen), replace=False)
        return np.sort(np.concatenate([chosen, more]))

    def gradient(self, name, formula, textbook, engine, numeric):
        reference = engine if engine is not None else textbook
        textbook_error = None
        if textbook is not None and engine is not None:
            textbook_error = _relative_error(textbook, engine)
        sample = self.choose(reference)
        found = numeric(sample)
        smooth = ~np.isnan(found)
        numeric_error = None
        if smooth.any():
            numeric_error = _relative_error(found[smooth], reference.reshape(-1)[sample][smooth])
        agrees = all(
            error is None or error <= self.tolerance for error in (textbook_error, numeric_error)
        )
        return Gradient(
            name,
            formula,
            tuple(reference.shape),
            textbook,
            engine,
            sample,
            found,
            textbook_error,
            numeric_error,
            agrees,
        )


def _update(model, run):
    """The optimizer's step on copies of the weights: (update steps, a note on its state)."""
    from ..variables import Variable

    optimizer = model.optimizer
    clone = type(optimizer).from_config(optimizer.get_config())
    trained = {id(w) for w in model.trainable_weights}
    pairs = [
        (stage.layer, weight, twin)
        for stage in run.stages
        for weight, twin in zip(stage.layer.weights, stage.twin.weights)
        if id(weight) in trained
    ]
    copies, grads = [], []
    for _, weight, twin in pairs:
        copy = Variable(weight.numpy(), name=weight.name)
        copy.constraint = weight.constraint
        copies.append(copy)
        grads.append(run.engine_gradient(twin).astype(weight.dtype))
    learning_rate = float(clone.learning_rate)
    clone.apply(grads, copies)
    steps = [
        UpdateStep(
            layer.name,
            weight.name,
            learning_rate,
            weight.numpy().astype(np.float64),
            grad.astype(np.float64),
            copy.numpy().astype(np.float64),
        )
        for (layer, weight, _), grad, copy in zip(pairs, grads, copies)
    ]
    name = type(optimizer).__name__
    if optimizer.iterations:
        note = (
            f"The update is {name}'s step from fresh optimizer state (iteration 0, no moments "
            f"or velocities yet); the model's optimizer is at iteration {optimizer.iterations}, "
            f"so its own next step can differ."
        )
    else:
        note = (
            f"The update is the step the model's {name} would take now: it has not stepped yet, "
            f"so its state is as fresh as here (the gradients are the float64 ones above, cast to "
            f"the weights' dtype)."
        )
    return steps, note


# ----- rendering -------------------------------------------------------------------------------
# The report becomes a list of blocks, drawn with rich when it is installed, as plain text if not:
#   ("heading", text)   ("text", text, style)   ("table", title, headers, rows, row styles)
#   ("matrix", label, array)

SMALL = 64
"""Matrices of at most this many entries are printed in full by default."""


def _blocks(report, matrices):
    if matrices is None:
        matrices = max(array.size for array in _arrays(report)) <= SMALL
    n = len(report.inputs)
    blocks = [
        ("heading", f"chainrule explain: model {report.model!r} on a batch of {n} samples"),
        (
            "text",
            (
                f"Every factor of the chain rule is computed three ways: by the textbook "
                f"formula, by chainrule's autodiff engine, and by central finite differences "
                f"(L(v + h) - L(v - h)) / 2h with h = {report.step:g}, all in float64. They "
                f"agree when the max relative error, max |difference| / max |entry|, is at "
                f"most {report.tolerance:g}."
            ),
            None,
        ),
    ]
    blocks += _forward_blocks(report, matrices)
    blocks += _loss_blocks(report.loss, matrices)
    blocks += _backward_blocks(report, matrices)
    blocks += _update_blocks(report, matrices)
    blocks += [("text", note, "dim") for note in report.notes]
    if any(g.kinks for step in report.backward for g in step.gradients):
        blocks.append(
            (
                "text",
                (
                    "Entries at a ReLU kink: there a perturbation ±h changes the sign "
                    "of a pre-activation z, and ReLU has no derivative at z = 0 (the "
                    "textbook and the engine take relu'(0) = 0, as Keras does), so "
                    "finite differences are not compared there."
                ),
                "dim",
            )
        )
    if report.agrees:
        blocks.append(
            (
                "text",
                (
                    f"✓ All {sum(len(s.gradients) for s in report.backward)} factors "
                    f"agree three ways within {report.tolerance:g}."
                ),
                "bold green",
            )
        )
    else:
        blocks.append(
            (
                "text",
                (
                    f"✗ DISAGREEMENT: {', '.join(report.disagreements)}: the "
                    f"gradients differ by more than {report.tolerance:g}."
                ),
                "bold white on red",
            )
        )
    return blocks


def _arrays(report):
    yield report.inputs
    for step in report.forward:
        yield step.a
        yield from step.weights.values()
    for step in report.backward:
        for gradient in step.gradients:
            yield gradient.value


def _forward_blocks(report, matrices):
    rows = []
    for step in report.forward:
        z = ["", "", ""] if step.z is None else [str(step.z.shape), *_mean_std(step.z)]
        dead = "" if step.dead_fraction is None else f"{step.dead_fraction:.0%}"
        rows.append(
            [
                str(step.index),
                step.layer,
                step.formula,
                *z,
                str(step.a.shape),
                *_mean_std(step.a),
                dead,
            ]
        )
    blocks = [
        ("heading", "1. Forward: z_l = a_{l-1} W_l + b_l,  a_l = f(z_l),  a_0 = x"),
        (
            "table",
            None,
            [
                "l",
                "layer",
                "computes",
                "z shape",
                "mean z",
                "std z",
                "a shape",
                "mean a",
                "std a",
                "dead ReLU units",
            ],
            rows,
            None,
        ),
    ]
    if matrices:
        blocks.append(("matrix", "a_0 = x", report.inputs))
        for step in report.forward:
            l = step.index
            for name, array in step.weights.items():
                blocks.append(
                    (
                        "matrix",
                        {"kernel": f"W_{l}", "bias": f"b_{l}"}.get(name, f"{name}_{l}"),
                        array,
                    )
                )
            if step.z is not None:
                blocks.append(("matrix", f"z_{l}", step.z))
            blocks.append(("matrix", f"a_{l}", step.a))
    return blocks


def _mean_std(array):
    return [f"{array.mean():.4g}", f"{array.std():.4g}"]


def _loss_blocks(loss, matrices, shown=5):
    y_pred, y_true = loss.y_pred, loss.y_true
    classes = y_pred.ndim == 2 and y_pred.shape[1] > 1
    headers = ["sample", "ŷ", "y"] + (["predicted", "label"] if classes else [])
    rows = []
    for i in range(min(shown, len(y_pred))):
        row = [str(i), _vector(y_pred[i]), _vector(y_true[i])]
        if classes:
            label = y_true[i].argmax() if y_true.ndim == 2 else y_true[i]
            row += [str(y_pred[i].argmax()), str(int(label))]
        rows.append(row)
    blocks = [
        ("heading", "2. Loss"),
        ("text", f"L = {loss.name}(y, ŷ) = {loss.value:.6g}, with ŷ = a_L", "bold"),
        ("table", f"the first {len(rows)} of {len(y_pred)} samples", headers, rows, None),
    ]
    if matrices:
        blocks += [("matrix", "ŷ", y_pred), ("matrix", "y", y_true)]
    return blocks


def _vector(values, shown=10):
    values = np.atleast_1d(values)
    digits = 3 if len(values) <= 4 else 2
    text = " ".join(
        f"{v:.{digits}f}" if values.dtype.kind == "f" else str(v) for v in values[:shown]
    )
    return f"[{text}{' …' if len(values) > shown else ''}]"


def _backward_blocks(report, matrices):
    blocks = [
        (
            "heading",
            (
                "3. Backward: dL/dz_l = dL/da_l ⊙ f'(z_l),  dL/dW_l = a_{l-1}ᵀ dL/dz_l,"
                "  dL/db_l = Σ dL/dz_l,  dL/da_{l-1} = dL/dz_l W_lᵀ"
            ),
        )
    ]
    printed = set()
    for step in report.backward:
        rows, styles = [], []
        for g in step.gradients:
            kinks = f", {g.kinks} at a ReLU kink" if g.kinks else ""
            numeric = f"{_error(g.numeric_error)} ({len(g.sample) - g.kinks}{kinks})"
            rows.append(
                [
                    g.name,
                    g.formula,
                    str(g.shape),
                    f"{g.norm:.4g}",
                    _error(g.textbook_error),
                    numeric,
                    "✓" if g.agrees else "✗ DISAGREES",
                ]
            )
            styles.append(None if g.agrees else "bold red")
        kind = step.kind + (
            f", {report.forward[step.index - 1].activation}"
            if report.forward[step.index - 1].activation
            else ""
        )
        blocks.append(
            (
                "table",
                f"layer {step.index}: {step.layer} ({kind})",
                [
                    "factor",
                    "formula",
                    "shape",
                    "norm",
                    "textbook vs engine",
                    "finite diff. vs engine (entries)",
                    "",
                ],
                rows,
                styles,
            )
        )
        blocks += [("text", note, "dim") for note in step.notes]
        if matrices:
            for g in step.gradients:
                if id(g) not in printed:
                    printed.add(id(g))
                    blocks += _gradient_matrices(g)
    return blocks


def _error(value):
    return "—" if value is None else f"{value:.1e}"


def _gradient_matrices(g):
    numeric = np.full(g.shape, np.nan)
    numeric.reshape(-1)[g.sample] = g.numeric
    found = [("textbook", g.textbook), ("engine", g.engine), ("finite differences", numeric)]
    return [("matrix", f"{g.name} by {way}", array) for way, array in found if array is not None]


def _update_blocks(report, matrices):
    rows, styles = [], []
    for step in report.update:
        rows.append(
            [
                f"{step.layer}/{step.weight}",
                f"{step.learning_rate:g}",
                f"{np.linalg.norm(step.gradient):.4g}",
                f"{np.linalg.norm(step.delta):.4g}",
                f"{np.linalg.norm(step.old):.4g}",
                "—" if np.isnan(step.ratio) else f"{step.ratio:.2e}",
                step.health,
            ]
        )
        styles.append("yellow" if step.health.startswith(("tiny", "large")) else None)
    blocks = [
        (
            "heading",
            (f"4. Update: W_new = W_old + ΔW, by {report.optimizer} (ΔW = -η dL/dW for SGD)"),
        ),
        (
            "table",
            None,
            [
                "weight",
                "η",
                "‖dL/dW‖",
                "‖ΔW‖",
                "‖W_old‖",
                "‖ΔW‖ / ‖W_old‖",
                "health (about 1e-3 is typical)",
            ],
            rows,
            styles,
        ),
    ]
    if matrices:
        blocks += [
            ("matrix", f"{step.layer}/{step.weight} new", step.new) for step in report.update
        ]
    return blocks


def _matrix_text(array):
    """Every number of ``array``, aligned, 6 decimals; nan (not computed) as '·'."""
    finite = array[np.isfinite(array)]
    width = max((len(f"{v:.6f}") for v in finite.reshape(-1)), default=1)

    def number(v):
        return "·".rjust(width) if np.isnan(v) else f"{v + 0.0:{width}.6f}"  # no -0.000000

    return np.array2string(
        np.asarray(array, np.float64),
        max_line_width=160,
        threshold=sys.maxsize,
        formatter={"float_kind": number},
    )


def _render(blocks, file):
    try:
        from rich.console import Console
    except ImportError:
        _render_plain(blocks, file)
        return
    from rich.table import Table
    from rich.text import Text

    terminal = hasattr(file, "isatty") and file.isatty()
    console = Console(file=file, highlight=False, width=None if terminal else 140)
    for block in blocks:
        kind = block[0]
        if kind == "heading":
            console.rule(Text(block[1], style="bold"), align="left")
        elif kind == "text":
            console.print(Text(block[1], style=block[2] or ""))
        elif kind == "matrix":
            console.print(Text(f"{block[1]} =", style="bold"))
            console.print(Text(_matrix_text(block[2])))
        else:
            _, title, headers, rows, styles = block
            table = Table(title=title, title_justify="left", show_edge=False)
            for header in headers:
                table.add_column(header)
            for row, style in zip(rows, styles or [None] * len(rows)):
                table.add_row(*[Text(cell) for cell in row], style=style)
            console.print(table)


def _render_plain(blocks, file):
    for block in blocks:
        kind = block[0]
        if kind == "heading":
            print(f"\n== {block[1]} ==", file=file)
        elif kind == "text":
            print(block[1], file=file)
        elif kind == "matrix":
            print(f"{block[1]} =\n{_matrix_text(block[2])}", file=file)
        else:
            _, title, headers, rows, _ = block
            widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]
            if title:
                print(title, file=file)
            for line in [headers, ["-" * w for w in widths], *rows]:
                print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip(), file=file)
