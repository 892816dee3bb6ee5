"""Optimizers against their documented update rules: one hand-computed step each, the trajectory
on a quadratic against a scalar re-implementation of the formula, and Keras 3's own golden
values (its optimizer tests' recorded trajectories); then clipping, weight decay, schedules,
configs and errors."""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.fast import fused, updates
from chainrule.keras import optimizers
from chainrule.keras.optimizers import schedules


def run(optimizer, w0, grads):
    """Apply each gradient in turn to one float64 variable starting at w0; the values after
    each step."""
    w = cr.Variable(np.array(w0, dtype=np.float64))
    path = []
    for g in grads:
        optimizer.apply([np.array(g, dtype=np.float64)], [w])
        path.append(w.numpy().copy())
    return path


def keras_rate(rate):
    """A learning rate as the update computes with it: as Keras 3, the optimizer keeps it in a
    float32 variable (0.1 becomes 0.10000000149011612), cast to the weights' dtype."""
    return float(np.float32(rate))


# ----- one step, by hand ----------------------------------------------------------------------


def test_each_optimizer_first_steps_match_the_formula_by_hand():
    w, g1, g2 = 1.0, 0.5, -0.2
    eta = keras_rate(0.1)

    # Adam, t = 1 then 2: m = 0.1 g1; v = 0.001 g1²; alpha = eta sqrt(1 - .999) / (1 - .9)
    m1, v1 = 0.1 * g1, 0.001 * g1**2
    w1 = w - eta * math.sqrt(1 - 0.999) / 0.1 * m1 / (math.sqrt(v1) + 1e-7)
    m2, v2 = m1 + 0.1 * (g2 - m1), v1 + 0.001 * (g2**2 - v1)
    w2 = w1 - eta * math.sqrt(1 - 0.999**2) / (1 - 0.9**2) * m2 / (math.sqrt(v2) + 1e-7)
    np.testing.assert_allclose(run(optimizers.Adam(eta), w, [g1, g2]), [w1, w2], rtol=1e-12)

    # RMSprop (rho 0.9), plain and with momentum 0.5
    v1 = 0.1 * g1**2
    step1 = eta * g1 / math.sqrt(v1 + 1e-7)
    v2 = 0.9 * v1 + 0.1 * g2**2
    step2 = eta * g2 / math.sqrt(v2 + 1e-7)
    np.testing.assert_allclose(
        run(optimizers.RMSprop(eta), w, [g1, g2]), [w - step1, w - step1 - step2], rtol=1e-12
    )
    s1, s2 = step1, 0.5 * step1 + step2
    np.testing.assert_allclose(
        run(optimizers.RMSprop(eta, momentum=0.5), w, [g1, g2]), [w - s1, w - s1 - s2], rtol=1e-12
    )

    # Adagrad: a starts at 0.1
    a1 = 0.1 + g1**2
    w1 = w - eta * g1 / math.sqrt(a1 + 1e-7)
    a2 = a1 + g2**2
    np.testing.assert_allclose(
        run(optimizers.Adagrad(eta), w, [g1, g2]),
        [w1, w1 - eta * g2 / math.sqrt(a2 + 1e-7)],
        rtol=1e-12,
    )

    # Adadelta (rho 0.95)
    eg = 0.05 * g1**2
    d1 = -math.sqrt(0 + 1e-7) / math.sqrt(eg + 1e-7) * g1
    np.testing.assert_allclose(run(optimizers.Adadelta(eta), w, [g1]), [w + eta * d1], rtol=1e-12)

    # Adamax: u = |g|, bias correction 1 - 0.9
    np.testing.assert_allclose(
        run(optimizers.Adamax(eta), w, [g1]),
        [w - eta * (0.1 * g1) / (0.1 * (abs(g1) + 1e-7))],
        rtol=1e-12,
    )

    # Lion: sign(0.9 * 0 + 0.1 g) then m = 0.01 g
    path = run(optimizers.Lion(eta), w, [g1, g2])
    m1 = 0.01 * g1
    np.testing.assert_allclose(path, [w - eta, w - eta - eta * np.sign(0.9 * m1 + 0.1 * g2)])

    # Nadam, t = 1
    u1, u2 = 0.9 * (1 - 0.5 * 0.96), 0.9 * (1 - 0.5 * 0.96**2)
    m1, v1 = 0.1 * g1, 0.001 * g1**2
    m_hat = u2 * m1 / (1 - u1 * u2) + (1 - u1) * g1 / (1 - u1)
    v_hat = v1 / (1 - 0.999)
    np.testing.assert_allclose(
        run(optimizers.Nadam(eta), w, [g1]),
        [w - eta * m_hat / (math.sqrt(v_hat) + 1e-7)],
        rtol=1e-12,
    )

    # AdamW: decay w by eta * 0.004 first, then the Adam step
    adam_step = w - run(optimizers.Adam(eta), w, [g1])[0]
    np.testing.assert_allclose(
        run(optimizers.AdamW(eta), w, [g1]), [w * (1 - eta * 0.004) - adam_step], rtol=1e-12
    )


def test_amsgrad_uses_the_running_maximum_of_the_second_moment():
    # a large gradient then small ones: v decays but v_hat keeps the maximum
    grads = [5.0, 0.1, 0.1]
    m = v = v_hat = 0.0
    w, expected = 1.0, []
    for t, g in enumerate(grads, 1):
        m += 0.1 * (g - m)
        v += 0.001 * (g * g - v)
        v_hat = max(v_hat, v)
        alpha = keras_rate(0.01) * math.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        w -= alpha * m / (math.sqrt(v_hat) + 1e-7)
        expected.append(w)
    np.testing.assert_allclose(
        run(optimizers.Adam(0.01, amsgrad=True), 1.0, grads), expected, rtol=1e-12
    )


def test_centered_rmsprop_divides_by_the_variance_estimate():
    g = 0.5
    v, a = 0.1 * g * g, 0.1 * g
    expected = 1.0 - keras_rate(0.1) * g / math.sqrt(v - a * a + 1e-7)
    np.testing.assert_allclose(
        run(optimizers.RMSprop(0.1, centered=True), 1.0, [g]), [expected], rtol=1e-12
    )


# ----- trajectories on a quadratic ------------------------------------------------------------

CURVATURE = np.array([1.0, 10.0])  # f(w) = 0.5 sum(a w²): gradient a w, minimum at 0


def scalar_reference(name, w, a, steps, lr):
    """The documented update rule of each optimizer, one coordinate at a time in plain Python."""
    path = []
    state = {"m": 0.0, "v": 0.0, "u": 0.0, "acc": 0.1, "d": 0.0, "prod": 1.0}
    for t in range(1, steps + 1):
        g = a * w
        if name == "sgd":
            state["m"] = 0.9 * state["m"] - lr * g
            w += state["m"]
        elif name == "adam":
            state["m"] = 0.9 * state["m"] + 0.1 * g
            state["v"] = 0.999 * state["v"] + 0.001 * g * g
            alpha = lr * math.sqrt(1 - 0.999**t) / (1 - 0.9**t)
            w -= alpha * state["m"] / (math.sqrt(state["v"]) + 1e-7)
        elif name == "rmsprop":
            state["v"] = 0.9 * state["v"] + 0.1 * g * g
            w -= lr * g / math.sqrt(state["v"] + 1e-7)
        elif name == "adagrad":
            state["acc"] += g * g
            w -= lr * g / math.sqrt(state["acc"] + 1e-7)
        elif name == "adadelta":
            state["v"] = 0.95 * state["v"] + 0.05 * g * g
            delta = -math.sqrt(state["d"] + 1e-7) / math.sqrt(state["v"] + 1e-7) * g
            state["d"] = 0.95 * state["d"] + 0.05 * delta * delta
            w += lr * delta
        elif name == "adamax":
            state["m"] = 0.9 * state["m"] + 0.1 * g
            state["u"] = max(0.999 * state["u"], abs(g))
            w -= lr * state["m"] / ((1 - 0.9**t) * (state["u"] + 1e-7))
        elif name == "nadam":
            mu_t, mu_next = 0.9 * (1 - 0.5 * 0.96**t), 0.9 * (1 - 0.5 * 0.96 ** (t + 1))
            state["prod"] *= mu_t
            state["m"] = 0.9 * state["m"] + 0.1 * g
            state["v"] = 0.999 * state["v"] + 0.001 * g * g
            m_hat = mu_next * state["m"] / (1 - state["prod"] * mu_next) + (1 - mu_t) * g / (
                1 - state["prod"]
            )
            w -= lr * m_hat / (math.sqrt(state["v"] / (1 - 0.999**t)) + 1e-7)
        elif name == "lion":
            w -= lr * np.sign(0.9 * state["m"] + 0.1 * g)
            state["m"] = 0.99 * state["m"] + 0.01 * g
        path.append(w)
    return path


QUADRATIC = [
    ("sgd", optimizers.SGD, {"momentum": 0.9}, 0.05),
    ("adam", optimizers.Adam, {}, 0.1),
    ("rmsprop", optimizers.RMSprop, {}, 0.05),
    ("adagrad", optimizers.Adagrad, {}, 0.5),
    ("adadelta", optimizers.Adadelta, {}, 1.0),
    ("adamax", optimizers.Adamax, {}, 0.1),
    ("nadam", optimizers.Nadam, {}, 0.1),
    ("lion", optimizers.Lion, {}, 0.02),
]


@pytest.mark.parametrize("name, cls, kwargs, lr", QUADRATIC, ids=[q[0] for q in QUADRATIC])
def test_trajectory_on_a_quadratic_matches_the_formula(name, cls, kwargs, lr):
    steps = 60
    optimizer = cls(learning_rate=lr, **kwargs)
    w = cr.Variable(np.array([1.5, -0.8]))
    path = []
    for _ in range(steps):
        optimizer.apply([CURVATURE * w.numpy()], [w])
        path.append(w.numpy().copy())
    expected = np.stack(
        [
            scalar_reference(name, w0, a, steps, keras_rate(lr))
            for w0, a in zip([1.5, -0.8], CURVATURE)
        ],
        axis=1,
    )
    np.testing.assert_allclose(np.array(path), expected, rtol=1e-9, atol=1e-12)
    if name != "adadelta":  # Adadelta's first steps are ~sqrt(eps): it barely moves in 60 steps
        assert np.abs(path[-1]).max() < 0.5 * np.abs([1.5, -0.8]).max()


# ----- Keras 3's recorded trajectories ---------------------------------------------------------

ARANGE = np.arange(0.1, 1.1, 0.1)
GOLDEN = {
    "adam_amsgrad": (
        lambda: optimizers.Adam(amsgrad=True),
        np.tile([[0.999], [0.9982], [0.9974], [0.9965], [0.9955]], (1, 10)),
    ),
    "rmsprop_centered": (
        lambda: optimizers.RMSprop(centered=True),
        np.tile([[0.9967], [0.9933], [0.9908], [0.9885], [0.9864]], (1, 10)),
    ),
    "sgd_nesterov": (
        lambda: optimizers.SGD(nesterov=True),
        np.array(
            [
                [0.9999] * 10,
                [0.9989, 0.9979, 0.9969, 0.9959, 0.9949, 0.9939, 0.9929, 0.9919, 0.9909, 0.9899],
                [0.9979, 0.9959, 0.9939, 0.9919, 0.9899, 0.9879, 0.9859, 0.9839, 0.9819, 0.9799],
                [0.9969, 0.9939, 0.9909, 0.9879, 0.9849, 0.9819, 0.9789, 0.9759, 0.9729, 0.9699],
                [0.9959, 0.9919, 0.9879, 0.9839, 0.9799, 0.9759, 0.9719, 0.9679, 0.9639, 0.9599],
            ]
        ),
    ),
    "adagrad": (
        lambda: optimizers.Adagrad(0.2, initial_accumulator_value=0.3, epsilon=1e-6),
        np.array(
            [
                [0.9963] * 10,
                [0.9604, 0.9278, 0.9003, 0.8784, 0.8615, 0.8487, 0.8388, 0.8313, 0.8255, 0.8209],
                [0.9251, 0.8629, 0.8137, 0.7768, 0.7497, 0.7298, 0.7151, 0.704, 0.6956, 0.6891],
                [0.8903, 0.8012, 0.7342, 0.6862, 0.6521, 0.6277, 0.6099, 0.5967, 0.5867, 0.579],
                [0.856, 0.7422, 0.6604, 0.6037, 0.5644, 0.5367, 0.5168, 0.5021, 0.491, 0.4825],
            ]
        ),
    ),
    "adadelta": (
        lambda: optimizers.Adadelta(1.0, rho=0.8, epsilon=1e-6),
        np.tile([[0.9978], [0.9947], [0.9915], [0.9882], [0.9849]], (1, 10)),
    ),
    "adamax": (
        lambda: optimizers.Adamax(0.2, beta_1=0.85, beta_2=0.95, epsilon=1e-6),
        np.array(
            [
                [0.8] * 10,
                [0.6827, 0.6873, 0.6888, 0.6896, 0.6901, 0.6904, 0.6906, 0.6908, 0.6909, 0.691],
                [0.5333, 0.5407, 0.5431, 0.5444, 0.5451, 0.5456, 0.546, 0.5462, 0.5464, 0.5466],
                [0.368, 0.3773, 0.3804, 0.382, 0.3829, 0.3835, 0.384, 0.3843, 0.3846, 0.3848],
                [0.1933, 0.204, 0.2076, 0.2094, 0.2105, 0.2112, 0.2117, 0.2121, 0.2124, 0.2126],
            ]
        ),
    ),
    "nadam": (
        lambda: optimizers.Nadam(0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5),
        np.array(
            [
                [0.4281] * 10,
                [
                    -0.1738,
                    -0.1731,
                    -0.1726,
                    -0.1723,
                    -0.1721,
                    -0.172,
                    -0.1719,
                    -0.1718,
                    -0.1718,
                    -0.1717,
                ],
                [
                    -0.7115,
                    -0.7103,
                    -0.7096,
                    -0.7092,
                    -0.709,
                    -0.7088,
                    -0.7086,
                    -0.7085,
                    -0.7085,
                    -0.7084,
                ],
                [
                    -1.2335,
                    -1.2322,
                    -1.2313,
                    -1.2309,
                    -1.2306,
                    -1.2304,
                    -1.2302,
                    -1.2301,
                    -1.23,
                    -1.2299,
                ],
                [
                    -1.7492,
                    -1.7478,
                    -1.7469,
                    -1.7464,
                    -1.7461,
                    -1.7459,
                    -1.7457,
                    -1.7456,
                    -1.7455,
                    -1.7454,
                ],
            ]
        ),
    ),
    "adamw": (
        lambda: optimizers.AdamW(1.0, weight_decay=0.5, epsilon=2),
        np.array(
            [
                [0.4998] * 10,
                [0.2486, 0.2475, 0.2463, 0.2451, 0.244, 0.2428, 0.2417, 0.2405, 0.2394, 0.2382],
                [0.1223, 0.1198, 0.1174, 0.1149, 0.1124, 0.11, 0.1075, 0.1051, 0.1027, 0.1003],
                [0.0586, 0.0549, 0.0512, 0.0475, 0.0439, 0.0402, 0.0366, 0.033, 0.0294, 0.0258],
                [0.0263, 0.0215, 0.0167, 0.012, 0.0073, 0.0026, -0.0021, -0.0067, -0.0113, -0.0159],
            ]
        ),
    ),
    "lion": (
        lambda: optimizers.Lion(),
        np.tile([[0.999], [0.998], [0.997], [0.996], [0.995]], (1, 10)),
    ),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_matches_keras_recorded_trajectory(name):
    make, golden = GOLDEN[name]
    path = run(make(), np.ones(10), [np.full(10, 0.01)] + [ARANGE] * 4)
    np.testing.assert_allclose(np.array(path), golden, rtol=5e-4, atol=5e-4)


@pytest.mark.parametrize(
    "cls, expected",
    [
        (optimizers.Adam, [0.5, 1.5, 2.5, 3.5]),
        (optimizers.AdamW, [0.4980, 1.4960, 2.494, 3.492]),
        (optimizers.RMSprop, [-0.5811, 0.4189, 1.4189, 2.4189]),
        (optimizers.Adagrad, [0.5233, 1.5007, 2.5005, 3.5061]),
        (optimizers.Adadelta, [0.9993, 1.9993, 2.9993, 3.9993]),
        (optimizers.Nadam, [0.4686, 1.4686, 2.4686, 3.4686]),
        (optimizers.Adamax, [0.5, 1.5, 2.5, 3.5]),
        (optimizers.Lion, [0.5, 1.5, 2.5, 3.5]),
        (optimizers.SGD, [0.5, -1.0, -0.5, 3.0]),
    ],
)
def test_single_step_with_learning_rate_one_half_matches_keras(cls, expected):
    path = run(cls(learning_rate=0.5), [1.0, 2.0, 3.0, 4.0], [[1.0, 6.0, 7.0, 2.0]])
    np.testing.assert_allclose(path[0], expected, rtol=1e-4, atol=1e-4)


def test_rmsprop_documented_example():
    # Keras's docstring: lr 0.1, loss w²/2 from w = 10 -> 9.683772
    assert run(optimizers.RMSprop(0.1), 10.0, [10.0])[0] == pytest.approx(9.683772, abs=1e-6)


# ----- clipping --------------------------------------------------------------------------------


def clipped(optimizer, grads):
    return optimizer._clip([np.array(g, dtype=np.float64) for g in grads])


def test_clipnorm_scales_each_gradient_to_at_most_the_norm():
    out = clipped(optimizers.Adam(clipnorm=1), [[100.0, 100.0], [0.3, 0.4]])
    np.testing.assert_allclose(out[0], [2**0.5 / 2, 2**0.5 / 2])
    np.testing.assert_allclose(out[1], [0.3, 0.4])  # norm 0.5 <= 1: unchanged
    np.testing.assert_array_equal(clipped(optimizers.SGD(clipnorm=1), [[0.0, 0.0]])[0], [0, 0])


def test_global_clipnorm_scales_all_gradients_together():
    out = clipped(optimizers.SGD(global_clipnorm=2.0), [[3.0, 0.0], [0.0, 4.0]])  # joint norm 5
    np.testing.assert_allclose(out[0], [1.2, 0.0])
    np.testing.assert_allclose(out[1], [0.0, 1.6])
    small = clipped(optimizers.SGD(global_clipnorm=10.0), [[3.0, 0.0], [0.0, 4.0]])
    np.testing.assert_allclose(small[1], [0.0, 4.0])
    with np.errstate(invalid="ignore"):
        infinite = clipped(optimizers.SGD(global_clipnorm=1.0), [[np.inf, 1.0]])
    assert np.isnan(infinite[0]).all()  # as Keras: a non-finite norm poisons the step


def test_clipvalue_clips_elements():
    np.testing.assert_allclose(
        clipped(optimizers.Adam(clipvalue=1), [[100.0, -3.0, 0.5]])[0], [1.0, -1.0, 0.5]
    )


def test_only_one_clipping_rule_may_be_set():
    with pytest.raises(ValueError, match="only one of clipnorm, clipvalue and global_clipnorm"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="clipnorm=1.0, clipvalue=None, global_clipnorm=2.0"):
        optimizers.SGD(clipnorm=1.0, global_clipnorm=2.0)


def test_clipping_happens_before_the_update():
    # SGD lr 1 with clipvalue 0.5: w moves by exactly 0.5
    np.testing.assert_allclose(
        run(optimizers.SGD(1.0, clipvalue=0.5), [0.0, 0.0], [[3.0, -0.1]]), [[-0.5, 0.1]]
    )


# ----- weight decay -----------------------------------------------------------------------------


def test_weight_decay_is_decoupled_and_respects_exclusions():
    # Keras's own case: three optimizers with lr 1 and decay 0.004 on zero gradients
    var1 = cr.Variable(np.float64(2.0), name="w")
    var2 = cr.Variable(np.float64(2.0), name="exclude")
    var3 = cr.Variable(np.float64(2.0), name="w3")
    zero = np.float64(0.0)
    optimizers.Adam(1.0, weight_decay=0.004).apply([zero], [var1])
    second = optimizers.Adam(1.0, weight_decay=0.004)
    second.exclude_from_weight_decay(var_names=["exclude"])
    second.apply([zero, zero], [var1, var2])
    third = optimizers.Adam(1.0, weight_decay=0.004)
    third.exclude_from_weight_decay(var_list=[var3])
    third.apply([zero, zero], [var1, var3])
    assert var1.item() == pytest.approx(1.9760959, abs=1e-6)
    assert var2.item() == 2.0 and var3.item() == 2.0
    with pytest.raises(ValueError, match="before the optimizer is built"):
        third.exclude_from_weight_decay(var_names=["x"])


def test_adamw_requires_a_weight_decay():
    assert optimizers.AdamW().weight_decay == 0.004
    with pytest.raises(ValueError, match="weight_decay must be a float"):
        optimizers.AdamW(weight_decay=None)


# ----- learning rates and schedules -------------------------------------------------------------


def test_a_schedule_is_read_at_the_step_before_it_is_counted():
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1 / (step + 1)

    path = run(optimizers.SGD(schedule), 0.0, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(path, np.cumsum([-0.1, -0.05, -0.1 / 3]))
    assert seen == [0, 1, 2]


def test_a_callable_of_no_arguments_is_called_as_keras_does():
    rate = [0.5]
    optimizer = optimizers.SGD(lambda: rate[0])
    run(optimizer, 0.0, [1.0])
    rate[0] = 0.25
    assert optimizer.learning_rate == 0.25


def test_schedules_drive_the_optimizer():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    path = run(optimizers.SGD(schedule), 0.0, [1.0] * 3)
    np.testing.assert_allclose(path, [-0.1, -0.15, -0.175])


def test_learning_rate_accepts_ints_and_rejects_bad_values():
    assert optimizers.SGD(learning_rate=1).learning_rate == 1.0
    optimizer = optimizers.Adam()
    optimizer.learning_rate = 2
    assert optimizer.learning_rate == 2.0
    with pytest.raises(ValueError, match="non-negative"):
        optimizers.Adam(learning_rate=-1e-3)
    with pytest.raises(ValueError, match="must be a number"):
        optimizers.Adam(learning_rate="fast")
    scheduled = optimizers.SGD(schedules.InverseTimeDecay(0.1, 1, 0.5))
    with pytest.raises(TypeError, match="cannot be set to a number"):
        scheduled.learning_rate = 0.01


def test_optimizer_ignores_variables_without_gradient_with_a_warning():
    a, b = cr.Variable(np.ones(2)), cr.Variable(np.ones(2), name="unused")
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['unused'\]"):
        optimizers.SGD(1.0).apply([np.ones(2), None], [a, b])
    np.testing.assert_array_equal(a.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(b.numpy(), [1.0, 1.0])
    with pytest.raises(ValueError, match="no gradients provided"):
        optimizers.SGD().apply([None], [a])


def test_float32_variables_stay_float32():
    for name in optimizers.OPTIMIZERS:
        w = cr.Variable(np.ones(3, np.float32))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            optimizers.get(name).apply([np.full(3, 0.5, np.float32)], [w])
        assert w.dtype == np.float32 and np.all(w.numpy() < 1.0), name


# ----- identifiers and configs ------------------------------------------------------------------


def test_string_identifiers_cover_every_optimizer():
    for name, cls in [
        ("adamw", optimizers.AdamW),
        ("Adagrad", optimizers.Adagrad),
        ("adadelta", optimizers.Adadelta),
        ("NADAM", optimizers.Nadam),
        ("adamax", optimizers.Adamax),
        ("lion", optimizers.Lion),
        ("rmsprop", optimizers.RMSprop),
    ]:
        assert type(optimizers.get(name)) is cls
    with pytest.raises(
        ValueError,
        match="Unknown optimizer: 'adamm'. Known optimizers: "
        "adadelta, adafactor, adagrad, adam, adamax, adamw, ftrl, lion, muon, nadam",
    ):
        optimizers.get("adamm")


KERAS_DEFAULT_NAMES = {
    "adamw": "adam_w",
    "rmsprop": "rm_sprop",
    "schedulefreeadamw": "schedule_free_adam_w",
}


@pytest.mark.parametrize("name", sorted(optimizers.OPTIMIZERS))
def test_get_config_round_trips(name):
    cls = optimizers.OPTIMIZERS[name]
    cr.keras.backend.clear_session()  # the session's first optimizer of its class: unnumbered
    optimizer = cls(learning_rate=0.5, clipnorm=2.0)
    config = optimizer.get_config()
    assert config["learning_rate"] == 0.5 and config["clipnorm"] == 2.0
    # Keras 3.15.1's default names: the class's name in its snake_case
    assert config["name"] == KERAS_DEFAULT_NAMES.get(name, name)
    assert cls().name == f"{config['name']}_1"  # the next one is numbered
    assert cls.from_config(config).get_config() == config


def test_config_of_a_scheduled_optimizer_names_the_schedule():
    schedule = schedules.CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10)
    config = optimizers.Adam(schedule).get_config()
    assert config["learning_rate"] == {"class_name": "CosineDecay", "config": schedule.get_config()}
    rebuilt = optimizers.Adam.from_config(config)
    assert isinstance(rebuilt._learning_rate, schedules.CosineDecay)
    with pytest.raises(ValueError, match="Unknown learning rate schedule: 'Evil'"):
        optimizers.Adam.from_config({"learning_rate": {"class_name": "Evil", "config": {}}})


def test_constructor_arguments_are_validated():
    with pytest.raises(ValueError, match="beta_1 must be in"):
        optimizers.Lion(beta_1=0.0)
    with pytest.raises(ValueError, match="initial_accumulator_value must be >= 0"):
        optimizers.Adagrad(initial_accumulator_value=-1)
    with pytest.raises(TypeError, match="Unrecognized keyword arguments passed to Adam"):
        optimizers.Adam(lr_decay=0.1)


def test_rmsprop_rejects_out_of_range_hyperparameters():
    for argument in ("rho", "momentum"):
        for bad in (-0.1, 1.1):
            with pytest.raises(ValueError, match=f"{argument} must be in \\[0, 1\\]"):
                optimizers.RMSprop(**{argument: bad})
    with pytest.raises(ValueError, match="epsilon must be positive"):
        optimizers.RMSprop(epsilon=0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: optimizers.Adam(amsgrad=True),
        lambda: optimizers.AdamW(weight_decay=0.01),
        lambda: optimizers.Nadam(),
        lambda: optimizers.Adamax(),
        lambda: optimizers.RMSprop(momentum=0.5, centered=True),
        lambda: optimizers.Adagrad(),
        lambda: optimizers.Adadelta(learning_rate=1.0),
        lambda: optimizers.Lion(),
        lambda: optimizers.SGD(momentum=0.9, nesterov=True),
    ],
)
def test_large_variables_are_updated_block_by_block_with_the_same_result(monkeypatch, make):
    """Without the compiled loops, fit's update loop updates a variable of more than two blocks
    one cache-sized block at a time, each block standing in for the variable: the result is the
    whole-array update, bit for bit."""
    monkeypatch.setattr(fused, "compiled", lambda: None)
    rng = np.random.default_rng(5)
    shape = (3, updates.BLOCK + 7)  # three blocks and a short last one
    start = rng.standard_normal(shape).astype(np.float32)
    grads = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]

    def train(update_loop):
        variable, optimizer = cr.Variable(start.copy()), make()
        optimizer.update_loop = update_loop
        for g in grads:
            optimizer.apply([g], [variable])
        return variable.numpy()

    blocked, whole = train(updates.update), train(None)
    np.testing.assert_array_equal(blocked, whole)
    assert not np.array_equal(blocked, start)
