"""Learning-rate schedules against their closed forms, at boundaries and with Keras's options."""

import math

import pytest

from chainrule.keras.optimizers import schedules


def test_exponential_decay_continuous_and_staircase():
    smooth = schedules.ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96)
    assert smooth(0) == pytest.approx(0.1)
    assert smooth(2000) == pytest.approx(0.1 * 0.96**2)
    assert smooth(500) == pytest.approx(0.1 * 0.96**0.5)
    stairs = schedules.ExponentialDecay(0.1, 1000, 0.96, staircase=True)
    assert stairs(999) == pytest.approx(0.1) and stairs(1000) == pytest.approx(0.096)


def test_piecewise_constant_intervals_are_closed_on_the_right():
    schedule = schedules.PiecewiseConstantDecay([100, 110], [1.0, 0.5, 0.1])
    assert [schedule(s) for s in (0, 100, 101, 110, 111, 10**6)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    with pytest.raises(ValueError, match="length of boundaries should be 1 less"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0, 0.5])
    with pytest.raises(ValueError, match="strictly increasing"):
        schedules.PiecewiseConstantDecay([5, 2], [1.0, 0.5, 0.1])


def test_inverse_time_decay():
    schedule = schedules.InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)
    assert schedule(4) == pytest.approx(0.1 / 3)
    stairs = schedules.InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0, staircase=True)
    assert stairs(9) == pytest.approx(0.1) and stairs(10) == pytest.approx(0.05)


def test_polynomial_decay_with_and_without_cycle():
    schedule = schedules.PolynomialDecay(0.1, 100, end_learning_rate=0.01, power=0.5)
    assert schedule(0) == pytest.approx(0.1)
    assert schedule(25) == pytest.approx(0.09 * math.sqrt(0.75) + 0.01)
    assert schedule(100) == pytest.approx(0.01) and schedule(500) == pytest.approx(0.01)
    cyclic = schedules.PolynomialDecay(0.1, 100, end_learning_rate=0.0, cycle=True)
    assert cyclic(150) == pytest.approx(0.1 * (1 - 150 / 200))


def test_cosine_decay_without_warmup():
    schedule = schedules.CosineDecay(0.1, decay_steps=100, alpha=0.1)
    assert schedule(0) == pytest.approx(0.1)
    assert schedule(50) == pytest.approx(0.1 * (0.9 * 0.5 + 0.1))
    assert schedule(100) == pytest.approx(0.01) and schedule(1000) == pytest.approx(0.01)


def test_cosine_decay_with_linear_warmup():
    schedule = schedules.CosineDecay(0.0, decay_steps=100, warmup_target=0.1, warmup_steps=10)
    assert schedule(0) == 0.0
    assert schedule(5) == pytest.approx(0.05)
    assert schedule(10) == pytest.approx(0.1)  # the peak, where the decay starts
    assert schedule(60) == pytest.approx(0.05)  # half way through the cosine
    assert schedule(110) == pytest.approx(0.0, abs=1e-12) and schedule(500) == schedule(110)


def test_bad_decay_steps_and_serialization():
    for cls in (schedules.ExponentialDecay, schedules.InverseTimeDecay):
        with pytest.raises(ValueError, match="decay_steps must be > 0"):
            cls(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="decay_steps must be > 0"):
        schedules.CosineDecay(0.1, 0)
    schedule = schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    rebuilt = schedules.deserialize(schedules.serialize(schedule))
    assert type(rebuilt) is schedules.ExponentialDecay
    assert rebuilt.get_config() == schedule.get_config()
