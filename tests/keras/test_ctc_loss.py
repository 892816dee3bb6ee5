"""keras.losses.CTC and ctc, against real Keras 3.15.1 (JAX) on fixed logits:

rng = np.random.default_rng(0)
yt = np.array([[1, 2, 2, 0], [3, 1, 0, 0]]); yp = rng.normal(size=(2, 6, 4)).astype("float32")
keras.losses.ctc(yt, yp)      # [7.656312  5.1387844]
keras.losses.CTC()(yt, yp)    # 6.397548
"""

import numpy as np
import pytest

import chainrule as cr
from chainrule import keras

rng = np.random.default_rng(0)
Y_TRUE = np.array([[1, 2, 2, 0], [3, 1, 0, 0]])
Y_PRED = rng.normal(size=(2, 6, 4)).astype("float32")


def test_values_match_keras():
    np.testing.assert_allclose(
        keras.losses.ctc(Y_TRUE, Y_PRED).numpy(), [7.656312, 5.1387844], rtol=1e-6
    )
    assert float(keras.losses.CTC()(Y_TRUE, Y_PRED)) == pytest.approx(6.397548, rel=1e-6)
    assert keras.losses.CTC().get_config() == {"name": "ctc", "reduction": "sum_over_batch_size"}
    assert keras.losses.get("ctc") is keras.losses.ctc


def test_the_gradient_matches_finite_differences():
    logits = rng.normal(size=(2, 5, 4))
    worst = cr.gradcheck(lambda z: keras.losses.ctc(Y_TRUE[:, :3], z), logits)
    assert worst < 1e-5


def test_shapes_are_checked():
    with pytest.raises(ValueError, match=r"ctc: y_true must be \(batch_size, max_length\)"):
        keras.losses.ctc(Y_TRUE[0], Y_PRED)
