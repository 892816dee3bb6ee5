"""Convolution and pooling primitives: values and gradients against TensorFlow's (recorded in
tests/fixtures/conv), against direct loops over the definitions, closed-form identities, second
derivatives, and the errors for bad inputs. The float64 gradient checks of every primitive are in
op_cases.py (run by test_gradients.py)."""

import contextlib
import os
import pathlib
from unittest import mock

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.fast import kernels, threads

FIXTURES = np.load(pathlib.Path(__file__).parents[1] / "fixtures" / "conv" / "tf_conv.npz")
rng = np.random.default_rng(0)


def _gradients(fn, *arrays, upstream):
    """fn(*arrays) and its gradients with respect to each array, of L = sum(fn(...) * upstream)."""
    tensors = [cr.Tensor(a, requires_grad=True) for a in arrays]
    y = fn(*tensors)
    (y * upstream).sum().backward()
    return y.numpy(), [t.grad.numpy() for t in tensors]


def _conv_reference(x, kernel, strides, pads, dilation, groups=1):
    """The definition, one output pixel at a time:
    y[n, i, j, f] = sum_{a, b, c} x[n, i s + a d, j s + b d, c] k[a, b, c, f]."""
    x = np.pad(x, ((0, 0), *pads, (0, 0)))
    kh, kw, cg, filters = kernel.shape
    (sh, sw), (dh, dw) = strides, dilation
    ho = (x.shape[1] - dh * (kh - 1) - 1) // sh + 1
    wo = (x.shape[2] - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((x.shape[0], ho, wo, filters))
    for i in range(ho):
        for j in range(wo):
            for f in range(filters):
                q = f // (filters // groups)
                window = x[
                    :,
                    i * sh : i * sh + dh * (kh - 1) + 1 : dh,
                    j * sw : j * sw + dw * (kw - 1) + 1 : dw,
                    q * cg : (q + 1) * cg,
                ]
                y[:, i, j, f] = (window * kernel[..., f]).sum(axis=(1, 2, 3))
    return y


# ----- against TensorFlow ------------------------------------------------------------------------

CONVOLUTIONS = {  # the parameters make_tf_fixtures.py recorded each case with
    "valid": dict(strides=1, padding="valid"),
    "same_strided": dict(strides=(2, 3), padding="same"),
    "same_dilated": dict(padding="same", dilation_rate=(2, 3)),
    "grouped": dict(groups=2),
}


@pytest.mark.parametrize("name", sorted(CONVOLUTIONS))
def test_conv2d_and_its_gradients_match_tensorflow(name):
    case = {
        key: FIXTURES[f"conv_{name}/{key}"] for key in ("x", "kernel", "g", "y", "dx", "dkernel")
    }
    y, (dx, dkernel) = _gradients(
        lambda x, k: ops.conv2d(x, k, **CONVOLUTIONS[name]),
        case["x"],
        case["kernel"],
        upstream=case["g"],
    )
    np.testing.assert_allclose(y, case["y"], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, case["dx"], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dkernel, case["dkernel"], rtol=1e-10, atol=1e-10)


POOLS = {
    "max_valid": (ops.max_pool2d, dict(pool_size=2)),
    "max_same_overlapping": (ops.max_pool2d, dict(pool_size=3, strides=(2, 1), padding="same")),
    "max_ties": (ops.max_pool2d, dict(pool_size=2)),
    "max_ties_overlapping": (ops.max_pool2d, dict(pool_size=(3, 2), strides=1)),
    "avg_valid": (ops.avg_pool2d, dict(pool_size=(2, 3), strides=2)),
    "avg_same": (ops.avg_pool2d, dict(pool_size=3, strides=2, padding="same")),
}


@pytest.mark.parametrize("name", sorted(POOLS))
def test_pooling_and_its_gradient_match_tensorflow(name):
    """Includes windows whose maximum appears twice: TensorFlow routes g to the first one."""
    pool, params = POOLS[name]
    case = {key: FIXTURES[f"pool_{name}/{key}"] for key in ("x", "g", "y", "dx")}
    y, (dx,) = _gradients(lambda x: pool(x, **params), case["x"], upstream=case["g"])
    assert y.dtype == np.float32 and dx.dtype == np.float32
    np.testing.assert_allclose(y, case["y"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dx, case["dx"], rtol=1e-6, atol=1e-6)


# ----- against the definitions -----------------------------------------------------------------


@pytest.mark.parametrize(
    "strides, padding, pads, dilation, groups",
    [
        ((1, 1), "valid", ((0, 0), (0, 0)), (1, 1), 1),
        ((2, 1), "same", ((0, 1), (1, 2)), (1, 1), 2),  # TF's 'same': the odd pixel goes after
        ((1, 1), ((2, 0), (1, 3)), ((2, 0), (1, 3)), (2, 1), 1),
    ],
)
def test_conv2d_computes_its_definition(strides, padding, pads, dilation, groups):
    x, bias = rng.standard_normal((2, 6, 5, 4)), rng.standard_normal(6)
    kernel = rng.standard_normal((3, 4, 4 // groups, 6))
    y = ops.conv2d(
        x, kernel, bias, strides=strides, padding=padding, dilation_rate=dilation, groups=groups
    )
    expected = _conv_reference(x, kernel, strides, pads, dilation, groups) + bias
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


def test_conv1d_is_the_two_dimensional_convolution_of_a_one_pixel_high_image():
    x, kernel = rng.standard_normal((2, 9, 3)), rng.standard_normal((4, 3, 5))
    for padding, pads in [("valid", (0, 0)), ("same", (3, 3)), ("causal", (6, 0))]:
        y = ops.conv1d(x, kernel, padding=padding, dilation_rate=2)
        expected = _conv_reference(x[:, None], kernel[None], (1, 1), ((0, 0), pads), (1, 2))
        np.testing.assert_allclose(y, expected[:, 0], rtol=1e-12, atol=1e-12)


def test_causal_conv1d_output_at_t_depends_on_inputs_up_to_t_only():
    x, kernel = rng.standard_normal((1, 8, 2)), rng.standard_normal((3, 2, 1))
    y = ops.conv1d(x, kernel, padding="causal")
    changed = x.copy()
    changed[0, 5] += 1.0
    difference = ops.conv1d(changed, kernel, padding="causal") - y
    assert np.all(difference[0, :5] == 0) and np.all(difference[0, 5:] != 0)
    assert y.shape == (1, 8, 1)


def test_the_input_gradient_is_a_convolution_with_the_flipped_kernel():
    """With stride 1: dL/dx = conv2d(g padded by k - 1, the kernel flipped, channels swapped)."""
    x, kernel = rng.standard_normal((2, 7, 6, 3)), rng.standard_normal((3, 2, 3, 4))
    g = rng.standard_normal((2, 5, 5, 4))
    _, (dx, _) = _gradients(ops.conv2d, x, kernel, upstream=g)
    flipped = kernel[::-1, ::-1].transpose(0, 1, 3, 2)
    full = ops.conv2d(g, flipped, padding=((2, 2), (1, 1)))
    np.testing.assert_allclose(dx, full, rtol=1e-12, atol=1e-12)


def test_the_input_gradient_is_the_adjoint_of_the_definition():
    """<conv(x), g> = <x, dL/dx> for every x: the col2im against the definition, with strides,
    dilation and groups, each image's gradient its own."""
    x, kernel = rng.standard_normal((3, 9, 8, 4)), rng.standard_normal((3, 2, 2, 6))
    params = dict(strides=(2, 3), padding=((1, 2), (0, 1)), dilation_rate=(1, 2), groups=2)
    g = rng.standard_normal(ops.conv2d(x, kernel, **params).shape)
    dx = ops.conv2d_backprop_input(g, kernel, input_shape=x.shape, **params)
    reference = _conv_reference(x, kernel, (2, 3), ((1, 2), (0, 1)), (1, 2), groups=2)
    assert np.isclose((reference * g).sum(), (x * dx).sum(), rtol=1e-12)
    for n in range(3):  # no image's gradient mixes with another's
        alone = ops.conv2d_backprop_input(g[n : n + 1], kernel, input_shape=x[:1].shape, **params)
        np.testing.assert_allclose(dx[n : n + 1], alone, rtol=1e-12, atol=1e-12)


def test_the_kernel_gradient_correlates_the_input_with_the_output_gradient():
    """dL/dk[a, b, c, f] = sum_{n, i, j} x[n, i + a, j + b, c] g[n, i, j, f]."""
    x, kernel = rng.standard_normal((2, 6, 5, 3)), rng.standard_normal((2, 3, 3, 4))
    g = rng.standard_normal((2, 5, 3, 4))
    _, (_, dkernel) = _gradients(ops.conv2d, x, kernel, upstream=g)
    expected = np.einsum("nijc,nijf->cf", x[:, 1:6, 2:5], g)
    np.testing.assert_allclose(dkernel[1, 2], expected, rtol=1e-12)


@pytest.mark.parametrize("fast", [False, True])
def test_a_narrowing_convolution_computed_products_first_keeps_its_definitions(fast):
    """C >= 4 F (a generator's last layer): the output, the input gradient and the kernel
    gradient, made from the products by the kernel's taps instead of im2col and col2im, against
    the definitions; also with the batch cut over threads."""
    own = np.random.default_rng(1)  # the module's stream stays as the other tests drew it
    x, kernel = own.standard_normal((3, 7, 6, 8)), own.standard_normal((3, 2, 8, 2))
    params = dict(padding=((2, 1), (0, 1)), dilation_rate=(2, 1))
    geo = ops.conv.conv_geometry("conv2d", x.shape, kernel.shape, 1, params["padding"], (2, 1), 1)
    assert ops.conv.narrows(8, 2, geo, 1)
    g = own.standard_normal((3, *geo.out, 2))
    with contextlib.ExitStack() as stack:
        if fast:
            stack.enter_context(mock.patch.dict(os.environ, {"CHAINRULE_NUM_THREADS": "2"}))
            stack.enter_context(mock.patch.object(threads, "MIN_WORK", 1))
            stack.enter_context(mock.patch.object(threads, "MIN_ROWS", 1))
            stack.enter_context(threads.using_cores())
            stack.enter_context(kernels.installed())
        y, (dx, dkernel) = _gradients(
            lambda a, k: ops.conv2d(a, k, **params), x, kernel, upstream=g
        )
    reference = _conv_reference(x, kernel, (1, 1), ((2, 1), (0, 1)), (2, 1))
    np.testing.assert_allclose(y, reference, rtol=1e-12, atol=1e-12)
    assert np.isclose((reference * g).sum(), (x * dx).sum(), rtol=1e-12)
    padded = np.pad(x, ((0, 0), (2, 1), (0, 1), (0, 0)))
    ho, wo = geo.out
    for a, b in [(0, 0), (2, 1), (1, 0)]:
        window = padded[:, 2 * a : 2 * a + ho, b : b + wo]
        expected = np.einsum("nijc,nijf->cf", window, g)
        np.testing.assert_allclose(dkernel[a, b], expected, rtol=1e-12, atol=1e-12)


def test_max_pool_routes_each_gradient_to_the_first_maximum_of_its_window():
    x = np.array([[3.0, 3.0, 1.0, 5.0], [3.0, 0.0, 5.0, 5.0]])[None, :, :, None]
    y, (dx,) = _gradients(ops.max_pool2d, x, upstream=np.array([[[[10.0], [20.0]]]]))
    np.testing.assert_array_equal(y[0, :, :, 0], [[3.0, 5.0]])
    np.testing.assert_array_equal(dx[0, :, :, 0], [[10.0, 0.0, 0.0, 20.0], [0.0, 0.0, 0.0, 0.0]])


def test_average_pool_with_same_padding_divides_by_the_real_pixels_only():
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    y = ops.avg_pool2d(x, pool_size=2, strides=2, padding="same")
    np.testing.assert_allclose(
        y[0, :, :, 0], [[(0 + 1 + 3 + 4) / 4, (2 + 5) / 2], [(6 + 7) / 2, 8.0]]
    )
    _, (dx,) = _gradients(
        lambda t: ops.avg_pool2d(t, pool_size=2, padding="same"), x, upstream=np.ones(y.shape)
    )
    np.testing.assert_allclose(
        dx[0, :, :, 0], [[0.25, 0.25, 0.5], [0.25, 0.25, 0.5], [0.5, 0.5, 1.0]]
    )


def test_float32_stays_float32():
    x = cr.Tensor(rng.standard_normal((2, 5, 5, 3)).astype("float32"), requires_grad=True)
    kernel = cr.Tensor(rng.standard_normal((3, 3, 3, 2)).astype("float32"), requires_grad=True)
    y = ops.max_pool2d(ops.conv2d(x, kernel), pool_size=2, padding="same")
    ops.avg_pool2d(y, pool_size=1).sum().backward()
    assert y.dtype == x.grad.dtype == kernel.grad.dtype == np.float32


# ----- second derivatives ------------------------------------------------------------------------


def test_second_derivatives_through_convolution_and_pooling():
    """The VJPs are primitives themselves, so a gradient can be differentiated again: check the
    gradient of ||dL/dx||² (a Hessian-vector product) against finite differences."""

    def gradient_norm(x, kernel):
        y = ops.avg_pool2d(ops.max_pool2d(ops.conv2d(x, kernel, padding="same")), pool_size=1)
        loss = (cr.tanh(y) * 1.5).sum()
        (dx,) = cr.gradients(loss, [x], create_graph=True)
        return (dx * dx).sum()

    x = rng.permutation(2 * 6 * 6 * 2).reshape(2, 6, 6, 2) * 0.03
    assert cr.gradcheck(gradient_norm, x, rng.standard_normal((3, 3, 2, 3)) * 0.3) < 1e-5


# ----- errors ------------------------------------------------------------------------------------


def test_bad_inputs_get_errors_that_name_the_op_the_shapes_and_the_rule():
    image, kernel = np.zeros((2, 5, 5, 3)), np.zeros((3, 3, 3, 4))
    with pytest.raises(
        cr.ShapeError,
        match=r"conv2d: expects an input of shape \(batch, height, "
        r"width, channels\).*got shape \(5, 5, 3\)",
    ):
        ops.conv2d(image[0], kernel)
    with pytest.raises(
        cr.ShapeError,
        match=r"conv2d: the 7x7 window .* does not fit the input "
        r"of shape \(2, 5, 5, 3\).*\(5, 5\) after padding",
    ):
        ops.conv2d(image, np.zeros((7, 7, 3, 4)))
    with pytest.raises(
        cr.ShapeError,
        match=r"\(3 channels\) does not match a kernel of shape "
        r"\(3, 3, 2, 4\)",
    ):
        ops.conv2d(image, np.zeros((3, 3, 2, 4)))
    with pytest.raises(
        ValueError,
        match=r"`strides` must be .* all positive; received "
        r"strides=\(1, -1\)",
    ):
        ops.conv2d(image, kernel, strides=(1, -1))
    with pytest.raises(ValueError, match="`padding` must be one of 'valid', 'same'"):
        ops.max_pool2d(image, padding="full")
    with pytest.raises(cr.ShapeError, match=r"the bias must have shape \(4,\)"):
        ops.conv2d(image, kernel, np.zeros(3))
