"""A custom optimizer written as Keras 3's Optimizer docstring writes one: state made in build()
with add_variable_from_reference and kept in a list, update_step() indexing it with
_get_variable_index and writing with assign/assign_add."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.keras as keras
from chainrule.keras import ops


class MomentumSGD(keras.optimizers.Optimizer):
    """Keras 3.15.1's example of a custom optimizer (keras.optimizers.Optimizer's docstring)."""

    def __init__(self, learning_rate=0.01, momentum=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = momentum

    def build(self, variables):
        super().build(variables)
        self.momentums = [
            self.add_variable_from_reference(reference_variable=v, name="momentum")
            for v in variables
        ]

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        m = self.momentums[self._get_variable_index(variable)]
        self.assign(
            m,
            ops.subtract(
                ops.multiply(m, ops.cast(self.momentum, variable.dtype)),
                ops.multiply(gradient, learning_rate),
            ),
        )
        self.assign_add(variable, m)


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.normal(size=(32, 2)).astype("float32")
    return x, y, [rng.normal(size=s).astype("float32") * 0.5 for s in [(4, 2), (2,)]]


# Keras 3.15.1 (JAX), the same fit: the kernel's first row and a half, and the state's paths
@pytest.mark.parametrize(
    "options, first_weights, state",
    [
        ({}, [-0.28944, -0.08063, -0.1089, -0.18352], "sequential_dense_kernel_momentum"),
        (
            {"use_ema": True},
            [0.46438, -0.09393, -0.19237, 0.74073],
            "sequential_dense_kernel_average",
        ),
        (
            {"gradient_accumulation_steps": 2},
            [0.11964, -0.05118, -0.12015, 0.40741],
            "sequential_dense_kernel_gradient_accumulator",
        ),
    ],
)
def test_a_custom_optimizer_trains_as_in_keras(options, first_weights, state):
    keras.backend.clear_session()
    x, y, initial = data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.set_weights(initial)
    model.compile(MomentumSGD(0.1, momentum=0.9, **options), "mse")
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0].ravel()[:4], first_weights, atol=1e-5)
    assert model.optimizer.variables[2].path == f"momentum_sgd/{state}"


def test_a_custom_update_step_gets_large_variables_whole_inside_fit():
    # fit updates a large variable of chainrule's own optimizers block by block; a custom
    # update_step indexing its own lists must see the whole variable
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 300)).astype("float32")
    y = rng.normal(size=(16, 300)).astype("float32")
    model = keras.Sequential([keras.Input((300,)), keras.layers.Dense(300)])
    weights = model.get_weights()
    model.compile(MomentumSGD(0.01, momentum=0.9), "mse")
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    by_hand = keras.Sequential([keras.Input((300,)), keras.layers.Dense(300)])
    by_hand.set_weights(weights)
    optimizer = MomentumSGD(0.01, momentum=0.9)
    for _ in range(2):
        with cr.GradientTape() as tape:
            loss = keras.losses.MeanSquaredError()(y, by_hand(x))
        optimizer.apply(tape.gradient(loss, by_hand.trainable_weights), by_hand.trainable_weights)
    for a, b in zip(model.get_weights(), by_hand.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


class ScaledByRms(keras.optimizers.Optimizer):
    """Its state made with add_optimizer_variables (two names, an initializer each), as Keras's
    built-in optimizers make theirs since 3.11."""

    def build(self, variables):
        super().build(variables)
        self.ms, self.gs = self.add_optimizer_variables(
            variables, ["ms", "g"], initializer=["ones", "zeros"]
        )

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        ms = self.ms[i]
        self.assign(ms, ops.add(ops.multiply(ms, 0.9), ops.multiply(ops.square(gradient), 0.1)))
        step = ops.divide(ops.multiply(gradient, learning_rate), ops.sqrt(ops.add(ms, 1e-7)))
        self.assign_sub(variable, step)
        self.assign(self.gs[i], gradient)


def test_add_optimizer_variables_and_the_state_io_methods_as_in_keras():
    keras.backend.clear_session()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.normal(size=(32, 2)).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.set_weights([rng.normal(size=(4, 2)).astype("float32"), np.zeros(2, "float32")])
    model.compile(ScaledByRms(0.01), "mse")
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    # Keras 3.15.1 (JAX), the same program: the kernel's first four weights, the paths, and
    # the first two numbers of the kernel's "ms" state
    np.testing.assert_allclose(
        model.get_weights()[0].ravel()[:4], [1.00988, -0.03034, -0.26184, 1.5617], atol=1e-5
    )
    optimizer = model.optimizer
    assert [v.path.split("/")[1] for v in optimizer.variables] == [
        "iteration",
        "learning_rate",
        "sequential_dense_kernel_ms",
        "sequential_dense_kernel_g",
        "sequential_dense_bias_ms",
        "sequential_dense_bias_g",
    ]
    store = {}
    optimizer.save_own_variables(store)
    assert sorted(store) == ["0", "1", "2", "3", "4", "5"]
    np.testing.assert_allclose(store["2"].ravel()[:2], [0.99605685, 0.83050424], rtol=1e-6)
    optimizer.set_weights([np.zeros_like(v.numpy()) for v in optimizer.variables])
    assert not optimizer.variables[2].numpy().any()
    optimizer.load_own_variables(store)
    np.testing.assert_array_equal(optimizer.variables[2].numpy(), store["2"])
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer"):
        optimizer.load_own_variables({"0": 1})
    with pytest.raises(ValueError, match="scaled_by_rms/iteration has shape"):
        optimizer.set_weights([np.zeros(3)])
