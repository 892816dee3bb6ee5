"""replica_sum with a summing function installed, as chainrule.distributed installs an Allreduce:
three replicas that hold the same x are simulated by y = 3x."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops


@pytest.fixture
def three_replicas():
    def weighted(weight):
        ops.sum_replicas_with(lambda a: 3 * a, weight=weight)

    yield weighted
    ops.sum_replicas_with(None)


def test_the_sum_and_its_gradient_are_sums_over_the_replicas(three_replicas):
    three_replicas(1.0)
    x = np.random.default_rng(0).standard_normal((2, 3))
    np.testing.assert_array_equal(ops.replica_sum(x), 3 * x)
    cr.gradcheck(lambda t: ops.replica_sum(t) * t, (x,))


@pytest.mark.parametrize("weight", [0.5, 2.0])
def test_a_weighted_replica_gets_the_sum_of_the_weighted_gradients_over_its_weight(
    three_replicas, weight
):
    """Every replica weighs g by w: replica_sum(w g) / w = 3 w g / w = 3 g."""
    three_replicas(weight)
    x = cr.Tensor(np.ones(4), requires_grad=True)
    ops.replica_sum(x).sum().backward()
    np.testing.assert_allclose(x.grad, 3.0)


def test_a_replica_of_weight_0_gets_a_zero_gradient(three_replicas):
    three_replicas(0.0)
    x = cr.Tensor(np.ones(4), requires_grad=True)
    ops.replica_sum(x).sum().backward()
    np.testing.assert_array_equal(x.grad, 0.0)
