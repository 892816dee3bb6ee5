"""LossScaleOptimizer: dynamic loss scaling around another optimizer, as in Keras 3."""

from ...backend import ndarray_types, xp_of
from ...engine import Tensor
from .base import Optimizer
from .nested import deserialize, serialize

# the base optimizer's arguments, which belong to the inner optimizer, at their neutral values
_INNER_ARGUMENTS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class LossScaleOptimizer(Optimizer):
    """Scales the loss up by S before the gradients are taken, and the gradients down by S before
    ``inner_optimizer`` applies them, so that small float16 gradients do not underflow to 0.

    Training multiplies the loss by :meth:`scale_loss`, so the gradients arrive multiplied by S.
    Each :meth:`apply` then, with the dynamic scale S (starting at ``initial_scale``) and a
    counter k (starting at 0):

        all gradients finite:  the inner optimizer applies g / S;
                               then k = ``dynamic_growth_steps`` - 1 ? (S <- 2 S, k <- 0) : k += 1
        any inf or NaN:        no update at all (not even the inner optimizer's step count);
                               S <- S / 2, k <- 0

    ``learning_rate`` and ``iterations`` are the inner optimizer's.

    Args:
        inner_optimizer: the Optimizer that applies the unscaled gradients.
        initial_scale: S at the start, default 2¹⁵.
        dynamic_growth_steps: how many finite steps in a row double S, default 2000.
        name: default "loss_scale_optimizer".

    Raises:
        ValueError: ``dynamic=False``, or one of the base optimizer's arguments (``clipnorm``,
            ``weight_decay``...): set those on the inner optimizer.
    """

    def __init__(
        self,
        inner_optimizer,
        initial_scale=2.0**15,
        dynamic_growth_steps=2000,
        name=None,
        **kwargs,
    ):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports dynamic=False: set loss_scale_factor on "
                "the inner optimizer instead."
            )
        for argument, neutral in _INNER_ARGUMENTS.items():
            if argument in kwargs and kwargs.pop(argument) != neutral:
                raise ValueError(
                    f"LossScaleOptimizer does not support {argument}: set {argument} on the "
                    f"inner_optimizer instead."
                )
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not support arguments: {sorted(kwargs)}")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(
                f"LossScaleOptimizer: inner_optimizer must be an Optimizer; got "
                f"{type(inner_optimizer).__name__}"
            )
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale, self.dynamic_growth_steps = initial_scale, dynamic_growth_steps

    # the learning rate and the step count are the inner optimizer's (its own two variables stay
    # at 0, as Keras's do)
    @property
    def learning_rate(self):
        """The inner optimizer's learning rate."""
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    @property
    def iterations(self):
        """The inner optimizer's step count (a step with non-finite gradients is not counted)."""
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value):
        self.inner_optimizer.iterations = value

    @property
    def variables(self):
        """Its own variables (iterations and learning rate kept at 0, then, once built, the step
        counter and the dynamic scale), then the inner optimizer's, as Keras lists them."""
        return self._variables + self.inner_optimizer.variables

    @property
    def step_counter(self):
        """k, the finite steps in a row since S last changed: an int32 Variable made by
        :meth:`build`."""
        return self._step_counter

    @step_counter.setter
    def step_counter(self, value):
        self._step_counter.assign(value)

    @property
    def dynamic_scale(self):
        """S, the loss scale: a float32 Variable made by :meth:`build`."""
        return self._dynamic_scale

    @dynamic_scale.setter
    def dynamic_scale(self, value):
        self._dynamic_scale.assign(value)

    def build(self, variables):
        self._step_counter = self.add_variable((), 0, dtype="int32", name="step_counter")
        self._dynamic_scale = self.add_variable((), self.initial_scale, name="dynamic_scale")
        self.inner_optimizer.build(variables)
        super().build(variables)

    def scale_loss(self, loss):
        """loss S: what training differentiates, so that gradients arrive multiplied by S."""
        return loss * (self.dynamic_scale if self.built else self.initial_scale)

    def finalize_variable_values(self, var_list):
        """The inner optimizer's (its moving averages, with ``use_ema``)."""
        self.inner_optimizer.finalize_variable_values(var_list)

    def apply(self, grads, trainable_variables):
        """One step: unscale the gradients and let the inner optimizer apply them, or skip the
        step if any gradient has an inf or a NaN; then adjust the scale (see the class)."""
        trainable_variables = list(trainable_variables)
        if not trainable_variables:
            return
        if not self.built:
            self.build(trainable_variables)
        grads = [_array(g, v) for g, v in zip(grads, trainable_variables)]
        finite = all(bool(xp_of(g).isfinite(g).all()) for g in grads if g is not None)
        scale = self._dynamic_scale.data  # a float32 scalar
        if not finite:
            self.step_counter = 0
            self.dynamic_scale = scale * 0.5
            return
        self.inner_optimizer.update_loop = self.update_loop
        # a variable overwritten with its "gradient" (a new value) takes it unscaled, as in Keras
        unscaled = [
            g
            if g is None or getattr(v, "overwrite_with_gradient", False)
            else g / g.dtype.type(scale)
            for g, v in zip(grads, trainable_variables)
        ]
        self.inner_optimizer.apply(unscaled, trainable_variables)
        count = int(self._step_counter.data)
        if count == self.dynamic_growth_steps - 1:
            self.step_counter = 0
            self.dynamic_scale = scale * 2.0
        else:
            self.step_counter = count + 1

    def get_config(self):
        return {
            "name": self.name,
            "inner_optimizer": serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The optimizer described by ``config``; its inner optimizer is rebuilt first."""
        config = dict(config)
        inner = deserialize(config.pop("inner_optimizer"), custom_objects)
        return cls(inner, **config)


def _array(gradient, variable):
    """A gradient as an array (None stays None)."""
    if gradient is None or isinstance(gradient, ndarray_types):
        return gradient
    if isinstance(gradient, Tensor):
        return gradient.data
    return xp_of(variable.data).asarray(gradient, dtype=variable.data.dtype)
