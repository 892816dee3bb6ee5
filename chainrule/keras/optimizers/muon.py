"""Muon (Jordan et al., 2024): momentum orthogonalized by Newton-Schulz, for weight matrices."""

import math
import re

from ...backend import xp_of
from .adam import Adam
from .whole import WholeVariableOptimizer


class Muon(WholeVariableOptimizer):
    """MomentUm Orthogonalized by Newton-Schulz, with AdamW for the variables it does not suit.

    A 2-D variable W (n, k) whose path names no embedding (with ``exclude_embeddings``) and
    matches none of the ``exclude_layers`` regular expressions takes the Muon step, with μ =
    ``momentum``:

        M <- μ M + g
        G = g + μ M  (``nesterov``)   or   G = M
        W <- W - η s sqrt(max(n, k)) NS(G)        s = ``rms_rate`` (no factor when None)

    NS(G) approximates the orthogonal factor U Vᵀ of G = U Σ Vᵀ: with X = G / (||G||_F + 1e-7)
    (transposed first when n > k, so that X X ᵀ is the smaller product), ``ns_steps`` times

        A = X Xᵀ,   X <- a X + (b A + c A A) X        (a, b, c = muon_a, muon_b, muon_c)

    Every other variable takes Adam's step (see :class:`Adam`) with η ``adam_lr_ratio``,
    ``adam_beta_1``, ``adam_beta_2`` and ``epsilon``. Weight decay is decoupled, W <- W - η λ W,
    with λ = ``weight_decay`` for the Muon variables and ``adam_weight_decay`` for the others.
    The state is "momentum" for every variable and "velocity" for the Adam ones.

    Args:
        learning_rate: η, default 0.001.  weight_decay, adam_weight_decay: default 0.004.
        adam_beta_1, adam_beta_2: default 0.9, 0.999.  epsilon: default 1e-7.
        exclude_layers: regular expressions searched in the variables' paths (default none).
        exclude_embeddings: default True.  muon_a, muon_b, muon_c: 3.4445, -4.7750, 2.0315.
        adam_lr_ratio: default 1.  momentum: μ, default 0.95.  ns_steps: default 5.
        nesterov: default True.  rms_rate: s, default 0.2.
    """

    def __init__(
        self,
        learning_rate=0.001,
        adam_beta_1=0.9,
        adam_beta_2=0.999,
        adam_weight_decay=0.004,
        epsilon=1e-7,
        weight_decay=0.004,
        name=None,
        exclude_layers=None,
        exclude_embeddings=True,
        muon_a=3.4445,
        muon_b=-4.7750,
        muon_c=2.0315,
        adam_lr_ratio=1,
        momentum=0.95,
        ns_steps=5,
        nesterov=True,
        rms_rate=0.2,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay, name=name, **kwargs
        )
        self.adam_beta_1, self.adam_beta_2, self.epsilon = adam_beta_1, adam_beta_2, epsilon
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio, self.momentum, self.ns_steps = adam_lr_ratio, momentum, ns_steps
        self.nesterov, self.rms_rate = nesterov, rms_rate
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = exclude_layers or []
        self.adam_weight_decay = adam_weight_decay

    # the names Adam's update_step reads, for the variables Muon leaves to it
    beta_1 = property(lambda self: self.adam_beta_1)
    beta_2 = property(lambda self: self.adam_beta_2)
    amsgrad = False

    def _uses_adam(self, variable):
        """True for the variables that take Adam's step instead of Muon's."""
        if variable.data.ndim != 2:
            return True
        path = getattr(variable, "path", None) or variable.name or ""
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(pattern, path) for pattern in self.exclude_layers)

    def build(self, variables):
        for variable in variables:
            self.add_slot(variable, "momentum")
            if self._uses_adam(variable):
                self.add_slot(variable, "velocity")
        super().build(variables)

    def _apply_weight_decay(self, variables, learning_rate):
        """Nothing here: each variable decays at the start of its own ``update_step``, with its
        own rate, and also when ``weight_decay`` is None (``adam_weight_decay`` still applies),
        as in Keras."""

    def _decay(self, variable, learning_rate):
        """W <- W - η λ W, λ the variable's decay rate (none if excluded or None)."""
        if not self._use_weight_decay(variable):
            return
        decay = self.adam_weight_decay if self._uses_adam(variable) else self.weight_decay
        if decay is not None:
            variable.data -= variable.data * (learning_rate * decay)

    def update_step(self, gradient, variable, learning_rate):
        self._decay(variable, learning_rate)
        m = self.slot(variable, "momentum")
        if id(variable) in self._slots.get("velocity", {}):
            Adam.update_step(self, gradient, variable, learning_rate * self.adam_lr_ratio)
            return
        m *= self.momentum
        m += gradient
        direction = gradient + self.momentum * m if self.nesterov else m
        update = self.orthogonalize(direction)
        scale = learning_rate
        if self.rms_rate is not None:
            scale *= math.sqrt(max(update.shape[0], update.shape[1])) * self.rms_rate
        variable.data -= update * scale

    def orthogonalize(self, g):
        """NS(g): ``ns_steps`` Newton-Schulz iterations towards the orthogonal factor of the
        matrix (or stack of matrices) g; see the class docstring.

        Raises:
            ValueError: g has fewer than two dimensions.
        """
        if g.ndim < 2:
            raise ValueError(
                f"Muon: Newton-Schulz orthogonalization needs a gradient of at least 2 "
                f"dimensions; got shape {g.shape}"
            )
        xp = xp_of(g)
        tall = g.shape[-2] > g.shape[-1]
        x = xp.swapaxes(g, -1, -2) if tall else g
        norm = xp.sqrt((x * x).sum(axis=(-2, -1), keepdims=True))
        x = x / (norm + 1e-7)
        for _ in range(self.ns_steps):
            a = x @ xp.swapaxes(x, -1, -2)
            x = self.muon_a * x + (self.muon_b * a + self.muon_c * a @ a) @ x
        return xp.swapaxes(x, -1, -2) if tall else x

    def get_config(self):
        return {
            **super().get_config(),
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "epsilon": self.epsilon,
            "exclude_layers": self.exclude_layers,
            "muon_a": self.muon_a,
            "muon_b": self.muon_b,
            "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio,
            "momentum": self.momentum,
            "ns_steps": self.ns_steps,
            "nesterov": self.nesterov,
            "exclude_embeddings": self.exclude_embeddings,
            "adam_weight_decay": self.adam_weight_decay,
            "rms_rate": self.rms_rate,
        }
