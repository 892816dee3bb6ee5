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
   NumPy in :mod:`.textbook`; by chainrule's autodiff engine; and by central finite differences
   (L(v + h) - L(v - h)) / 2h, perturbing a sample of the entries of v. Their agreement is the
   maximum relative error between them.
4. Update (:class:`UpdateStep`): the optimizer's actual step, W_new = W - η dL/dW for SGD, and the
   ratio |ΔW| / |W|.

Layers without a textbook formula here (Conv2D, BatchNormalization, Flatten, Dropout, ...) are
called as they are, in inference mode, and compared engine against finite differences; the
textbook chain resumes below them from the engine's gradient.

One module a job: :mod:`.textbook` the formulas, :mod:`.run` the computation,
:mod:`.finite_differences` the check, :mod:`.report` the dataclasses of the report, and
:mod:`.render` its drawing.
"""

from .render import SMALL
from .report import (
    BackwardStep,
    Explanation,
    ForwardStep,
    Gradient,
    LossStep,
    UpdateStep,
)
from .run import explain
from .textbook import ACTIVATIONS
