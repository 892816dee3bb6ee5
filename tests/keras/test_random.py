"""keras.random: Keras 3's seeding rules (None, an int, a SeedGenerator), each distribution's
moments against its closed form, dropout's gradient, and the errors for bad arguments."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras
from chainrule.keras import random

N = 200_000  # samples for the moment checks: standard errors near 0.002 of a unit variance


def test_an_int_seed_gives_the_same_numbers_every_call():
    a = random.normal((3, 4), seed=7).numpy()
    np.testing.assert_array_equal(a, random.normal((3, 4), seed=7).numpy())
    assert not np.array_equal(a, random.normal((3, 4), seed=8).numpy())


def test_a_seed_generator_moves_on_and_replays_from_its_seed():
    first, again = random.SeedGenerator(3), random.SeedGenerator(3)
    a, b = random.uniform((5,), seed=first).numpy(), random.uniform((5,), seed=first).numpy()
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, random.uniform((5,), seed=again).numpy())
    np.testing.assert_array_equal(b, random.uniform((5,), seed=again).numpy())
    assert random.SeedGenerator.from_config(first.get_config()).seed == 3


def test_no_seed_follows_set_random_seed():
    def draws():
        keras.utils.set_random_seed(11)
        return random.normal((4,)).numpy(), random.randint((4,), 0, 100).numpy()

    (a, i), (b, j) = draws(), draws()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(i, j)
    keras.utils.set_random_seed(11)
    generated = random.SeedGenerator()  # its seed drawn from the reseeded global generator
    keras.utils.set_random_seed(11)
    assert random.SeedGenerator().seed == generated.seed


@pytest.mark.parametrize(
    "draw, mean, std",
    [
        (lambda: random.normal((N,), mean=2.0, stddev=3.0, seed=1), 2.0, 3.0),
        (lambda: random.uniform((N,), minval=-1.0, maxval=3.0, seed=1), 1.0, 4 / 12**0.5),
        (lambda: random.gamma((N,), alpha=3.0, seed=1), 3.0, 3.0**0.5),
        (
            lambda: random.beta((N,), alpha=2.0, beta=5.0, seed=1),
            2 / 7,
            (2 * 5 / (7**2 * 8)) ** 0.5,
        ),
        (
            lambda: random.binomial((N,), counts=10, probabilities=0.3, seed=1),
            3.0,
            (10 * 0.3 * 0.7) ** 0.5,
        ),
    ],
)
def test_each_distribution_has_its_closed_form_mean_and_spread(draw, mean, std):
    values = draw()
    assert values.dtype == np.float32 and values.shape == (N,)
    sample = values.numpy().astype(np.float64)
    assert abs(sample.mean() - mean) < 5 * std / N**0.5
    assert abs(sample.std() - std) < 0.01 * std


def test_truncated_normal_stays_within_two_standard_deviations():
    values = random.truncated_normal((N,), mean=1.0, stddev=0.5, seed=2).numpy()
    assert values.min() >= 0.0 and values.max() <= 2.0
    # N(0, 1) restricted to [-2, 2]: standard deviation 0.8796
    assert abs(values.std() / 0.5 - 0.8796) < 0.01


def test_randint_draws_every_value_of_its_half_open_range_alike():
    values = random.randint((N,), minval=3, maxval=8, seed=4)
    assert values.dtype == np.int32
    counts = np.bincount(values.numpy(), minlength=8)
    assert counts[:3].sum() == 0 and counts[3:].min() > 0.19 * N


def test_categorical_draws_classes_with_the_softmax_probabilities():
    logits = np.log(np.array([[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]]) + 1e-12)
    samples = random.categorical(logits, N // 4, seed=5).numpy()
    assert samples.shape == (2, N // 4) and samples.dtype == np.int32
    for row, probabilities in zip(samples, np.exp(logits)):
        frequencies = np.bincount(row, minlength=3) / len(row)
        np.testing.assert_allclose(frequencies, probabilities, atol=0.01)


def test_shuffle_permutes_along_its_axis():
    x = np.arange(24).reshape(4, 6)
    shuffled = random.shuffle(x, axis=1, seed=6).numpy()
    assert not np.array_equal(shuffled, x)
    # whole columns move: each column of the result is a column of x, each used once
    order = [int(column[0]) for column in shuffled.T]
    assert sorted(order) == list(range(6))
    np.testing.assert_array_equal(shuffled, x[:, order])


def test_dropout_keeps_and_scales_and_its_gradient_is_the_mask():
    x = cr.Tensor(np.ones((400, 50)), requires_grad=True)
    y = random.dropout(x, rate=0.25, seed=9)
    kept = y.numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.01
    np.testing.assert_allclose(y.numpy()[kept], 1 / 0.75)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.numpy())  # dL/dx = mask / (1 - rate)
    # one mask over the last axis, broadcast over the rows
    shared = random.dropout(np.ones((3, 8)), rate=0.5, noise_shape=(1, 8), seed=3).numpy()
    assert (shared == shared[:1]).all()
    # linear in x for a fixed seed, so finite differences check it
    assert cr.gradcheck(lambda t: random.dropout(t, rate=0.5, seed=1), np.ones((4, 5))) < 1e-8


def test_bad_arguments_name_the_function_and_the_value():
    with pytest.raises(ValueError, match=r"dropout: `rate` must be in \[0, 1\); received rate=1"):
        random.dropout(np.ones(3), rate=1.0)
    with pytest.raises(ValueError, match=r"normal: a seed must be a non-negative integer"):
        random.normal((2,), seed="a")
    with pytest.raises(ValueError, match=r"uniform: `shape` must be a tuple of non-negative"):
        random.uniform((2, -1))
    with pytest.raises(ValueError, match=r"randint: `maxval` must be greater than `minval`"):
        random.randint((2,), 5, 5)
    with pytest.raises(ValueError, match=r"categorical: `logits` must be 2-D"):
        random.categorical(np.zeros(3), 2)
    with pytest.raises(ValueError, match=r"normal: `dtype` must be a floating-point type"):
        random.normal((2,), dtype="int32")
