"""The report of :func:`~chainrule.tools.explain.explain`: one dataclass per step of the training
step (:class:`ForwardStep`, :class:`LossStep`, :class:`BackwardStep`, :class:`UpdateStep`), each
factor of the chain rule a :class:`Gradient` computed three ways, and the whole an
:class:`Explanation`.
"""

import io
import sys
from dataclasses import dataclass, field

import numpy as np

from .render import render_report


@dataclass(eq=False)
class Gradient:
    """One factor of the chain rule, computed three ways.

    Attributes:
        name: e.g. ``dL/dW_2``.
        formula: the textbook formula, e.g. ``a_1ᵀ dL/dz_2``.
        shape: its shape.
        textbook, engine: the full arrays, or None where that way does not apply.
        sample: the flat indices at which finite differences were taken.
        numeric: the finite differences at those indices; nan where the entry sits at a kink
            or a bound (every step ±h tried crossed a ReLU kink, changing the sign of a
            pre-activation, or the differences at h and h/4 never agreed), where the
            derivative is undefined.
        one_sided: for each of those indices, whether its difference was taken on one side
            only, away from a bound of the loss's domain within a step (a probability near 0
            or 1).
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
    one_sided: np.ndarray = None
    textbook_error: float = None
    numeric_error: float = None
    agrees: bool = True

    @property
    def kinks(self):
        """How many sampled entries were not checked, at a kink or bound."""
        return int(np.isnan(self.numeric).sum())

    @property
    def one_sided_count(self):
        """How many sampled entries were checked by one-sided differences, near a bound."""
        return 0 if self.one_sided is None else int(self.one_sided.sum())

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
        render_report(self, file or sys.stdout, matrices)

    def __str__(self):
        buffer = io.StringIO()
        self.render(buffer)
        return buffer.getvalue()
