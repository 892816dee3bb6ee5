"""Training runs number by number against Keras on TensorFlow: the article's network, from the
same initial weights, on the same batches, with SGD, Adam and RMSprop at Keras's defaults,
recorded by tests/fixtures/keras_training/make_fixtures.py and reproduced here by running the
same code with chainrule.keras."""

import importlib.util
import pathlib

import numpy as np
import pytest

from chainrule import keras

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "keras_training"
_spec = importlib.util.spec_from_file_location(
    "make_training_fixtures", FIXTURES / "make_fixtures.py"
)
make_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_fixtures)
RECORDED = np.load(FIXTURES / "training.npz")

# After 80 steps the weights differ by at most 6e-8 (SGD), 9e-8 (RMSprop) and 1.9e-6 (Adam):
# float32 rounding in another order of additions (OpenBLAS against TensorFlow's kernels), which
# Adam's normalised step carries a little further.
TOLERANCE = {"sgd": 1e-6, "adam": 1e-5, "rmsprop": 1e-6}


@pytest.mark.parametrize("name", make_fixtures.OPTIMIZERS)
def test_training_reproduces_keras_on_tensorflow(name):
    x, y = make_fixtures.training_data()
    initial = [RECORDED[f"initial/w{i}"] for i in range(4)]
    weights, history = make_fixtures.train(keras, name, initial, x, y)
    for i, w in enumerate(weights):
        expected = RECORDED[f"{name}/w{i}"]
        np.testing.assert_allclose(w, expected, rtol=0, atol=TOLERANCE[name])
        assert not np.allclose(w, initial[i])  # the run did train
    np.testing.assert_allclose(history["loss"], RECORDED[f"{name}/loss"], rtol=TOLERANCE[name])
    np.testing.assert_allclose(history["accuracy"], RECORDED[f"{name}/accuracy"], atol=1e-6)
