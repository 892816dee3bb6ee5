"""Every differentiable primitive against float64 central finite differences, driven by the
registry: a primitive with no cases in op_cases.CASES fails the suite."""

import pytest
from op_cases import CASES

import chainrule as cr

WORST = {}


def test_every_differentiable_primitive_has_cases():
    differentiable = {name for name, p in cr.PRIMITIVES.items() if p.differentiable}
    missing = differentiable - set(CASES)
    assert not missing, f"primitives without gradient-check cases: {sorted(missing)}"
    unknown = set(CASES) - differentiable
    assert not unknown, f"cases for primitives that do not exist: {sorted(unknown)}"


@pytest.mark.parametrize(
    "name, index", [(name, i) for name, cases in CASES.items() for i in range(len(cases))]
)
def test_gradcheck(name, index):
    fn, inputs = CASES[name][index]
    if name == "cast":
        worst = cr.gradcheck(fn, *inputs)
    else:
        worst = cr.gradcheck(fn, *inputs, atol=1e-6, rtol=1e-5)
    WORST[name] = max(WORST.get(name, 0.0), worst)
    assert worst < 1e-4


def test_gradcheck_reports_a_wrong_gradient():
    @cr.engine.primitive
    def _wrong_square(a):
        """y = a^2 with a deliberately wrong VJP (g * a instead of 2 g a)."""
        return a * a

    @_wrong_square.defvjp(0)
    def _(g, y, a):
        return g * a

    try:
        with pytest.raises(cr.GradcheckError, match=r"input 0 \(shape \(3,\)\) at index"):
            cr.gradcheck(_wrong_square, [1.0, 2.0, 3.0])
    finally:
        del cr.PRIMITIVES["wrong_square"]


def test_gradcheck_returns_the_worst_relative_error():
    worst = cr.gradcheck(lambda a: (a * a).sum(), [1.0, -2.0, 3.0])
    assert 0 <= worst < 1e-8
