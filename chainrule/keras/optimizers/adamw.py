"""AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, in Keras's formulation."""

from .adam import Adam


class AdamW(Adam):
    """Adam whose weights also decay, outside the adaptive step.

    Each step, before Adam's update (see :class:`Adam`), every variable not excluded by
    ``exclude_from_weight_decay`` shrinks by the learning rate times λ = ``weight_decay``:

        w <- w - η λ w,        then the Adam step with the same η

    Keras multiplies the decay by the (scheduled) learning rate, as here; the paper's
    schedule multiplier η_t instead scales an unscaled λ.

    Args:
        learning_rate: η, default 0.001.  weight_decay: λ, default 0.004.
        beta_1, beta_2, epsilon, amsgrad: as in :class:`Adam`.

    Raises:
        ValueError: ``weight_decay=None``.
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            name=name,
            **kwargs,
        )
        if self.weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float; got weight_decay=None")
