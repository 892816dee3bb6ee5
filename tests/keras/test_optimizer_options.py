"""The base optimizer's options of Keras 3: gradient_accumulation_steps, use_ema (with
ema_momentum and ema_overwrite_frequency) and loss_scale_factor.

``tests/fixtures/keras/optimizer_options.npz`` holds what Keras 3.15.1 (JAX backend) computed
for the same training runs (``make_optimizer_options.py`` beside it, whose ``train`` runs here
with chainrule.keras); Keras on TensorFlow gave the same numbers.
"""

import importlib.util
import pathlib

import numpy as np
import pytest

import chainrule.keras as keras
from chainrule.keras import optimizers

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures" / "keras"


def _fixture_script():
    spec = importlib.util.spec_from_file_location(
        "make_optimizer_options", FIXTURES / "make_optimizer_options.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _fixture_script()
KERAS = np.load(FIXTURES / "optimizer_options.npz")


@pytest.mark.parametrize("case", sorted(SCRIPT.CASES))
def test_training_equals_keras_number_by_number(case):
    keras.backend.clear_session()
    weights, variables, paths = SCRIPT.train(keras, case)
    assert paths == list(KERAS[f"paths_{case}"])
    np.testing.assert_allclose(weights, KERAS[f"weights_{case}"], atol=1e-6)
    np.testing.assert_allclose(variables, KERAS[f"variables_{case}"], atol=1e-6)


def test_accumulating_counts_updates_in_iterations_and_calls_in_its_variable():
    variable = keras.Variable(np.zeros(2, np.float32), name="w")
    sgd = optimizers.SGD(1.0, gradient_accumulation_steps=2)
    for step in range(5):  # gradients 1, 2, 3, 4, 5: updates by the means 1.5 and 3.5
        sgd.apply([np.full(2, step + 1.0, np.float32)], [variable])
    np.testing.assert_array_equal(variable.numpy(), [-5.0, -5.0])
    assert int(sgd.iterations) == 2 and int(sgd._iterations.numpy()) == 5
    assert [v.path.rsplit("/", 1)[-1] for v in sgd.variables] == [
        "iteration",
        "learning_rate",
        "w_gradient_accumulator",
    ]
    np.testing.assert_array_equal(sgd.variables[2].numpy(), [5.0, 5.0])  # the fifth, waiting


def test_loss_scale_factor_scales_the_loss_and_divides_the_gradients():
    sgd = optimizers.SGD(0.5, loss_scale_factor=4.0)
    assert float(sgd.scale_loss(keras.ops.convert_to_tensor(3.0))) == 12.0
    variable = keras.Variable(np.ones(2, np.float32), name="w")
    sgd.apply([np.full(2, 4.0, np.float32)], [variable])  # the gradient of 4 L: 4 g
    np.testing.assert_array_equal(variable.numpy(), [0.5, 0.5])


def test_the_options_are_checked_and_in_the_config_as_keras_writes_them():
    with pytest.raises(ValueError, match="`gradient_accumulation_steps` must be an integer >= 2"):
        optimizers.Adam(gradient_accumulation_steps=1)
    with pytest.raises(ValueError, match=r"`ema_momentum` must be in the range \[0, 1\]"):
        optimizers.Adam(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="`ema_overwrite_frequency` must be an integer >= 1"):
        optimizers.Adam(use_ema=True, ema_overwrite_frequency=0)
    # Keras 3.15.1: list(keras.optimizers.SGD().get_config())
    config = optimizers.SGD(gradient_accumulation_steps=4).get_config()
    assert list(config)[:11] == [
        "name",
        "learning_rate",
        "weight_decay",
        "clipnorm",
        "global_clipnorm",
        "clipvalue",
        "use_ema",
        "ema_momentum",
        "ema_overwrite_frequency",
        "loss_scale_factor",
        "gradient_accumulation_steps",
    ]
    assert optimizers.SGD.from_config(config).get_config() == config


def test_a_model_saved_while_accumulating_resumes_the_same(tmp_path):
    x, y, initial = SCRIPT.data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    model.set_weights(initial)
    model.compile(optimizers.Adam(0.01, gradient_accumulation_steps=3, use_ema=True), "mse")
    model.fit(x[:24], y[:24], batch_size=8, epochs=1, shuffle=False, verbose=0)  # 3 steps
    model.train_on_batch(x[24:], y[24:])  # a fourth, accumulated only
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for m in (model, loaded):
        m.train_on_batch(x[:8], y[:8])
        m.train_on_batch(x[8:16], y[8:16])
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_swap_ema_weights_evaluates_with_the_moving_averages_and_swaps_back():
    # Keras 3.15.1 on TensorFlow, the same fit with validation and SwapEMAWeights (either
    # swap_on_epoch): val_loss and the final weights equal chainrule's to 2e-6
    x, y, initial = SCRIPT.data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    model.set_weights(initial)
    model.compile(optimizers.Adam(0.05, use_ema=True, ema_momentum=0.8), "mse")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)  # ends on the averages
    model.train_on_batch(x[:8], y[:8])  # the weights move off them again
    weights = model.get_weights()
    optimizer = model.optimizer
    averages = [optimizer.slot(w, "average").copy() for w in model.trainable_weights]
    swapping = keras.callbacks.SwapEMAWeights()
    loss = model.evaluate(x, y, verbose=0, callbacks=[swapping])
    for now, before in zip(model.get_weights(), weights):  # swapped back
        np.testing.assert_array_equal(now, before)
    model.set_weights(averages)
    assert loss == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-6)
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    plain.compile("sgd", "mse")
    plain.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="`use_ema=True` is set on the optimizer"):
        plain.evaluate(x, y, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
