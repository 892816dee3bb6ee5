"""The run: one training step of a user's model in float64, in the open, recorded as an
:class:`~.report.Explanation`.

:func:`explain` copies each layer in float64 (:class:`_Stage`), runs the forward pass and the loss,
the backward pass three ways (:class:`_Run`: by the formulas of :mod:`.textbook`, by the engine,
and by the finite differences of :mod:`.finite_differences`), and the optimizer's update on copies
of the weights. The formulas are in the package docstring.
"""

import warnings

import numpy as np

from ... import ops, random
from ...engine import Tensor, gradients, no_grad
from ...keras import activations
from ...keras.layers import Dense
from ...keras.models import Sequential
from ...variables import Variable
from .finite_differences import Checker, local_differences
from .report import BackwardStep, Explanation, ForwardStep, LossStep, UpdateStep
from .textbook import ACTIVATIONS, loss_gradient, prediction_bounds


def explain(model, x, y, samples=8, step=1e-5, tolerance=1e-6, seed=0, verbose=True):
    """Run one training step of ``model`` on the batch (x, y) in the open, in float64.

    Every factor of dL/dW_l = dL/dŷ · dŷ/da_l · da_l/dW_l is computed by the textbook formula,
    by the engine, and by central finite differences, and the three are compared (see
    :mod:`chainrule.tools.explain` for the formulas). The model, its optimizer and the global
    random state are left as they were.

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
    checker = Checker(samples, step, tolerance, np.random.default_rng(seed))
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
        self.index, self.layer = index, layer
        self.twin = _float64_copy(layer, input_shape)
        self.dense = (
            type(layer).call is Dense.call
            and layer.activity_regularizer is None
            and len(input_shape) == 2
        )
        self.activation_name = self.rule = None
        if self.dense:
            self.activation_name = activations.name_of(layer.activation)
            if activations.ACTIVATIONS.get(self.activation_name) is layer.activation:
                self.rule = ACTIVATIONS.get(self.activation_name)
        self.kinked = self.rule is not None and self.rule.kink

    def forward(self, a_prev):
        """(z, a) for the input a_prev; z is None for a layer called whole."""
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
        """The backward steps from the output layer down (see the package docstring)."""
        top = self.stages[-1]
        y_hat = self.acts[-1].numpy()
        textbook = None
        if self.penalized:
            notes.append(
                "The loss includes regularization penalties, which the textbook formulas here "
                "leave out: only the engine and finite differences are compared."
            )
        elif y_hat.ndim == 2:
            textbook = loss_gradient(self.loss_object, self.y, y_hat, top.activation_name)
        upstream_textbook, formula, fused = textbook or (None, "", None)
        leaf = Tensor(y_hat.copy(), requires_grad=True)  # L as a function of ŷ alone
        engine = gradients(self.loss_object(self.y, leaf), leaf)
        values = y_hat.copy()
        upstream = checker.gradient(
            f"dL/da_{top.index}",
            formula or "dL/dŷ",
            upstream_textbook,
            np.zeros_like(values) if engine is None else engine.numpy(),
            checker.differences(
                values,
                lambda: (float(self.loss_of(_leaf(values)).item()), ()),
                prediction_bounds(self.loss_object),
            ),
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
                lambda sample: local_differences(
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


def _update(model, run):
    """The optimizer's step on copies of the weights: (update steps, a note on its state)."""
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
