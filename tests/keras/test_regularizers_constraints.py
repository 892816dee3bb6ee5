"""keras.regularizers and keras.constraints: values against real Keras 3 on a fixed weight,
closed forms, gradients, Keras's defaults and configs, and get/serialize/deserialize."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule.keras import constraints, regularizers

# The values below were made with Keras 3.15.1 on JAX (float32) by:
#
#   w = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.4]], "float32")
#   r, c = keras.regularizers, keras.constraints
#   for reg in [r.L1(0.1), r.L2(0.2), r.L1L2(l1=0.1, l2=0.2), r.OrthogonalRegularizer(0.5),
#               r.OrthogonalRegularizer(0.3, mode="columns")]:
#       print(type(reg).__name__, reg.get_config(), float(reg(keras.ops.convert_to_tensor(w))))
#   for con in [c.MaxNorm(1.0), c.MaxNorm(1.5, axis=1), c.UnitNorm(),
#               c.MinMaxNorm(0.5, 1.0, 0.7), c.NonNeg()]:
#       print(type(con).__name__, con.get_config(), np.asarray(con(w)).round(6).tolist())
W = np.array([[0.5, -1.0, 2.0], [1.5, 0.3, -0.4]], "float32")

PENALTIES = [
    (regularizers.L1(0.1), 0.57),
    (regularizers.L2(0.2), 1.55),
    (regularizers.L1L2(l1=0.1, l2=0.2), 2.12),
    (regularizers.OrthogonalRegularizer(0.5), 0.04830460622906685),
    (regularizers.OrthogonalRegularizer(0.3, mode="columns"), 0.11499033123254776),
]
_UNIT_COLUMNS = [[0.316228, -0.957826, 0.980581], [0.948683, 0.287348, -0.196116]]
PROJECTIONS = [
    (constraints.MaxNorm(1.0), _UNIT_COLUMNS),
    (
        constraints.MaxNorm(1.5, axis=1),
        [[0.327327, -0.654654, 1.309307], [1.423025, 0.284605, -0.379473]],
    ),
    (constraints.UnitNorm(), _UNIT_COLUMNS),
    (
        constraints.MinMaxNorm(0.5, 1.0, 0.7),
        [[0.371359, -0.970478, 1.286406], [1.114078, 0.291144, -0.257281]],
    ),
    (constraints.NonNeg(), [[0.5, 0.0, 2.0], [1.5, 0.3, 0.0]]),
]


@pytest.mark.parametrize("regularizer, expected", PENALTIES, ids=lambda v: type(v).__name__)
def test_penalties_match_keras(regularizer, expected):
    penalty = regularizer(cr.Tensor(W))
    assert isinstance(penalty, cr.Tensor)
    assert penalty.item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("constraint, expected", PROJECTIONS, ids=lambda v: type(v).__name__)
def test_projections_match_keras(constraint, expected):
    np.testing.assert_allclose(np.asarray(constraint(W)), expected, rtol=1e-5, atol=1e-6)


def test_orthogonal_regularizer_closed_form_and_zero_on_orthogonal_rows():
    # two rows at 60 degrees: the mean |cosine| over the one pair is 0.5
    w = np.array([[1.0, 0.0], [0.5, np.sqrt(3) / 2]])
    assert regularizers.OrthogonalRegularizer(1.0)(cr.Tensor(w)).item() == pytest.approx(0.5)
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((4, 4)))[0]
    assert regularizers.OrthogonalRegularizer(1.0)(cr.Tensor(3.0 * q)).item() == pytest.approx(
        0.0, abs=1e-12
    )
    with pytest.raises(ValueError, match=r"OrthogonalRegularizer: the weight must be 2-D"):
        regularizers.OrthogonalRegularizer()(cr.Tensor(np.ones(3)))
    with pytest.raises(ValueError, match="mode must be 'rows' or 'columns'"):
        regularizers.OrthogonalRegularizer(mode="diagonal")


@pytest.mark.parametrize(
    "regularizer",
    [
        regularizers.L1(0.3),
        regularizers.L2(0.3),
        regularizers.L1L2(0.1, 0.4),
        regularizers.OrthogonalRegularizer(0.7),
        regularizers.OrthogonalRegularizer(0.7, mode="columns"),
    ],
    ids=lambda r: type(r).__name__,
)
def test_penalty_gradients(regularizer):
    w = np.random.default_rng(1).uniform(0.2, 1.5, (3, 4)) * np.array([1, -1, 1, -1])
    assert cr.gradcheck(regularizer, w) < 1e-5


def test_regularizer_defaults_configs_and_argument_checks():
    assert regularizers.L1().get_config() == {"l1": 0.01}
    assert regularizers.L2().get_config() == {"l2": 0.01}
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.L1L2(l1=None, l2=0.1).get_config() == {"l1": 0.0, "l2": 0.1}
    assert regularizers.OrthogonalRegularizer().get_config() == {"factor": 0.01, "mode": "rows"}
    assert regularizers.L1L2().__call__(cr.Tensor(W)) == 0.0
    assert regularizers.Regularizer()(W) == 0.0
    with pytest.raises(ValueError, match=r"L2: `l2` must be a non-negative float; received l2=-1"):
        regularizers.L2(-1)
    with pytest.raises(ValueError, match="`factor` must be a non-negative float"):
        regularizers.OrthogonalRegularizer(float("nan"))


def test_regularizer_identifiers_and_round_trips():
    assert regularizers.l1 is regularizers.L1 and regularizers.l1_l2 is regularizers.L1L2
    assert regularizers.orthogonal_regularizer is regularizers.OrthogonalRegularizer
    assert isinstance(
        regularizers.get("orthogonal_regularizer"), regularizers.OrthogonalRegularizer
    )
    assert isinstance(regularizers.get("L2"), regularizers.L2)
    assert isinstance(regularizers.get(regularizers.L1), regularizers.L1)
    assert regularizers.get(None) is None
    # Keras 3.15.1: keras.regularizers.serialize(keras.regularizers.L1L2(0.1, 0.2))
    assert regularizers.serialize(regularizers.L1L2(0.1, 0.2)) == {
        "module": "keras.regularizers",
        "class_name": "L1L2",
        "config": {"l1": 0.1, "l2": 0.2},
        "registered_name": None,
    }
    for reg in [regularizers.L1(0.2), regularizers.OrthogonalRegularizer(0.3, "columns")]:
        description = json.loads(json.dumps(regularizers.serialize(reg)))
        rebuilt = regularizers.deserialize(description)
        assert type(rebuilt) is type(reg) and rebuilt.get_config() == reg.get_config()
        assert regularizers.get(description).get_config() == reg.get_config()
    with pytest.raises(ValueError, match="Unknown regularizer: 'l3'"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier"):
        regularizers.get(3)


def test_constraint_defaults_configs_and_round_trips():
    assert constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert constraints.MinMaxNorm().get_config() == {
        "min_value": 0.0,
        "max_value": 1.0,
        "rate": 1.0,
        "axis": 0,
    }
    assert constraints.UnitNorm().get_config() == {"axis": 0}
    assert constraints.NonNeg().get_config() == {}
    np.testing.assert_array_equal(constraints.Constraint()(W), W)
    # Keras 3.15.1: keras.constraints.serialize(keras.constraints.MaxNorm())
    assert constraints.serialize(constraints.MaxNorm()) == {
        "module": "keras.constraints",
        "class_name": "MaxNorm",
        "config": {"max_value": 2, "axis": 0},
        "registered_name": None,
    }
    for con in [constraints.MinMaxNorm(0.2, 0.9, 0.5, axis=1), constraints.NonNeg()]:
        rebuilt = constraints.deserialize(json.loads(json.dumps(constraints.serialize(con))))
        assert type(rebuilt) is type(con) and rebuilt.get_config() == con.get_config()
    assert isinstance(
        constraints.get({"class_name": "UnitNorm", "config": {"axis": 1}}), constraints.UnitNorm
    )
    assert isinstance(constraints.get(constraints.NonNeg), constraints.NonNeg)
    assert constraints.get(None) is None
    with pytest.raises(ValueError, match="Could not interpret constraint identifier"):
        constraints.get(1.5)


def test_max_norm_leaves_short_vectors_and_unit_norm_gives_norm_one():
    w = np.array([[0.3, 3.0], [0.4, 4.0]])
    np.testing.assert_allclose(np.asarray(constraints.MaxNorm(1.0)(w))[:, 0], [0.3, 0.4], rtol=1e-6)
    norms = np.linalg.norm(np.asarray(constraints.UnitNorm()(w)), axis=0)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-6)
