"""The textbook: the article's formulas for the derivatives, written out with NumPy.

Shapes: z, a (n, k) for a batch of n samples and k units; y the labels as an (n, k) matrix.

:data:`ACTIVATIONS` holds each activation a = f(z) with its derivative, f'(z) elementwise or the
Jacobian da/dz = diag(a) - a aᵀ of a softmax; :func:`loss_gradient` gives dL/dŷ of a compiled
Keras loss.
"""

from dataclasses import dataclass

import numpy as np

from ...keras import config


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


def _unclipped(p):
    """1 where Keras's clip of a probability to [ε, 1 - ε] lets p through, else 0."""
    return ((p >= config.epsilon()) & (p <= 1 - config.epsilon())).astype(np.float64)


def prediction_bounds(loss):
    """The domain of the compiled loss in each entry of ŷ: (0, 1) for a cross-entropy on
    probabilities, where log ŷ is taken, else unbounded."""
    fn = getattr(loss, "fn", None)
    probabilities = getattr(fn, "__module__", None) == "chainrule.keras.losses" and fn.__name__ in (
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
        "binary_crossentropy",
    )
    if probabilities and not loss.fn_kwargs.get("from_logits"):
        return 0.0, 1.0
    return -np.inf, np.inf


def loss_gradient(loss, y, y_hat, output_activation):
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
        # Keras clips the probabilities ŷ / Σŷ to [ε, 1 - ε]: a clipped one no longer depends
        # on ŷ, so its label drops out of the derivative (a confident model's does, p > 1 - ε)
        mass = y_hat.sum(axis=1, keepdims=True)
        live = y * _unclipped(y_hat / mass)  # nonzero only where ŷ ≥ ε Σŷ > 0
        ratio = np.divide(live, y_hat, out=np.zeros_like(live), where=live != 0)
        upstream = -(ratio - live.sum(axis=1, keepdims=True) / mass) / n
        fused = None
        if output_activation == "softmax":
            fused = (y_hat * total - y) / n, "(ŷ - y) / n"
        return upstream, "dL/dŷ = -(y / ŷ - Σy / Σŷ) / n", fused
    if name == "binary_crossentropy":  # L = -Σ y log ŷ + (1 - y) log(1 - ŷ) / (n k)
        y = y * (1 - smoothing) + smoothing / 2
        if options.get("from_logits"):
            return (_sigmoid(y_hat) - y) / (n * k), "dL/dŷ = (sigmoid(ŷ) - y) / (n k)", None
        p = np.clip(
            y_hat, config.epsilon(), 1 - config.epsilon()
        )  # as Keras; ŷ itself where unclipped
        upstream = _unclipped(y_hat) * (y_hat - y) / (p * (1 - p) * n * k)
        fused = None
        if output_activation == "sigmoid":
            fused = (y_hat - y) / (n * k), "(ŷ - y) / (n k)"
        return upstream, "dL/dŷ = (ŷ - y) / (ŷ (1 - ŷ) n k)", fused
    return None
