"""Learning-rate schedules: functions of the optimizer's step, with Keras 3's formulas.

A schedule is passed as ``learning_rate=`` to any optimizer, which calls it with its
``iterations`` (0 for the first update) before each step. Each returns a Python float.

    ExponentialDecay        η0 r^(s / T)                       (s / T floored with staircase)
    PiecewiseConstantDecay  v_i on the i-th interval of the boundaries, right-closed
    PolynomialDecay         (η0 - η_end)(1 - min(s, T) / T)^p + η_end
    InverseTimeDecay        η0 / (1 + r s / T)                 (s / T floored with staircase)
    CosineDecay             linear warmup, then η_peak ((1 - α) (1 + cos(π s / T)) / 2 + α)
    CosineDecayRestarts     the same cosine, restarted after T, T t_mul, T t_mul², ... steps
"""

import math

from ..registry import lookup


class LearningRateSchedule:
    """Base class: ``schedule(step) -> learning rate``; subclasses define ``__call__`` and
    ``get_config``."""

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule {type(self).__name__!r} must override __call__(self, step)."
        )

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule {type(self).__name__!r} must override get_config() to be "
            f"serializable."
        )

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_positive_steps(schedule, argument, value):
    if value <= 0:
        raise ValueError(f"{schedule}: {argument} must be > 0; got {argument}={value}")


class _RateDecay(LearningRateSchedule):
    """The arguments and config shared by ExponentialDecay and InverseTimeDecay, and their
    progress p = s / decay_steps (floored with ``staircase``)."""

    def __init__(self, schedule, initial_learning_rate, decay_steps, decay_rate, staircase, name):
        _check_positive_steps(schedule, "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def _progress(self, step):
        p = float(step) / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_RateDecay):
    """η(s) = initial_learning_rate * decay_rate ^ (s / decay_steps).

    With ``staircase=True`` the exponent is floor(s / decay_steps), so the rate drops in steps.

    Example::

        ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96)(2000)   # 0.1 * 0.96² = 0.09216
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name="ExponentialDecay",
    ):
        super().__init__(
            "ExponentialDecay", initial_learning_rate, decay_steps, decay_rate, staircase, name
        )

    def __call__(self, step):
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


class PiecewiseConstantDecay(LearningRateSchedule):
    """η(s) = values[0] for s <= boundaries[0], values[i] for boundaries[i-1] < s <= boundaries[i],
    values[-1] for s > boundaries[-1].

    Raises:
        ValueError: unless len(values) == len(boundaries) + 1 and the boundaries increase.
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"PiecewiseConstantDecay: the length of boundaries should be 1 less than the "
                f"length of values. Received: boundaries={boundaries} of length "
                f"{len(boundaries)}, and values={values} of length {len(values)}."
            )
        if any(b >= a for b, a in zip(boundaries, boundaries[1:])):
            raise ValueError(
                f"PiecewiseConstantDecay: boundaries must be strictly increasing; got {boundaries}"
            )
        self.boundaries, self.values, self.name = boundaries, values, name

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """η(s) = (initial - end) (1 - s / decay_steps)^power + end, with s capped at decay_steps.

    With ``cycle=True`` decay_steps is instead the first multiple of itself that is >= s (and
    decay_steps itself at s = 0), so the decay restarts.
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        end_learning_rate=0.0001,
        power=1.0,
        cycle=False,
        name="PolynomialDecay",
    ):
        _check_positive_steps("PolynomialDecay", "decay_steps", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle = end_learning_rate, power, cycle
        self.name = name

    def __call__(self, step):
        step, decay_steps = float(step), float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        fraction = 1.0 - step / decay_steps
        span = self.initial_learning_rate - self.end_learning_rate
        return span * fraction**self.power + self.end_learning_rate

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(_RateDecay):
    """η(s) = initial_learning_rate / (1 + decay_rate * s / decay_steps).

    With ``staircase=True``, s / decay_steps is floored.
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        decay_rate,
        staircase=False,
        name="InverseTimeDecay",
    ):
        super().__init__(
            "InverseTimeDecay", initial_learning_rate, decay_steps, decay_rate, staircase, name
        )

    def __call__(self, step):
        return self.initial_learning_rate / (1.0 + self.decay_rate * self._progress(step))


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter's SGDR without restarts), with an optional linear warmup.

    Without ``warmup_target``, for step s (capped at T = decay_steps):

        η(s) = initial_learning_rate * ((1 - alpha) * (1 + cos(π s / T)) / 2 + alpha)

    With ``warmup_target``, the rate first rises linearly from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps`` W, then decays as above from ``warmup_target``:

        η(s) = initial + (warmup_target - initial) s / W                    for s < W
        η(s) = warmup_target * ((1 - alpha) (1 + cos(π (s - W) / T)) / 2 + alpha)   after

    with s capped at W + T.
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        name="CosineDecay",
        warmup_target=None,
        warmup_steps=0,
    ):
        _check_positive_steps("CosineDecay", "decay_steps", decay_steps)
        if warmup_target is not None and warmup_steps < 0:
            raise ValueError(f"CosineDecay: warmup_steps must be >= 0; got {warmup_steps}")
        self.initial_learning_rate, self.decay_steps, self.alpha = (
            initial_learning_rate,
            decay_steps,
            alpha,
        )
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def _decayed(self, step, peak):
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return peak * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = float(step)
        if self.warmup_target is None:
            return self._decayed(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            rise = self.warmup_target - self.initial_learning_rate
            return rise * step / self.warmup_steps + self.initial_learning_rate
        return self._decayed(step - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (Loshchilov & Hutter's SGDR).

    The i-th period (i = 0, 1, ...) lasts T tⁱ steps, T = ``first_decay_steps`` and
    t = ``t_mul``, and starts at the rate η0 mⁱ (m = ``m_mul``). With f = s / T, the period
    i and the fraction p of it already done are

        i = floor(f),   p = f - i                                 (t = 1)
        i = floor(log(1 - f (1 - t)) / log t),
        p = (f - (1 - tⁱ) / (1 - t)) / tⁱ                          (t ≠ 1)

    and η(s) = η0 ((1 - α) mⁱ (1 + cos(π p)) / 2 + α), α = ``alpha``.

    Raises:
        ValueError: ``first_decay_steps`` <= 0.
    """

    def __init__(
        self,
        initial_learning_rate,
        first_decay_steps,
        t_mul=2.0,
        m_mul=1.0,
        alpha=0.0,
        name="SGDRDecay",
    ):
        _check_positive_steps("CosineDecayRestarts", "first_decay_steps", first_decay_steps)
        self.initial_learning_rate, self.first_decay_steps = (
            initial_learning_rate,
            first_decay_steps,
        )
        self._t_mul, self._m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step):
        fraction = float(step) / self.first_decay_steps
        t = float(self._t_mul)
        if t == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            restart = math.floor(math.log(1.0 - fraction * (1.0 - t)) / math.log(t))
            fraction = (fraction - (1.0 - t**restart) / (1.0 - t)) / t**restart
        cosine = 0.5 * self._m_mul**restart * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self._t_mul,
            "m_mul": self._m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


SCHEDULES = {
    cls.__name__.lower(): cls
    for cls in (
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}


def serialize(schedule):
    """``{"class_name": ..., "config": ...}`` for a schedule."""
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config):
    """The schedule described by ``serialize``'s output; only the built-in classes are built.

    Raises:
        ValueError: an unknown class name, listing the known ones.
    """
    cls = lookup("learning rate schedule", SCHEDULES, config["class_name"])
    return cls.from_config(config.get("config", {}))
