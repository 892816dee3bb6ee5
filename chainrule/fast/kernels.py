"""Faster implementations of named primitives, installed only while a training call runs.

Each kernel computes the same math as the primitive of :mod:`chainrule.ops` it stands in for
(the primitive's docstring states it), and differs only in how:

- convolutions and max poolings (and their backward passes) cut their batch over the cores
  (:func:`.threads.over_parts`), each thread computing its own images with the very functions
  the primitive is written with; the same numbers, bit for bit, except a kernel gradient, whose
  parts' sums are added in part order;
- a kernel gradient with one group is ``dot`` of two matrices rather than ``matmul`` of
  stacks of them, which runs two to three times slower while another thread runs a product;
- dense products are cut over the threads once those have replaced the BLAS library's
  (:func:`.threads.matmul`); the same numbers;
- column and row sums of float matrices (a bias's gradient, softmax's normaliser) are products
  with a vector of ones, which BLAS computes about twice as fast as NumPy reduces: equal to
  rounding, not bit for bit;
- ReLU and its gradient run as one compiled loop where Numba is installed (:mod:`.fused`), on
  parts of a large batch at once: the same numbers, bit for bit;
- a convolution's product and its kernel gradient make their im2col matrix a few images at
  a time where chainrule's threads run the products (:func:`convolve_in_chunks`,
  :func:`kernel_gradient`), so that it is read back from the cache: the same numbers, except
  the kernel gradient's sums over the chunks;
- a convolution's input gradient makes G Kᵀ a few images at a time, and, where Numba is
  installed, as one product for all taps added back by a compiled col2im
  (:func:`add_input_gradient`): the same sums in the same order; that of a 3 x 3 convolution
  of stride 1 from 8 input channels is the convolution of g by the flipped kernel that it
  equals (:func:`_input_gradient_as_convolution`): the same numbers to rounding;
- softmax over the rows of a matrix reads each row's maximum at its argmax, which NumPy finds
  several times faster than it reduces a short row with max: the same numbers;
- a recurrence over a sequence (SimpleRNN, LSTM, GRU) and its backpropagation through time
  cut the batch over the cores, each thread running the step loop for its own sequences, and
  the products over all steps over the threads: the same numbers, except the weights'
  gradients where a product is cut along its sum.

:func:`installed` puts them in place (``Primitive.use_kernels``) and takes them out again; the
training runtime enters it, and nothing else does.
"""

import contextlib
import threading

import numpy

from .. import ops
from ..backend import xp_of
from ..engine import PRIMITIVES
from ..ops.conv import add_input_gradient as add_input_gradient_by_taps
from ..ops.conv import (
    by_group,
    columns,
    conv2d_setup,
    conv_geometry,
    convolve,
    kernel_from_groups,
    kernel_gradient_by_columns,
    narrows,
    product_buffer,
)
from ..ops.pooling import max_gradient_buffer, pool_geometry, pool_max, route_max_gradient
from ..ops.recurrent import (
    InOneThread,
    gru_backprop,
    gru_forward,
    lstm_backprop,
    lstm_forward,
    recurrence_vjp,
    simple_rnn_backprop,
    simple_rnn_forward,
)
from ..ops.windows import check_gradient, crop, padded_buffer
from . import fused, threads, winograd

FORWARDS = {}  # primitive name -> its kernel
VJPS = {}  # primitive name -> {argnum: the kernel of that VJP}


def kernel_of(name, argnum=None):
    """Decorator: register the function as the kernel of primitive ``name`` (of its VJP for
    input ``argnum``, if given)."""

    def register(fn):
        if argnum is None:
            FORWARDS[name] = fn
        else:
            VJPS.setdefault(name, {})[argnum] = fn
        return fn

    return register


_lock = threading.Lock()
_users = 0  # training calls inside installed(), over all threads


@contextlib.contextmanager
def installed():
    """Within the block (and while any other thread is in one), the primitives compute with
    these kernels."""
    global _users
    with _lock:
        _users += 1
        if _users == 1:
            for name in FORWARDS.keys() | VJPS.keys():
                PRIMITIVES[name].use_kernels(FORWARDS.get(name), VJPS.get(name))
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                for name in FORWARDS.keys() | VJPS.keys():
                    PRIMITIVES[name].use_kernels()


# ----- sums as products with ones ----------------------------------------------------------------

_ONES = {}  # (length, dtype) -> a read-only ones vector, made once


def _ones(n, dtype):
    ones = _ONES.get((n, dtype))
    if ones is None:
        ones = _ONES[n, dtype] = numpy.ones(n, dtype)
        ones.flags.writeable = False
    return ones


def _float_matrix(a):
    return type(a) is numpy.ndarray and a.ndim == 2 and a.dtype.kind == "f"


def column_sums(a):
    """The sum over the rows of a matrix (axis 0), as ones(rows) @ a, its rows cut over the
    threads. ``dot``, not ``matmul``, which runs this two to three times slower while another
    thread runs a product too."""
    if not _float_matrix(a):
        return a.sum(axis=0)
    ones = _ones(a.shape[0], a.dtype)
    if a.size < threads.MIN_WORK or not threads.splits(a):
        return numpy.dot(ones, a)
    return threads.sum_over_parts(lambda rows: numpy.dot(ones[rows], a[rows]), len(a), a.size)


def row_sums(a):
    """The sum over the last axis of a matrix, kept as size 1, as a @ ones(columns)."""
    return numpy.dot(a, _ones(a.shape[1], a.dtype))[:, None]


_ROWS = {}  # row count -> the row indices 0 .. n - 1, made once


def row_maxima(a):
    """The maximum of each row of a matrix, kept as size 1, read at the argmax (a NaN
    propagates either way: argmax points at it)."""
    rows = _ROWS.get(a.shape[0])
    if rows is None:
        rows = _ROWS[a.shape[0]] = numpy.arange(a.shape[0])
    return a[rows, a.argmax(axis=1)][:, None]


def _rows_of_matrix(a, axis):
    return _float_matrix(a) and axis in (-1, 1) and a.shape[1] > 0


# ----- dense layers ------------------------------------------------------------------------------


@kernel_of("linear")
def linear(x, kernel, bias):
    if x.ndim == 0 or x.shape[-1] != kernel.shape[0]:
        return ops.linear.forward(x, kernel, bias)  # which raises its error
    y = threads.matmul(x, kernel)
    y += bias
    return y


@kernel_of("linear", 0)
def _linear_vjp_x(g, y, x, kernel, bias):
    return threads.matmul(g, kernel.T)


@kernel_of("linear", 1)
def _linear_vjp_kernel(g, y, x, kernel, bias):
    if x.ndim == 2:
        return threads.matmul(x.T, g)
    return ops.linear.vjps[1](g, y, x, kernel, bias)


@kernel_of("linear", 2)
def _linear_vjp_bias(g, y, x, kernel, bias):
    return column_sums(g if g.ndim == 2 else g.reshape(-1, g.shape[-1]))


@kernel_of("einsum")
def einsum(*operands, subscripts):
    """ops.einsum, a product of two operands as its stack of matrices cut over the threads
    (:func:`.threads.stacked_matmul`)."""
    if len(operands) == 2 and threads.splits(*operands):
        terms, output = ops.linalg.einsum_terms(subscripts, [o.shape for o in operands])
        product = ops.linalg.pair_product(*terms, output, *operands, matmul=threads.stacked_matmul)
        if product is not None:
            return product
    return ops.linalg.einsum.forward(*operands, subscripts=subscripts)


# ----- element-wise ops on a batch, its rows cut over the cores ------------------------------------


def _rows_of(a, rows, out):
    """a's ``rows`` where its first axis is ``out``'s (the batch), else a whole (it broadcasts
    along that axis, or is a number)."""
    if type(a) is numpy.ndarray and a.ndim == out.ndim and len(a) == len(out):
        return a[rows]
    return a


def _cut_by_rows(function, out, *arguments):
    """``function(*arguments, out=out)`` for a batch, cut over the threads by the rows of out:
    one pass over memory per argument, which one core runs at a fraction of the machine's
    bandwidth (the add of a bias to 3.2 million float32 numbers: 1.3 ms on one thread, 0.7 ms
    on two)."""
    arrays = [a for a in arguments if type(a) is numpy.ndarray]

    def part(rows):
        function(*(_rows_of(a, rows, out) for a in arguments), out=out[rows])

    threads.over_parts(part, len(out), _work(*arrays, passes=out.size * (len(arrays) + 1)))
    return out


#: Elements from which an element-wise op on a batch is cut over the threads: a megabyte of
#: float32, about a tenth of a millisecond of one core's memory passes, several times what
#: handing a part to another thread costs. Smaller arrays take one NumPy call, as in the
#: primitive (a small model's step counts its Python calls: tests/keras/test_step_overhead.py).
CUT_FROM = 1 << 18


def _small(a, b):
    """True unless a and b are NumPy arrays with a first axis (the batch's), one of them of
    CUT_FROM elements at least."""
    if type(a) is not numpy.ndarray or type(b) is not numpy.ndarray or not (a.ndim and b.ndim):
        return True
    return max(a.size, b.size) < CUT_FROM


@kernel_of("add")
def add(a, b):
    if _small(a, b):
        return a + b
    shape = numpy.broadcast_shapes(a.shape, b.shape)
    return _cut_by_rows(numpy.add, numpy.empty(shape, numpy.result_type(a, b)), a, b)


def _flat(kernel):
    """A fused kernel of flat arrays (:mod:`.fused`) called as a NumPy function: arrays of any
    shape, C-contiguous, with ``out=``."""

    def function(*arrays, out):
        kernel(*(a.reshape(-1) for a in arrays), out.reshape(-1))

    return function


def _one_pass(function, out, *arguments):
    """``function(*arguments, out=out)``, cut over the threads by rows for a large batch."""
    if out.size < CUT_FROM or not out.ndim:
        function(*arguments, out=out)
        return out
    return _cut_by_rows(function, out, *arguments)


@kernel_of("relu")
def relu(a):
    """max(a, 0): the fused kernel where Numba is installed (:mod:`.fused`), else NumPy's."""
    if type(a) is not numpy.ndarray:
        return ops.relu.forward(a)
    if a.size < fused.FUSED_FROM:  # one call, as in the primitive (a small model's step)
        return numpy.maximum(a, 0)
    kernel = fused.for_arrays("relu", a)
    if kernel is None:
        return _one_pass(numpy.maximum, numpy.empty_like(a), a, 0)
    return _one_pass(_flat(kernel), numpy.empty_like(a), a)


def _masked(g, a, out):
    numpy.multiply(g, a > 0, out=out)


@kernel_of("relu", 0)
def _relu_vjp(g, y, a):
    """g [a > 0]: the fused kernel where Numba is installed, else NumPy's product by a mask."""
    if type(g) is not numpy.ndarray or type(a) is not numpy.ndarray or g.shape != a.shape:
        return ops.relu.vjps[0](g, y, a)
    if g.size < fused.FUSED_FROM:
        return g * (a > 0)
    kernel = fused.for_arrays("relu_vjp", g, a)
    function = _masked if kernel is None else _flat(kernel)
    return _one_pass(function, numpy.empty_like(g), g, a)


# ----- activations -------------------------------------------------------------------------------


@kernel_of("leaky_relu", 0)
def _leaky_relu_vjp(g, y, a, alpha=0.2):
    """g where a > 0, else alpha g, as g times a slope made by arithmetic: NumPy's ``where`` on
    floats took 34 ms for 6.4 million float32 numbers (a DCGAN layer's), this 7 ms. The slope
    (1 - alpha) [a > 0] + alpha is 1 or alpha to rounding."""
    if type(g) is not numpy.ndarray or type(a) is not numpy.ndarray:
        return ops.leaky_relu.vjps[0](g, y, a, alpha)
    slope = numpy.multiply(a > 0, 1 - alpha, dtype=g.dtype)
    slope += alpha
    slope *= g
    return slope


# ----- softmax and its cross-entropy -------------------------------------------------------------

#: A softmax over the rows of a matrix of at most this many numbers, and its cross-entropy and
#: their gradient, run as one compiled pass over each row (:func:`.fused.softmax_row`) where Numba
#: is installed: a dozen short NumPy operations cost more than the arithmetic there. Measured
#: (2-core AMD EPYC; µs, the softmax, the loss and its gradient in one call against NumPy's
#: three ops): (32, 10) 6.9 against 17.5; (128, 10) 11.1 / 22.9; (32, 100) 26 / 30; (1024, 10)
#: 66 / 78; but (128, 100) 95 / 72 and (128, 300) 267 / 119: the loop's exponential is not
#: vectorised, NumPy's is.
ROWS_LOOP_UNTIL = 4096


def _rows_loop(name, logits, *arrays):
    """Compiled kernel ``name`` of :mod:`.fused` for a softmax over the rows of ``logits``: a
    non-empty float matrix of at most :data:`ROWS_LOOP_UNTIL` numbers, C-contiguous, as are
    ``arrays``, of its dtype; else None."""
    if type(logits) is not numpy.ndarray or logits.ndim != 2:
        return None
    if not 0 < logits.size <= ROWS_LOOP_UNTIL:
        return None
    return fused.for_arrays(name, logits, *arrays, smallest=0)


def _dense_loop(logits, labels, axis=-1):
    if axis not in (-1, 1) or type(labels) is not numpy.ndarray:
        return None
    if labels.shape != getattr(logits, "shape", None):
        return None
    return _rows_loop("softmax_cross_entropy", logits, labels)


def _sparse_loop(logits, labels):
    if type(labels) is not numpy.ndarray or labels.dtype.kind not in "iu":
        return None
    if labels.shape != getattr(logits, "shape", (0,))[:1] or not labels.flags.c_contiguous:
        return None
    return _rows_loop("sparse_softmax_cross_entropy", logits)


@kernel_of("softmax")
def softmax(a, axis=-1):
    """softmax over the rows of a matrix: one compiled pass per row for a small one, else
    NumPy's (the row maxima, exp, the row sums as a product)."""
    if not _rows_of_matrix(a, axis):
        return ops.softmax.forward(a, axis=axis)
    loop = _rows_loop("softmax_rows", a)
    if loop is not None:
        p = numpy.empty_like(a)
        loop(a, p)
        return p
    e = a - row_maxima(a)
    numpy.exp(e, out=e)
    e /= row_sums(e)
    return e


@kernel_of("mean_softmax_cross_entropy")
def mean_softmax_cross_entropy(logits, labels, probabilities=None, axis=-1):
    """The primitive, from the logits in one compiled pass per row for a small matrix."""
    loop = _dense_loop(logits, labels, axis)
    if loop is None:
        return ops.mean_softmax_cross_entropy.forward(logits, labels, probabilities, axis=axis)
    scalar = logits.dtype.type
    total = loop(logits, labels, numpy.empty_like(logits), numpy.empty_like(logits), scalar(1))
    return scalar(total / len(logits))


@kernel_of("mean_softmax_cross_entropy", 0)
def _mean_softmax_cross_entropy_vjp_logits(g, y, logits, labels, probabilities=None, axis=-1):
    if not _rows_of_matrix(labels, axis) or type(g) is not numpy.ndarray:
        return ops.mean_softmax_cross_entropy.vjps[0](g, y, logits, labels, probabilities, axis)
    loop = _dense_loop(logits, labels, axis)
    if loop is not None:  # (the probabilities computed again, as the softmax kernel made them)
        grad = numpy.empty_like(logits)
        loop(logits, labels, numpy.empty_like(logits), grad, _per_sample(g, logits))
        return grad
    if probabilities is None:
        probabilities = softmax(logits, axis=axis)
    grad = probabilities * row_sums(labels)
    grad -= labels
    grad *= float(g) / len(logits)
    return grad


def _per_sample(g, logits):
    """g / n for the mean over the n rows, in the logits' dtype."""
    return logits.dtype.type(float(g) / len(logits))


@kernel_of("sparse_softmax_cross_entropy")
def sparse_softmax_cross_entropy(logits, labels):
    """The primitive, in one compiled pass per row for a small matrix."""
    loop = _sparse_loop(logits, labels)
    if loop is not None:
        losses = numpy.empty(len(logits), logits.dtype)
        g = numpy.zeros_like(losses)  # (the pass writes a gradient too: of nothing, here)
        if loop(logits, labels, numpy.empty_like(logits), losses, g, numpy.empty_like(logits)):
            return losses
    # a label out of range, too: the primitive says so
    return ops.sparse_softmax_cross_entropy.forward(logits, labels)


@kernel_of("sparse_softmax_cross_entropy", 0)
def _sparse_softmax_cross_entropy_vjp(g, y, logits, labels):
    loop = _sparse_loop(logits, labels)
    if loop is not None and type(g) is numpy.ndarray and g.shape == labels.shape:
        if g.dtype == logits.dtype and g.flags.c_contiguous:
            grad = numpy.empty_like(logits)
            losses = numpy.empty(len(logits), logits.dtype)
            if loop(logits, labels, numpy.empty_like(logits), losses, g, grad):
                return grad
    return ops.sparse_softmax_cross_entropy.vjps[0](g, y, logits, labels)


def softmax_cross_entropy_with_gradient(logits, labels):
    """softmax(z), the mean cross-entropy of ``labels`` (N, C) against it, and that loss's
    gradient with respect to the logits z (N, C), for an incoming gradient of 1 (the loss's own):

        p = softmax(z),   L = (1/n) sum_rows (logsumexp(z) sum_i t_i - sum_i t_i z_i),
        dL/dz = (p sum_i t_i - t) / n

    in one compiled pass per row (:func:`.fused.softmax_cross_entropy`) for a small matrix,
    else by the kernels above: the same numbers, bit for bit, as the softmax kernel, the
    primitive's and its VJP's, which run the same pass per row for such a matrix. A plan
    computes a model's loss this way (``plan._fuse_softmax_cross_entropy``).
    """
    loop = _dense_loop(logits, labels)
    if loop is None:
        probabilities = softmax(logits)
        loss = mean_softmax_cross_entropy(logits, labels, probabilities)
        seed = numpy.ones_like(loss)
        gradient = _mean_softmax_cross_entropy_vjp_logits(seed, loss, logits, labels, probabilities)
        return probabilities, loss, gradient
    probabilities, gradient = numpy.empty_like(logits), numpy.empty_like(logits)
    total = loop(logits, labels, probabilities, gradient, _per_sample(1.0, logits))
    return probabilities, logits.dtype.type(total / len(logits)), gradient


def sparse_softmax_cross_entropy_with_gradient(logits, labels):
    """:func:`softmax_cross_entropy_with_gradient` for labels given as class indices (N,), for
    the loss as the model computes it, the mean of the per-row cross-entropies:

        L = mean(sparse_softmax_cross_entropy(z, t)),   dL/dz = (p - onehot(t)) / n

    in one compiled pass per row (:func:`.fused.sparse_softmax_cross_entropy`) and the mean,
    else by the kernels and the primitives (which say what is wrong with a label out of range):
    the same numbers, bit for bit, either way.
    """
    loop = _sparse_loop(logits, labels)
    if loop is not None:
        dtype = logits.dtype
        g = numpy.full(len(logits), numpy.ones((), dtype) / len(logits))  # the mean's VJP at 1
        probabilities, gradient = numpy.empty_like(logits), numpy.empty_like(logits)
        losses = numpy.empty(len(logits), dtype)
        if loop(logits, labels, probabilities, losses, g, gradient):
            return probabilities, ops.mean.kernel(losses), gradient
    losses = sparse_softmax_cross_entropy(logits, labels)
    loss = ops.mean.kernel(losses)
    g = ops.mean.vjp_kernels[0](numpy.ones_like(loss), loss, losses)
    gradient = _sparse_softmax_cross_entropy_vjp(g, losses, logits, labels)
    return softmax(logits), loss, gradient


# ----- convolutions and poolings, their batch cut over the cores ---------------------------------


#: Elements of the im2col matrix that a convolution or its kernel gradient makes for one chunk
#: of images: two megabytes in float32, which the caches keep while the product reads them...
PRODUCT_CHUNK = 1 << 19
#: ...unless that leaves fewer output pixels than this per product, which the BLAS runs slower.
#: The MNIST convnet's second layer (13 x 13 x 32 to 64 channels, in its pooling's layout),
#: 128 images over two cores (benchmarks/conv_chunks.py): the forward 0.81 to 0.92 times its
#: time in one piece (chunks of 18 images), its three gradients (the routed gradient in chunks
#: too, see ``tiled.tiled_conv_gradients``) 0.83 to 0.93; on one core, 64 images, 4.08 against
#: 5.22 ms forward and 4.19 against 5.22 ms for the kernel gradient. Chunks of 4 images were
#: slower again, and budgets of 1 << 18 and 1 << 20 no faster.
PRODUCT_ROWS = 1024


def image_chunks(count, pixels, per_pixel, budget, min_pixels):
    """Slices of ``count`` images, each chunk as many images as make at most ``budget``
    elements at ``pixels`` pixels per image and ``per_pixel`` elements per pixel, but at least
    ``min_pixels`` pixels (and one image); one empty slice for no images."""
    chunk = max(1, budget // max(1, pixels * per_pixel), -(-min_pixels // max(1, pixels)))
    return [slice(start, start + chunk) for start in range(0, max(count, 1), chunk)]


def product_chunks(count, pixels, per_pixel):
    """:func:`image_chunks` of :data:`PRODUCT_CHUNK` elements (``per_pixel`` per pixel) where the
    BLAS library runs each product in the calling thread alone (chainrule's threads cut the
    batch, or the step runs on one core: :func:`.threads.blas_in_calling_thread`); else one
    chunk. On the BLAS library's own threads (128 images in one part), the chunks took 0.87 to
    0.95 times the second layer's time in some runs and 1.2 to 2 times every op's in others."""
    if not threads.blas_in_calling_thread():
        return [slice(0, max(count, 1))]
    return image_chunks(count, pixels, per_pixel, PRODUCT_CHUNK, PRODUCT_ROWS)


def matrix_chunks(count, pixels, per_pixel, filters):
    """:func:`product_chunks` of an im2col matrix of ``per_pixel`` numbers per pixel, multiplied
    with ``filters`` numbers per pixel on the other side: one chunk where the matrix is the
    narrower (a first layer's, 9 numbers per pixel against 32 filters), whose product's time
    goes to its output."""
    if per_pixel < filters:
        return [slice(0, max(count, 1))]
    return product_chunks(count, pixels, per_pixel)


def convolve_in_chunks(x, weights, bias, out, geo, groups, pixel_order=None):
    """ops.conv.convolve of some images, a chunk of images at a time (:data:`PRODUCT_CHUNK`):
    each output pixel is the same product of its window, so the numbers are the same, bit for
    bit. A convolution that :func:`narrows` makes no im2col matrix and runs whole."""
    (kh, kw), filters = geo.window, out.shape[-1]
    if pixel_order is None and narrows(x.shape[3], filters, geo, groups):
        convolve(x, weights, bias, out, geo, groups)
        return
    pixels = out[0].size // filters if len(out) else 1
    for some in matrix_chunks(len(x), pixels, kh * kw * x.shape[3], filters):
        convolve(x[some], weights, bias, out[some], geo, groups, pixel_order)


def kernel_gradient(x, g, geo, groups, pixel_order=None):
    """ops.conv.kernel_gradient, Xᵀ G over some images, with the rows of X (and of G) in
    ``pixel_order`` (see ``ops.conv.columns``), summed over chunks of images
    (:data:`PRODUCT_CHUNK`) in order. With one group each product is ``dot`` of the two
    matrices: NumPy's ``matmul`` runs such a product, which sums over a long axis into a small
    result, two to three times slower while another thread runs one too; ``dot`` does not.
    """
    if pixel_order is None and narrows(x.shape[3], g.shape[3], geo, groups):
        return kernel_gradient_by_columns(x, g, geo)
    filters = g.shape[-1]
    pixels = g[0].size // filters if len(g) else 1
    per_pixel = geo.window[0] * geo.window[1] * x.shape[3]
    total = None
    for some in matrix_chunks(len(x), pixels, per_pixel, filters):
        a, b = columns(x[some], geo, groups, pixel_order).mT, by_group(g[some], groups)
        total = add_into(total, a @ b if a.shape[0] != 1 else xp_of(a, b).dot(a[0], b[0])[None])
    return total


def add_into(total, part):
    """total + part, added into ``total``; ``part`` itself while ``total`` is None (the first
    of a sum), so None while neither is given."""
    if total is None:
        return part
    total += part
    return total


def _work(*arrays, passes):
    """The work of a memory-bound op in threads.work_units's unit, 0 where it cannot be cut."""
    return passes if threads.splits(*arrays) else 0


@kernel_of("conv2d")
def conv2d(x, kernel, bias=None, *, strides=1, padding="valid", dilation_rate=1, groups=1):
    geo, weights = conv2d_setup("conv2d", x, kernel, bias, strides, padding, dilation_rate, groups)
    filters = kernel.shape[3]
    y = product_buffer(x, kernel, (x.shape[0], *geo.out, filters))
    transformed = None
    if winograd.suits(x, kernel.shape, geo, groups, kernel.dtype):
        transformed = winograd.transformed_kernel(kernel)

    def images(rows):
        if transformed is not None:
            winograd.convolve(x[rows], transformed, bias, y[rows], geo)
            return
        convolve_in_chunks(x[rows], weights, bias, y[rows], geo, groups)

    # the products run on every core either way (split here, or by the BLAS library's threads):
    # what cutting gains is the memory passes, the im2col matrix's and the output's
    im2col = y.size // filters * kernel.shape[0] * kernel.shape[1] * x.shape[3]
    threads.over_parts(images, x.shape[0], _work(x, passes=im2col + y.size))
    return y


@kernel_of("conv2d", 2)
def _conv2d_vjp_bias(g, y, x, kernel, bias=None, **params):
    return column_sums(g.reshape(-1, g.shape[-1]))


#: Elements of G Kᵀ that the input gradient's col2im makes for a chunk of images, over all
#: its taps: a megabyte in float32, which one core's cache holds...
COL2IM_CHUNK = 1 << 18
#: ...unless that leaves fewer pixels than this per product, which the BLAS runs slower than
#: the cache gains. On one core, the input gradients of keras-io's VAE and WGAN-GP convolutions
#: and of the MNIST convnet's second (8 shapes): 107 ms in all without chunks, 131 ms in chunks
#: of 256 K elements alone (twice as slow on a 2 x 2 x 512 layer), 101 ms with this floor; the
#: VAE's 14 x 14 x 64 to 28 x 28 x 32 layer 20.5 ms before, 17.0 ms after.
COL2IM_ROWS = 2048
#: The input channels for which an input gradient's col2im is one product and a compiled loop
#: (see :func:`add_input_gradient`, which gives the measurements): from 2 to 64.
COMPILED_COL2IM_CHANNELS = (2, 64)


def add_input_gradient(g, kernel, grad, geo, groups):
    """ops.conv.add_input_gradient for some images, a few at a time (so that G Kᵀ stays in the
    cache while col2im adds it). With one group and Numba installed, each chunk's G Kᵀ is one
    product for all taps, which col2im adds by a compiled loop (:func:`.fused.col2im_add`): the
    per-tap products of the primitive have as few columns as the input has channels, which the
    BLAS runs slower, and each tap's addition is a strided NumPy pass. The pixels' sums are made
    in the same order, tap by tap. One core, 64 images: the MNIST convnet's second layer
    (11 x 11 x 64 to 13 x 13 x 32) 4.3 ms per tap, 3.7 ms this way; keras-io's VAE's transposed
    convolutions (7 x 7 x 64 to 14 x 14 x 64, 14 x 14 x 64 to 28 x 28 x 32) 4.4 and 10.1 ms,
    3.8 and 7.9 ms; from 2 to 16 input channels, 28 x 28 x 32 outputs, 1.6 to 1.8 times faster.
    Outside :data:`COMPILED_COL2IM_CHANNELS` the taps are kept: with one input channel the
    compiled loop adds one number at a time (the VAE's last layer, 28 x 28 x 32 to 1 channel:
    1.4 ms per tap, 1.6 ms), and with 128 each tap's product is wide enough for the BLAS (the
    DCGAN generator's 4 x 4 transposed convolutions, 32 images, 7 x 7 x 128 to 14 x 14 x 128 and
    on to 28 x 28 x 128: 10.3 and 45.1 ms per tap, 11.1 and 48.3 ms in one product)."""
    kh, kw, cg, filters = kernel.shape
    pixels = g[0].size // filters if len(g) else 1
    chunk = max(1, COL2IM_CHUNK // max(1, pixels * kh * kw * cg * groups))
    chunk = max(chunk, -(-COL2IM_ROWS // max(1, pixels)))
    scatter = None
    low, high = COMPILED_COL2IM_CHANNELS
    if groups == 1 and low <= cg <= high and not narrows(cg, filters, geo, groups):
        scatter = fused.for_arrays("col2im_add", g, kernel, grad)
    for start in range(0, len(g), chunk):
        some = slice(start, start + chunk)
        if scatter is None:
            add_input_gradient_by_taps(g[some], kernel, grad[some], geo, groups)
            continue
        part = g[some]
        products = part.reshape(-1, filters) @ kernel.reshape(-1, filters).T
        (sh, sw), (dh, dw) = geo.strides, geo.dilation
        scatter(products.reshape(*part.shape[:3], kh, kw, cg), grad[some], sh, sw, dh, dw)


#: The input channels from which a 3 x 3 convolution's input gradient is computed as a
#: convolution of g (:func:`_input_gradient_as_convolution`, which gives the measurements).
CONVOLVED_GRADIENT_CHANNELS = 8


def _input_gradient_as_convolution(g, kernel, geo, input_shape):
    """The input gradient of a 3 x 3 convolution of stride 1 that reads at least
    :data:`CONVOLVED_GRADIENT_CHANNELS` channels, as the convolution it equals: g convolved
    with the kernel flipped in space, its channel axes swapped, g padded so that the output is
    x's pixels (by kh - 1 - pt above, kh - 1 - pb below, and so across; a padding wider than
    the window is cropped from the result instead), by :func:`conv2d` (Winograd's algorithm,
    or an im2col matrix of g's F channels per tap).

    On 2 cores, one process alternating the two, best of 3 medians, ms, against col2im or
    Winograd's own input gradient: 128 images of 28 x 28, 32 channels to 1 (keras-io's
    autoencoder's last layer) 19.7 and 1.9; to 8, 11.5 and 6.7; to 32, 16.2 and 9.7; 16 to
    32, 8.7 and 7.5; 8 to 32, 6.0 and 5.4; 14 x 14, 64 to 64, 10.3 and 6.2; 64 images, 128 to
    64, 12.7 and 6.9; 32 to 128, 5.7 and 3.8; 13 x 13, 32 to 64 (the MNIST convnet's), 4.6 and
    3.8. From fewer channels the other forms were faster: 4 to 32, 3.5 and 5.9; 2 to 16, 1.9
    and 3.7."""
    (kh, kw), (pt, pb), (pl, pr) = geo.window, *geo.pads
    pads = tuple(
        (max(0, k - 1 - a), max(0, k - 1 - b)) for k, (a, b) in ((kh, (pt, pb)), (kw, (pl, pr)))
    )
    flipped = numpy.ascontiguousarray(kernel[::-1, ::-1].transpose(0, 1, 3, 2))
    full = conv2d(g, flipped, strides=1, padding=pads)
    if full.shape == tuple(input_shape):
        return full
    # padded by more than the window: the rows and columns past its reach have no gradient
    top, left = max(0, pt - kh + 1), max(0, pl - kw + 1)
    return numpy.ascontiguousarray(
        full[:, top : top + input_shape[1], left : left + input_shape[2]]
    )


@kernel_of("conv2d_backprop_input")
def conv2d_backprop_input(
    g, kernel, *, input_shape, strides=1, padding="valid", dilation_rate=1, groups=1
):
    op = "conv2d_backprop_input"
    geo = conv_geometry(op, input_shape, kernel.shape, strides, padding, dilation_rate, groups)
    check_gradient(op, g, input_shape, (input_shape[0], *geo.out, kernel.shape[3]))
    xp_mod = xp_of(g, kernel)
    kh, kw, cg, filters = kernel.shape
    three_by_three = geo.window == (3, 3) and geo.strides == (1, 1) and geo.dilation == (1, 1)
    if three_by_three and groups == 1 and cg >= CONVOLVED_GRADIENT_CHANNELS and xp_mod is numpy:
        return _input_gradient_as_convolution(g, kernel, geo, input_shape)
    col2im = g.size // filters * cg * groups * kh * kw
    grad = padded_buffer(xp_mod, input_shape, geo.pads, xp_mod.result_type(g, kernel))

    def images(rows):
        add_input_gradient(g[rows], kernel, grad[rows], geo, groups)

    threads.over_parts(images, input_shape[0], _work(g, passes=col2im + grad.size))
    return crop(grad, geo.pads, input_shape)


@kernel_of("conv2d_backprop_kernel")
def conv2d_backprop_kernel(
    x, g, *, kernel_shape, strides=1, padding="valid", dilation_rate=1, groups=1
):
    op = "conv2d_backprop_kernel"
    geo = conv_geometry(op, x.shape, kernel_shape, strides, padding, dilation_rate, groups)
    check_gradient(op, g, x.shape, (x.shape[0], *geo.out, kernel_shape[3]))

    by_winograd = winograd.suits_gradients(x, kernel_shape, geo, groups, g.dtype)

    def images(rows):
        if by_winograd:
            return winograd.kernel_gradient(x[rows], g[rows], geo)
        return kernel_gradient(x[rows], g[rows], geo, groups)

    kh, kw, cg, filters = kernel_shape
    im2col = g.size // filters * kh * kw * cg * groups
    grad = threads.sum_over_parts(images, x.shape[0], _work(x, g, passes=im2col + g.size))
    return kernel_from_groups(grad, kernel_shape)


@kernel_of("max_pool2d")
def max_pool2d(x, *, pool_size=2, strides=None, padding="valid"):
    geo = pool_geometry("max_pool2d", x.shape, pool_size, strides, padding)
    y = xp_of(x).empty((x.shape[0], *geo.out, x.shape[3]), dtype=x.dtype)

    def images(rows):
        pool_max(x[rows], y[rows], geo)

    threads.over_parts(images, x.shape[0], _work(x, passes=x.size))
    return y


@kernel_of("max_pool2d_backprop")
def max_pool2d_backprop(x, y, g, *, pool_size=2, strides=None, padding="valid"):
    geo = pool_geometry("max_pool2d_backprop", x.shape, pool_size, strides, padding)
    check_gradient("max_pool2d_backprop", g, x.shape, (x.shape[0], *geo.out, x.shape[3]))
    grad = max_gradient_buffer(x, g, geo)

    def images(rows):
        route_max_gradient(x[rows], y[rows], g[rows], grad[rows], geo)

    threads.over_parts(images, x.shape[0], _work(x, g, passes=x.size))
    return crop(grad, geo.pads, x.shape)


# ----- recurrences -------------------------------------------------------------------------------


class _OverThreads(InOneThread):
    """The rows of a recurrence cut over the threads (the sequences of a batch never meet), and
    its products over all steps too."""

    over_rows = staticmethod(threads.over_parts)
    matmul = staticmethod(threads.matmul)
    column_sums = staticmethod(column_sums)


def _runner(*arrays):
    return _OverThreads if threads.splits(*arrays) else InOneThread


@kernel_of("simple_rnn_sequence")
def simple_rnn_sequence(x, kernel, recurrent_kernel, bias, h0, mask=None, *, go_backwards=False):
    runner = _runner(x, h0)
    return simple_rnn_forward(x, kernel, recurrent_kernel, bias, h0, mask, go_backwards, runner)


@kernel_of("lstm_sequence")
def lstm_sequence(x, kernel, recurrent_kernel, bias, h0, c0, mask=None, *, go_backwards=False):
    runner = _runner(x, h0, c0)
    return lstm_forward(x, kernel, recurrent_kernel, bias, h0, c0, mask, go_backwards, runner)


@kernel_of("gru_sequence")
def gru_sequence(
    x, kernel, recurrent_kernel, bias, h0, mask=None, *, reset_after=True, go_backwards=False
):
    runner = _runner(x, h0)
    return gru_forward(
        x, kernel, recurrent_kernel, bias, h0, mask, reset_after, go_backwards, runner
    )


for _name, _backprop, _inputs in (
    ("simple_rnn_sequence", simple_rnn_backprop, 5),
    ("lstm_sequence", lstm_backprop, 6),
    ("gru_sequence", gru_backprop, 5),
):
    for _argnum in range(_inputs):
        kernel_of(_name, _argnum)(
            recurrence_vjp(PRIMITIVES[_name], _backprop, _argnum, runner=_OverThreads)
        )
