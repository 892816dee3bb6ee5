"""An optimizer's state as Keras 3 keeps it: the learning rate a float32 Variable, iterations an
int32 Variable, ``optimizer.variables`` in Keras's order and with its names; the rate the update
computes with and the one callbacks log; ``summary()``'s "Optimizer params" line. Expected
values are Keras 3.15.1's (JAX backend)."""

import numpy as np
import pytest

from chainrule import keras
from chainrule.keras import optimizers
from chainrule.keras.optimizers import schedules


def step_once(optimizer):
    """One apply() on a (3, 2) "kernel" and a (2,) "bias" (float32, gradients 0.5)."""
    kernel = keras.Variable(np.ones((3, 2)), name="kernel")
    bias = keras.Variable(np.zeros(2), name="bias")
    optimizer.apply([np.full((3, 2), 0.5, "float32"), np.full(2, 0.5, "float32")], [kernel, bias])
    return kernel, bias


def test_a_float_learning_rate_is_a_float32_variable():
    # as Keras 3: repr, float32 values, assign() and setting the attribute
    keras.backend.clear_session()  # the first SGD of the session is named "sgd"
    optimizer = optimizers.SGD(1e-6)
    rate = optimizer.learning_rate
    assert isinstance(rate, keras.Variable)
    assert repr(rate) == (
        "<Variable path=sgd/learning_rate, shape=(), dtype=float32, value=9.999999974752427e-07>"
    )
    rate.assign(0.5)
    assert float(optimizer.learning_rate) == 0.5
    optimizer.learning_rate = 0.01
    assert optimizer.learning_rate is rate
    assert float(rate) == 0.009999999776482582 and rate.numpy() == np.float32(0.01)
    assert optimizer.get_config()["learning_rate"] == 0.009999999776482582
    with pytest.raises(ValueError, match="SGD: the learning rate must be a non-negative"):
        optimizer.learning_rate = -1.0
    optimizer.learning_rate = 1e308  # beyond float32: inf, as Keras's variable holds it
    assert float(optimizer.learning_rate) == np.inf


def test_iterations_is_an_int32_variable_that_counts_the_steps():
    keras.backend.clear_session()
    optimizer = optimizers.SGD(0.1)
    iterations = optimizer.iterations
    assert repr(iterations) == "<Variable path=sgd/iteration, shape=(), dtype=int32, value=0>"
    step_once(optimizer)
    step_once(optimizer)
    assert optimizer.iterations is iterations
    assert int(iterations) == 2 and iterations.numpy() == 2 and iterations == 2
    assert int(iterations % 10) == 2 and int(iterations + 1) == 3  # as users write them
    decay = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    assert decay(iterations) == pytest.approx(0.025)
    optimizer.iterations = 7  # chainrule's loading code sets it; the variable stays the same
    assert optimizer.iterations is iterations and int(iterations) == 7


@pytest.mark.parametrize(
    "optimizer, expected",
    [
        (
            optimizers.SGD(0.1, momentum=0.9),
            ["kernel_momentum", "bias_momentum"],
        ),
        (
            optimizers.Adam(amsgrad=True),
            [
                "kernel_momentum",
                "kernel_velocity",
                "bias_momentum",
                "bias_velocity",
                "kernel_velocity_hat",
                "bias_velocity_hat",
            ],
        ),
        (
            optimizers.RMSprop(momentum=0.5, centered=True),
            [
                "kernel_velocity",
                "bias_velocity",
                "kernel_momentum",
                "bias_momentum",
                "kernel_average_gradient",
                "bias_average_gradient",
            ],
        ),
        (
            optimizers.Ftrl(),
            ["kernel_accumulator", "kernel_linear", "bias_accumulator", "bias_linear"],
        ),
    ],
    ids=["SGD", "Adam", "RMSprop", "Ftrl"],
)
def test_variables_are_listed_in_keras_order_with_keras_paths(optimizer, expected):
    # as Keras 3: iterations, the learning rate, then each build() call's slots (those made
    # together interleaved per variable), named "<variable path>_<slot>" under the optimizer's
    step_once(optimizer)
    variables = optimizer.variables
    prefix = optimizer.name
    assert [v.path for v in variables] == [
        f"{prefix}/iteration",
        f"{prefix}/learning_rate",
        *[f"{prefix}/{name}" for name in expected],
    ]
    assert [v.name for v in variables[2:]] == expected
    assert [str(v.dtype) for v in variables] == ["int32"] + ["float32"] * (len(expected) + 1)
    assert not any(v.trainable for v in variables)
    assert int(variables[0]) == 1


def test_the_state_variables_are_the_arrays_the_update_writes():
    optimizer = optimizers.SGD(0.1, momentum=0.9)
    kernel, bias = step_once(optimizer)
    momentum = optimizer.variables[2]
    # v = -η g after one step, with η the float32 rate
    np.testing.assert_array_equal(momentum.numpy(), np.full((3, 2), -0.05, "float32"))
    # what is assigned is the state the next step reads: v = 0 and g = 0 leave the kernel alone
    momentum.assign(np.zeros((3, 2)))
    before = kernel.numpy().copy()
    optimizer.apply([np.zeros((3, 2), "float32"), np.zeros(2, "float32")], [kernel, bias])
    np.testing.assert_array_equal(kernel.numpy(), before)


def test_nadam_and_adafactor_list_their_extra_variables_as_keras():
    # as Keras 3: Nadam's product of momentum coefficients after the slots, as a float32
    # "variable"; Adafactor's row and column averages named after the variable, with int32
    # zeros in their place for a vector
    nadam = optimizers.Nadam()
    step_once(nadam)
    names = [v.name for v in nadam.variables]
    assert names == [
        "iteration",
        "learning_rate",
        "kernel_momentum",
        "kernel_velocity",
        "bias_momentum",
        "bias_velocity",
        "variable",
    ]
    product = nadam.variables[-1]
    assert product.dtype == np.float32 and float(product) == pytest.approx(0.9 * (1 - 0.5 * 0.96))
    adafactor = optimizers.Adafactor()
    step_once(adafactor)
    described = [(v.name, v.shape, str(v.dtype)) for v in adafactor.variables[2:]]
    assert described == [
        ("kernel", (3,), "float32"),
        ("kernel", (2,), "float32"),
        ("kernel_velocity", (3, 2), "float32"),
        ("bias", (), "int32"),
        ("bias", (), "int32"),
        ("bias_velocity", (2,), "float32"),
    ]


def test_a_schedule_gives_a_float32_tensor_and_no_learning_rate_variable():
    # as Keras 3: optimizer.learning_rate is the schedule's value at iterations, a float32
    # scalar; the variables are iterations alone; a number can no longer be set
    optimizer = optimizers.SGD(schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5))
    assert [v.name for v in optimizer.variables] == ["iteration"]
    step_once(optimizer)
    rate = optimizer.learning_rate
    assert not isinstance(rate, keras.Variable)
    assert rate.dtype == np.float32 and float(rate) == 0.05000000074505806
    with pytest.raises(TypeError, match="learning-rate schedule"):
        optimizer.learning_rate = 0.1
    replaced = optimizers.SGD(0.1)
    replaced.learning_rate = schedules.ExponentialDecay(0.1, 10, 0.5)
    assert [v.name for v in replaced.variables] == ["iteration"]  # Keras untracks the variable


def test_the_update_computes_with_the_float32_rate():
    # as Keras 3's update_step: the float32 rate is cast to the weights' dtype, so a float64
    # weight moves by 0.10000000149011612 g, not 0.1 g
    weight = keras.Variable(np.ones(2), dtype="float64")
    optimizers.SGD(0.1).apply([np.ones(2)], [weight])
    np.testing.assert_array_equal(weight.numpy(), 1 - np.float64(np.float32(0.1)))


def test_loss_scale_and_multi_optimizers_list_theirs_then_the_inner_ones():
    # as Keras 3: a LossScaleOptimizer's iteration and learning rate (kept at 0), step_counter
    # and dynamic_scale, then the inner optimizer's variables
    inner = optimizers.SGD(0.1, momentum=0.9)
    scaled = optimizers.LossScaleOptimizer(inner)
    step_once(scaled)
    names = [v.name for v in scaled.variables]
    assert names == [
        "iteration",
        "learning_rate",
        "step_counter",
        "dynamic_scale",
        "iteration",
        "learning_rate",
        "kernel_momentum",
        "bias_momentum",
    ]
    assert int(scaled.variables[0]) == 0 and scaled.iterations is inner.iterations
    assert int(scaled.step_counter) == 1 and float(scaled.dynamic_scale) == 2.0**15
    assert scaled.learning_rate is inner.learning_rate
    first, second = optimizers.SGD(0.1), optimizers.Adam()
    multi = optimizers.MultiOptimizer(
        optimizers.OptimizerMap(first, {"bias": second}), name="multi"
    )
    step_once(multi)
    # its own, then the inner optimizers' in the order met: the map's values, then the default
    expected = ["multi/iteration", "multi/learning_rate"]
    expected += [v.path for v in second.variables + first.variables]
    assert [v.path for v in multi.variables] == expected
    assert int(multi.iterations) == 1 and int(first.iterations) == int(second.iterations) == 1


def test_callbacks_log_the_float32_rate_as_keras():
    # as Keras 3.15.1: the history holds the float32 values read back from the variable
    x, y = np.ones((8, 3), "float32"), np.ones((8, 1), "float32")

    def model(optimizer):
        m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, kernel_initializer="zeros")])
        m.compile(optimizer=optimizer, loss="mse")
        return m

    scheduler = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.1)
    history = model(optimizers.SGD(1e-3)).fit(x, y, epochs=3, verbose=0, callbacks=[scheduler])
    assert history.history["learning_rate"] == [
        0.00010000000474974513,
        1.0000000656873453e-05,
        1.0000001111620804e-06,
    ]
    plateau = keras.callbacks.ReduceLROnPlateau("loss", factor=0.5, patience=1, min_delta=10)
    history = model(optimizers.Adam(0.01)).fit(x, y * 0, epochs=4, verbose=0, callbacks=[plateau])
    assert history.history["learning_rate"] == [
        0.009999999776482582,
        0.009999999776482582,
        0.004999999888241291,
        0.0024999999441206455,
    ]


def test_summary_counts_the_optimizer_variables_once_built():
    # as Keras 3.15.1: after compile, no optimizer line; after fit, "Optimizer params" and a
    # total that includes them (Adam on 5 weights: iteration, learning rate, 5 m and 5 v)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    lines = []
    model.summary(print_fn=lines.append)
    assert "Optimizer params" not in lines[0]
    assert " Total params: 5 (20.00 B)" in lines[0].splitlines()
    model.fit(np.ones((8, 4)), np.ones((8, 1)), verbose=0)
    model.summary(print_fn=lines.append)
    assert lines[1].splitlines()[-4:] == [
        " Total params: 17 (68.00 B)",
        " Trainable params: 5 (20.00 B)",
        " Non-trainable params: 0 (0.00 B)",
        " Optimizer params: 12 (48.00 B)",
    ]
