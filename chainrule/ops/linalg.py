"""Matrix products."""

import math

from ..backend import xp_of
from ..engine import ShapeError, Tensor, primitive


@primitive
def matmul(a, b):
    """y = a @ b for matrices (n, k) @ (k, m) -> (n, m), batched over leading axes, or with a
    vector on either side (NumPy's rules).

    dL/da = g @ bᵀ,   dL/db = aᵀ @ g   (summed over broadcast batch axes by the engine).
    """
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(
            f"matmul: needs arrays of at least one dimension; got shapes {a.shape} and {b.shape}. "
            f"Use * to multiply by a scalar."
        )
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if a.shape[-1] != inner_b:
        raise ShapeError(
            f"matmul: inner dimensions differ: {a.shape} @ {b.shape} "
            f"(the last axis of the left, {a.shape[-1]}, must equal the "
            f"{'second-to-last' if b.ndim > 1 else 'only'} axis of the right, {inner_b})"
        )
    return a @ b


def _as_matrices(g, a, b):
    """Views of g, a, b with vectors promoted to matrices, as matmul treats them."""
    if a.ndim == 1:
        a = a.reshape((1,) + a.shape)
        g = g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
    if b.ndim == 1:
        b = b.reshape(b.shape + (1,))
        g = g.reshape(g.shape + (1,))
    return g, a, b


@matmul.defvjp(0)
def _matmul_vjp_a(g, y, a, b):
    g, a2, b2 = _as_matrices(g, a, b)
    grad = g @ b2.mT
    return grad.reshape(grad.shape[:-2] + grad.shape[-1:]) if a.ndim == 1 else grad


@matmul.defvjp(1)
def _matmul_vjp_b(g, y, a, b):
    g, a2, b2 = _as_matrices(g, a, b)
    grad = a2.mT @ g
    return grad.reshape(grad.shape[:-1]) if b.ndim == 1 else grad


@primitive
def linear(x, kernel, bias):
    """y = x @ W + b, the affine map of a dense layer, in one step.

    Shapes: x (..., in), W (in, out), b (out,), y (..., out).
    dL/dx = g Wᵀ,   dL/dW = xᵀ g (summed over all leading axes),   dL/db = sum of g over them.
    """
    if x.ndim == 0 or x.shape[-1] != kernel.shape[0]:
        raise ShapeError(
            f"linear: the inputs' last axis must match the kernel's first: x {x.shape}, "
            f"kernel {kernel.shape}"
        )
    y = x @ kernel
    y += bias
    return y


@linear.defvjp(0)
def _linear_vjp_x(g, y, x, kernel, bias):
    return g @ kernel.mT


@linear.defvjp(1)
def _linear_vjp_kernel(g, y, x, kernel, bias):
    return x.reshape((-1, x.shape[-1])).mT @ g.reshape((-1, g.shape[-1]))


@linear.defvjp(2)
def _linear_vjp_bias(g, y, x, kernel, bias):
    return g.reshape((-1, g.shape[-1])).sum(axis=0)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def einsum_terms(subscripts, shapes):
    """The subscripts of each operand and of the output, with '...' written out as letters and
    an implicit output (no '->') made explicit, as NumPy's einsum reads them."""
    spec = subscripts.replace(" ", "")
    inputs, arrow, output = spec.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ShapeError(
            f"einsum: the subscripts {subscripts!r} name {len(terms)} operands but "
            f"{len(shapes)} were given"
        )
    free = [c for c in _LETTERS if c not in spec]
    widest = max((len(s) - len(t.replace("...", "")) for t, s in zip(terms, shapes)), default=0)
    ellipsis = "".join(free[:widest])
    explicit = []
    for term, shape in zip(terms, shapes):
        n = len(shape) - len(term.replace("...", ""))
        term = term.replace("...", ellipsis[widest - n :] if n else "")
        if len(term) != len(shape):
            raise ShapeError(
                f"einsum: the subscripts {term!r} do not match an operand of shape {shape}"
            )
        explicit.append(term)
    if arrow:
        output = output.replace("...", ellipsis)
    else:
        letters = "".join(explicit)
        output = ellipsis + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ellipsis)
        )
    return explicit, output


@primitive
def einsum(*operands, subscripts):
    """y = the Einstein sum of the operands: every letter of ``subscripts`` is an axis, letters
    shared by operands are multiplied elementwise and letters absent from the output are summed.
    E.g. "ij,jk->ik" is a matrix product, "ii->" a trace, "bi,bi->b" a batch of dot products.

    dL/d(operand i) = the Einstein sum of g (output letters) with the other operands into
    operand i's letters; a letter repeated in operand i is placed on its diagonal (by an
    identity factor), and a letter found nowhere else is spread by a factor of ones.
    """
    terms, output = einsum_terms(subscripts, [o.shape for o in operands])
    if len(operands) == 2:
        product = pair_product(*terms, output, *operands)
        if product is not None:
            return product
    return xp_of(*operands).einsum(",".join(terms) + "->" + output, *operands)


def pair_product(term_a, term_b, output, a, b, matmul=None):
    """The einsum of two operands as one batched matrix product (the BLAS, where NumPy's
    einsum loops in C): letters of both operands and the output are batch axes, letters of both
    but not the output are summed by the product, the others are a's or b's own rows and
    columns; a letter in one operand only and not in the output is summed first.

    The batch axes stay axes of their own, so that an operand whose batch letters are not
    adjacent in memory (attention's (batch, time, heads, features) tensors, batched over batch
    and heads) is read in place, each of its matrices strided, rather than copied into a stack.
    Where a and b each bring at most one letter of their own, the product is written straight
    into the output's layout (a strided ``out``), which a transposed product would otherwise
    leave for the next op to read across.

    ``matmul(left, right, out=None)`` computes the product (default: the array library's; the
    speed package passes one that cuts the stack of matrices over its threads).

    None where that does not apply: a letter repeated in one term (a diagonal), or sizes that
    differ for one letter (broadcasting).
    """
    if any(len(set(term)) < len(term) for term in (term_a, term_b, output)):
        return None
    a, term_a = _sum_unshared(a, term_a, term_b + output)
    b, term_b = _sum_unshared(b, term_b, term_a + output)
    sizes = dict(zip(term_a, a.shape))
    if any(sizes.setdefault(c, n) != n for c, n in zip(term_b, b.shape)):
        return None
    batch = [c for c in output if c in term_a and c in term_b]
    rows = [c for c in output if c in term_a and c not in term_b]
    columns = [c for c in output if c in term_b and c not in term_a]
    summed = [c for c in term_a if c in term_b and c not in output]

    def grouped(array, term, first, second):
        order = [term.index(c) for c in batch + first + second]
        shape = [sizes[c] for c in batch]
        shape += [math.prod(sizes[c] for c in first), math.prod(sizes[c] for c in second)]
        return array.transpose(order).reshape(shape)

    left, right = grouped(a, term_a, rows, summed), grouped(b, term_b, summed, columns)
    laid_out = batch + rows + columns
    xp = xp_of(a, b)
    matmul = matmul or xp.matmul
    if len(rows) > 1 or len(columns) > 1:  # the product's rows or columns span several axes
        product = matmul(left, right).reshape([sizes[c] for c in laid_out])
        return product.transpose([laid_out.index(c) for c in output])
    result = xp.empty([sizes[c] for c in output], dtype=xp.result_type(a, b))
    view = result.transpose([output.index(c) for c in laid_out])  # with axes of 1 put in:
    matmul(left, right, out=view.reshape(left.shape[:-1] + right.shape[-1:]))  # still a view
    return result


def _sum_unshared(array, term, others):
    """``array`` summed over the letters of ``term`` found nowhere in ``others``, and its term."""
    alone = tuple(k for k, c in enumerate(term) if c not in others)
    if not alone:
        return array, term
    return array.sum(axis=alone), "".join(c for c in term if c in others)


@einsum.defvjp_variadic
def _einsum_vjp(i, g, y, *operands, subscripts):
    terms, output = einsum_terms(subscripts, [o.shape for o in operands])
    target = terms[i]
    sizes = {c: n for term, o in zip(terms, operands) for c, n in zip(term, o.shape)}
    # broadcast axes: a letter of size 1 in operand i but larger elsewhere is summed by the engine
    present = set(output).union(*(t for j, t in enumerate(terms) if j != i))
    xp = xp_of(*(o for o in operands if not isinstance(o, Tensor)))
    factors_terms, factors = [output], [g]
    for j, (term, o) in enumerate(zip(terms, operands)):
        if j != i:
            factors_terms.append(term)
            factors.append(o)
    unused = iter(c for c in _LETTERS if c not in sizes)
    written = ""
    for c in target:
        if c in written:  # a repeated letter: a new letter tied to it by an identity factor
            fresh = next(unused)
            factors_terms.append(c + fresh)
            factors.append(xp.eye(sizes[c], dtype=y.dtype))
            written += fresh
        else:
            written += c
            if c not in present:
                factors_terms.append(c)
                factors.append(xp.ones(sizes[c], dtype=y.dtype))
    return einsum(*factors, subscripts=",".join(factors_terms) + "->" + written)


def tensordot(a, b, axes=2):
    """y = the sum over paired axes of a and b of their product: ``axes=N`` pairs a's last N
    axes with b's first N; ``axes=(a_axes, b_axes)`` pairs them as listed. y has a's free axes
    then b's.   The gradient is einsum's."""
    na, nb = a.ndim, b.ndim
    if isinstance(axes, int):
        a_axes, b_axes = list(range(na - axes, na)), list(range(axes))
    else:
        a_axes, b_axes = ([x] if isinstance(x, int) else list(x) for x in axes)
    a_axes, b_axes = [x % na for x in a_axes], [x % nb for x in b_axes]
    if len(a_axes) != len(b_axes) or any(a.shape[p] != b.shape[q] for p, q in zip(a_axes, b_axes)):
        raise ShapeError(
            f"tensordot: cannot pair axes {a_axes} of a tensor of shape {a.shape} with axes "
            f"{b_axes} of one of shape {b.shape}; paired axes need equal sizes"
        )
    a_term = _LETTERS[:na]
    b_term = list(_LETTERS[na : na + nb])
    for p, q in zip(a_axes, b_axes):
        b_term[q] = a_term[p]
    b_term = "".join(b_term)
    out = "".join(c for k, c in enumerate(a_term) if k not in a_axes) + "".join(
        c for k, c in enumerate(b_term) if k not in b_axes
    )
    return einsum(a, b, subscripts=f"{a_term},{b_term}->{out}")
