"""Reverse-mode automatic differentiation: the Tensor, the recorded graph and the backward pass.

This module is the chain rule in code. A primitive (see :class:`Primitive`) computes its output from
raw arrays; when any input is a Tensor that requires a gradient, the output Tensor remembers a
:class:`Node`: which primitive made it, from which inputs. ``backward()`` then visits those nodes
from the output back to the inputs, in reverse topological order, and at each node multiplies the
incoming gradient ``g = dL/dy`` by the node's local derivative through the primitive's
vector-Jacobian product (VJP)::

    dL/dx_i = vjp_i(g, y, x_1, ..., x_n)        one VJP per differentiable input x_i

Where a tensor feeds several consumers, their contributions are summed (the multivariable chain
rule), and where an input was broadcast, its gradient is summed back to the input's shape here, in
one place, so that no VJP has to.
"""

import itertools
import types

import numpy as np

from .backend import asnumpy, ndarray_types, xp_of

PRIMITIVES = {}
"""Every primitive by name: the single registry that the gradient tests are driven by."""

_recording = True
_tracing = False  # while True, every op is recorded, with or without gradient (see fast/plan.py)
_traced_inputs = frozenset()  # while tracing: the ids of the Tensors that stand for the data
_values_read = False  # while tracing: a value of the data, or computed from it, went to Python


class ShapeError(ValueError):
    """Inputs whose shapes a primitive cannot combine; the message names the op and the shapes."""


class GraphFreedError(RuntimeError):
    """backward() reached a part of the graph that an earlier backward() already freed."""


class no_grad:
    """Context manager (and decorator) that stops recording: ops inside build no graph.

    Example::

        with chainrule.no_grad():
            w -= 0.1 * w.grad.data    # an update that must not become part of the graph
    """

    def __enter__(self):
        global _recording
        self._previous, _recording = _recording, False

    def __exit__(self, *exc):
        global _recording
        _recording = self._previous

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


class tracing:
    """Context manager that records every op, also those that need no gradient, so that a
    computation can be replayed on new inputs (see :mod:`chainrule.fast.plan`). Recording for
    gradients goes on as before inside the block.

    ``inputs`` are the Tensors that stand for the data. After the block, ``values_read`` tells
    whether the computation read the values of one of them, of a Tensor computed inside the
    block or of a Variable into Python (``numpy()``, ``float()``, ``bool()``, ``np.asarray``,
    :func:`values_of`): what it then computed outside the primitives is not recorded and would be
    replayed as it was, so such a record must not be replayed."""

    def __init__(self, inputs=()):
        self._inputs = frozenset(id(t) for t in inputs)
        self.values_read = False

    def __enter__(self):
        global _tracing, _traced_inputs, _values_read
        self._previous = (_tracing, _traced_inputs, _values_read)
        _tracing, _traced_inputs, _values_read = True, self._inputs, False
        return self

    def __exit__(self, *exc):
        global _tracing, _traced_inputs, _values_read
        self.values_read = _values_read
        _tracing, _traced_inputs, _values_read = self._previous


def _note_read(tensor):
    """While tracing: note that ``tensor``'s values are read into Python, if they vary from one
    run to the next (the data, what was computed from it, a Variable)."""
    global _values_read
    if tensor._node is not None or id(tensor) in _traced_inputs or tensor._holds_state:
        _values_read = True


def values_of(tensor):
    """``tensor.data``, for code that computes from the values outside the primitives (with
    NumPy, say): under :class:`tracing`, the read is noted, as ``numpy()`` notes it."""
    if _tracing:
        _note_read(tensor)
    return tensor.data


class enable_grad(no_grad):
    """Context manager that turns recording back on inside a ``no_grad`` block."""

    def __enter__(self):
        global _recording
        self._previous, _recording = _recording, True


def is_grad_enabled():
    """Return True when ops are being recorded for a later backward pass."""
    return _recording


def as_array(data, dtype=None, text=False):
    """Convert ``data`` to an ndarray: float32 for Python floats, the array's own dtype otherwise.
    With ``text``, strings are accepted too, as an object array of ``str`` (:func:`text_array`).

    Raises:
        TypeError: for data that is not numeric (strings without ``text``, objects).
    """
    if isinstance(data, Tensor):
        data = values_of(data)
    if type(data) is np.ndarray and dtype is None:  # nothing to convert: most calls
        array = data
    elif isinstance(data, ndarray_types) or isinstance(data, np.generic):
        array = xp_of(data).asarray(data, dtype=dtype)
    else:
        try:
            array = np.asarray(data, dtype=dtype)
        except UnicodeDecodeError:  # str and non-ASCII bytes together: keep them as objects
            array = np.asarray(data, dtype=object)
        if dtype is None and array.dtype == np.float64:
            array = array.astype(np.float32)
    if array.dtype.kind not in "fiub":
        strings = text_array(array) if text else None
        if strings is not None:
            return strings
        raise TypeError(
            f"chainrule works on numeric arrays (and strings); got dtype {array.dtype} "
            f"(from {type(data).__name__}). Convert the data to numbers first, e.g. "
            f"np.asarray(x, dtype='float32')."
        )
    return array


def text_array(array):
    """``array`` as an object array of ``str`` when it holds only strings (str, bytes decoded as
    UTF-8, or NumPy's string dtypes), else None: the storage of a string Tensor (TensorFlow's
    ``tf.string``), which no primitive differentiates and only the string functions compute on."""
    if array.dtype.kind in "US":
        array = array.astype(object)
    elif array.dtype.kind != "O" or not all(isinstance(v, (str, bytes)) for v in array.flat):
        return None
    if any(isinstance(v, bytes) for v in array.flat):
        array = np.vectorize(_decoded, otypes=[object])(array)
    return array


def _decoded(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


_FLOAT32 = np.dtype("float32")
# Python numbers are weak: a Python int keeps a tensor's dtype, a Python float takes its float type
_PYTHON_INT, _PYTHON_FLOAT = types.SimpleNamespace(kind="i"), types.SimpleNamespace(kind="f")


def _operand_dtype(value):
    if isinstance(value, Tensor):
        return value.data.dtype
    if isinstance(value, (np.ndarray, np.generic)):
        return value.dtype
    if isinstance(value, float):
        return _PYTHON_FLOAT
    if isinstance(value, int):
        return _PYTHON_INT
    return None


def _cast(value, dtype):
    if isinstance(value, Tensor):
        return PRIMITIVES["cast"](value, dtype=dtype)  # recorded: replays on new data
    return np.asarray(value).astype(dtype)


def _beside_a_float(value, value_dtype, float_dtype):
    """An operand beside a float one: a Python float as float32, a float as it is, an integer
    or a boolean cast to ``float_dtype``."""
    if value_dtype is _PYTHON_FLOAT:
        return np.float32(value)
    return value if value_dtype.kind == "f" else _cast(value, float_dtype)


def _arithmetic(name, a, b):
    """The primitive ``name`` on a and b, promoted as Keras 3 promotes integers and floats
    (its type lattice) rather than as NumPy does: beside a float, an integer or boolean operand
    takes that float's dtype (int32 x float32 is float32, where NumPy gives float64); an integer
    tensor with a Python float becomes float32; and ``/`` of integers is float32."""
    if isinstance(a, (list, tuple)):  # [[1., 2.]] @ w: Python data is a float32 array
        a = as_array(a)
    if isinstance(b, (list, tuple)):
        b = as_array(b)
    da, db = _operand_dtype(a), _operand_dtype(b)
    if da is None or db is None or (da is db and (name != "div" or da.kind == "f")):
        return PRIMITIVES[name](a, b)
    if (da.kind == "f") != (db.kind == "f"):  # one float: the other operand takes its dtype
        float_dtype = db if db.kind == "f" else da
        float_dtype = _FLOAT32 if float_dtype is _PYTHON_FLOAT else float_dtype
        if da is not _PYTHON_INT and db is not _PYTHON_INT:  # a Python int keeps the tensor's dtype
            a, b = _beside_a_float(a, da, float_dtype), _beside_a_float(b, db, float_dtype)
    elif name == "div" and da.kind != "f":  # two integers divide into float32
        a = a if da is _PYTHON_INT else _cast(a, _FLOAT32)
        b = b if db is _PYTHON_INT else _cast(b, _FLOAT32)
    return PRIMITIVES[name](a, b)


def is_text(value):
    """Whether ``value`` is a string Tensor (see :func:`text_array`)."""
    return isinstance(value, Tensor) and value.data.dtype == object


class Slot:
    """A place in the index of :func:`gather`: its ``k``-th index input goes there."""

    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k

    def __repr__(self):
        return f"Slot({self.k})"


def filled_index(index, arrays):
    """``index`` with each :class:`Slot` replaced by the array it stands for."""
    if type(index) is Slot:
        return arrays[index.k]
    return tuple(arrays[part.k] if type(part) is Slot else part for part in index)


def _index_inputs(index):
    """(the Tensors in ``index``, one Tensor or a tuple, in order; the index with a
    :class:`Slot` in place of each): :func:`gather`'s inputs and its ``index``."""
    if isinstance(index, Tensor):
        return [index], Slot(0)
    found, template = [], []
    for part in index:
        if isinstance(part, Tensor):
            template.append(Slot(len(found)))
            found.append(part)
        else:
            template.append(part)
    return found, tuple(template)


class Tensor:
    """An n-dimensional array that records the operations applied to it, for backpropagation.

    Args:
        data: array-like. Python floats become float32; an ndarray keeps its dtype.
        dtype: optional dtype to convert to (e.g. ``'float64'`` for gradient checks).
        requires_grad: whether ``backward()`` should compute ``dL/d(this tensor)`` into ``.grad``.

    Example::

        x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = (x * x).sum()          # y = sum x_i^2
        y.backward()               # dy/dx = 2x
        x.grad.numpy()             # array([2., 4., 6.], dtype=float32)
    """

    # _keras_logits: set by chainrule.keras.activations.softmax and .sigmoid on their outputs
    # (the attribute Keras 3 puts on a backend tensor), so that a cross-entropy can work from the
    # logits; read with getattr(t, "_keras_logits", None), never set by the engine.
    # _keras_mask: the boolean mask a Keras layer attached to its output (Keras 3's attribute),
    # read by the layers, losses and metrics after it; also set by chainrule.keras only.
    __slots__ = (
        "__weakref__",
        "_keras_logits",
        "_keras_mask",
        "_node",
        "data",
        "grad",
        "name",
        "requires_grad",
    )
    _holds_state = False  # True for a Variable, whose values change between runs
    # ndarray (op) Tensor defers to the Tensor's reflected operator (recorded, a Tensor), while
    # a NumPy function called on a Tensor reads its values (``np.add(t, 1)`` is an ndarray), as
    # with TensorFlow's and PyTorch's tensors
    __array_priority__ = 100

    def __init__(self, data, dtype=None, requires_grad=False, name=None):
        self.data = as_array(data, dtype, text=True)
        if requires_grad and self.data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients; got dtype {self.data.dtype}"
            )
        self.requires_grad = requires_grad
        self.grad = None
        self._node = None
        self.name = name

    # ----- array facts -------------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def device(self):
        """Where the values are, named as TensorFlow names it: the CPU."""
        return "/job:localhost/replica:0/task:0/device:CPU:0"

    @property
    def size(self):
        return self.data.size

    @property
    def is_leaf(self):
        """True for tensors the user created (no recorded op produced them)."""
        return self._node is None

    def numpy(self):
        """Return the values as a NumPy array (shares memory on the CPU). A string Tensor gives
        its strings as UTF-8 ``bytes``, as TensorFlow does (an object array, or one ``bytes``)."""
        data = values_of(self)
        if data.dtype == object:
            encoded = np.vectorize(str.encode, otypes=[object])(data)
            return encoded.item() if encoded.ndim == 0 else encoded
        return asnumpy(data)

    def item(self):
        return values_of(self).item()

    def tolist(self):
        return values_of(self).tolist()

    def detach(self):
        """A tensor with the same values that is cut from the graph (a traced computation
        records it as an op, so a replay computes it afresh)."""
        return PRIMITIVES["stop_gradient"](self)

    def __array__(self, dtype=None, copy=None):
        data = values_of(self)
        return data if dtype is None else data.astype(dtype)

    def __len__(self):
        return len(self.data)

    def __bool__(self):
        return bool(values_of(self))

    def __float__(self):
        return float(values_of(self))

    def __int__(self):
        return int(values_of(self))

    def __index__(self):
        """An integer scalar indexes as its value (``names[label]``), as NumPy's and
        TensorFlow's do."""
        if self.data.ndim != 0 or self.data.dtype.kind not in "iu":
            raise TypeError(
                f"only an integer scalar Tensor can be used as an index; got shape "
                f"{self.data.shape} and dtype {self.data.dtype}"
            )
        return int(values_of(self))

    def __format__(self, spec):
        """Formats the values, as TensorFlow does: ``f"{n}"`` of a scalar is its number, and
        ``f"{loss:.4f}"`` formats a one-element tensor as its number."""
        value = self.numpy()
        if isinstance(value, np.ndarray) and (value.ndim == 0 or (spec and value.size == 1)):
            value = value.item()
        return format(value, spec)

    def __repr__(self):
        body = np.array2string(np.asarray(self.numpy()), separator=", ", prefix="Tensor(")
        grad = ", requires_grad=True" if self.requires_grad else ""
        dtype = "string" if self.dtype == object else self.dtype
        return f"Tensor({body}, dtype={dtype}{grad})"

    __hash__ = object.__hash__  # == is elementwise, but a tensor is still usable as a dict key

    # ----- backward ----------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Backpropagate from this tensor: add ``dL/dx`` to ``x.grad`` for every leaf ``x``.

        Args:
            grad: the upstream gradient dL/d(self), same shape as self. May be omitted only for a
                tensor of one element, where it is 1.
            retain_graph: keep the graph for another backward pass (default: ``create_graph``).
            create_graph: record the backward pass itself, so that the gradients can be
                differentiated again (Hessian-vector products, gradient penalties).
        """
        seed = _seed(self, grad)
        retain = create_graph if retain_graph is None else retain_graph
        _backprop([self], [seed], retain, create_graph, wanted=None)

    # ----- operators (each one a recorded primitive, found by name in the registry that
    # chainrule.ops fills: the engine imports nothing above it) -----------------------------
    def __add__(self, other):
        return _arithmetic("add", self, other)

    def __radd__(self, other):
        return _arithmetic("add", other, self)

    def __sub__(self, other):
        return _arithmetic("sub", self, other)

    def __rsub__(self, other):
        return _arithmetic("sub", other, self)

    def __mul__(self, other):
        return _arithmetic("mul", self, other)

    def __rmul__(self, other):
        return _arithmetic("mul", other, self)

    def __truediv__(self, other):
        return _arithmetic("div", self, other)

    def __rtruediv__(self, other):
        return _arithmetic("div", other, self)

    def __pow__(self, other):
        return _arithmetic("pow", self, other)

    def __rpow__(self, other):
        return _arithmetic("pow", other, self)

    def __floordiv__(self, other):
        return _arithmetic("floor_divide", self, other)

    def __rfloordiv__(self, other):
        return _arithmetic("floor_divide", other, self)

    def __mod__(self, other):
        """a % b = a - (a // b) b, the sign of b (Python's); dL/da = g, dL/db = -g floor(a / b)."""
        return self - PRIMITIVES["floor_divide"](self, other) * other

    def __rmod__(self, other):
        return other - PRIMITIVES["floor_divide"](other, self) * self

    def __and__(self, other):
        return PRIMITIVES["bitwise_and"](self, other)

    def __rand__(self, other):
        return PRIMITIVES["bitwise_and"](other, self)

    def __or__(self, other):
        return PRIMITIVES["bitwise_or"](self, other)

    def __ror__(self, other):
        return PRIMITIVES["bitwise_or"](other, self)

    def __xor__(self, other):
        return PRIMITIVES["bitwise_xor"](self, other)

    def __rxor__(self, other):
        return PRIMITIVES["bitwise_xor"](other, self)

    def __invert__(self):
        return PRIMITIVES["invert"](self)

    def __round__(self, ndigits=None):
        """``round(t)`` and ``round(t, n)``: a Tensor of t's dtype, halves to even (no gradient)."""
        return PRIMITIVES["round"](self, decimals=ndigits or 0)

    def __matmul__(self, other):
        return _arithmetic("matmul", self, other)

    def __rmatmul__(self, other):
        return _arithmetic("matmul", other, self)

    def __neg__(self):
        return PRIMITIVES["neg"](self)

    def __abs__(self):
        return PRIMITIVES["abs"](self)

    def __getitem__(self, index):
        if self.data.dtype == object:  # strings: no gradient to record
            return Tensor(self.data[as_array(index) if isinstance(index, Tensor) else index])
        if isinstance(index, Tensor) or (
            type(index) is tuple and any(isinstance(part, Tensor) for part in index)
        ):  # computed indices: inputs of the op (see the gather primitive)
            tensors, template = _index_inputs(index)
            return PRIMITIVES["gather"](self, *tensors, index=template)
        return PRIMITIVES["getitem"](self, index=index)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __lt__(self, other):
        return PRIMITIVES["less"](self, other)

    def __le__(self, other):
        return PRIMITIVES["less_equal"](self, other)

    def __gt__(self, other):
        return PRIMITIVES["greater"](self, other)

    def __ge__(self, other):
        return PRIMITIVES["greater_equal"](self, other)

    def __eq__(self, other):
        return PRIMITIVES["equal"](self, other)

    def __ne__(self, other):
        return PRIMITIVES["not_equal"](self, other)

    # ----- the ndarray methods that VJPs use, so a VJP body runs on arrays and Tensors alike --
    # (with NumPy's ``dtype=`` and ``out=None`` keywords, so that ``np.mean(t)`` works too)
    def sum(self, axis=None, keepdims=False, dtype=None, out=None):
        """The sum over ``axis``, computed in ``dtype`` if given."""
        return PRIMITIVES["sum"](self._reduced(dtype, out, "sum"), axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False, dtype=None, out=None):
        """The mean over ``axis``, computed in ``dtype`` if given."""
        return PRIMITIVES["mean"](self._reduced(dtype, out, "mean"), axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False, out=None):
        return PRIMITIVES["max"](self._reduced(None, out, "max"), axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False, out=None):
        return PRIMITIVES["min"](self._reduced(None, out, "min"), axis=axis, keepdims=keepdims)

    def _reduced(self, dtype, out, method):
        """self in ``dtype`` (if given), for a reduction; ``out`` must be None."""
        if out is not None:
            raise TypeError(
                f"Tensor.{method}: out= is not supported (a Tensor is never written in place); "
                f"use the returned Tensor."
            )
        return self if dtype is None or np.dtype(dtype) == self.dtype else self.astype(dtype)

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
        return PRIMITIVES["reshape"](self, shape=tuple(shape))

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes
        return PRIMITIVES["transpose"](self, axes=tuple(axes) if axes else None)

    def astype(self, dtype):
        return PRIMITIVES["cast"](self, dtype=np.dtype(dtype))

    @property
    def T(self):
        return PRIMITIVES["transpose"](self, axes=None)

    @property
    def mT(self):
        return PRIMITIVES["swapaxes"](self, axis1=-1, axis2=-2)


_node_counter = itertools.count()
node_listeners = []  # functions called with each Node recorded (a GradientTape's reads)


def node_count():
    """How many nodes have been recorded so far: a Node's ``order`` tells whether it was
    recorded before or after a given moment (a GradientTape's ``with`` block, say)."""
    return next(_node_counter)


class Node:
    """What produced a tensor: the primitive, its inputs, and which of them need a gradient.

    ``inputs`` are the arguments as given (Tensors or raw values), ``raw`` the same as arrays,
    ``parents`` the ``(position, Tensor)`` pairs that require a gradient.
    """

    __slots__ = ("inputs", "order", "params", "parents", "prim", "raw")

    def __init__(self, prim, inputs, raw, params, parents):
        self.prim, self.inputs, self.raw, self.params, self.parents = (
            prim,
            inputs,
            raw,
            params,
            parents,
        )
        self.order = next(_node_counter)  # when it was recorded (see node_count)

    def free(self):
        self.inputs = self.raw = self.parents = None


class Primitive:
    """A differentiable function on raw arrays, with one VJP per differentiable input.

    Calling a primitive on raw arrays just computes; calling it on Tensors also records a Node,
    so the same VJP bodies run on arrays (a plain backward) and on Tensors (``create_graph``).
    """

    def __init__(self, forward, differentiable=True, constants=()):
        self.forward = forward  # the math, as written
        self.name = forward.__name__.strip("_")
        self.__doc__ = forward.__doc__
        self.differentiable = differentiable
        self.constants = frozenset(constants)
        self.vjps = {}  # the VJPs, as written
        self.variadic_vjp = None
        # what runs: the above, or faster implementations of the same math (see use_kernels)
        self.kernel, self.vjp_kernels = forward, self.vjps
        PRIMITIVES[self.name] = self

    def use_kernels(self, forward=None, vjps=None):
        """Compute with ``forward`` and ``vjps`` (argnum -> VJP) in place of the functions
        written for this primitive, until called again without them. They must compute the same
        math (chainrule.fast installs such kernels while a training call runs)."""
        self.kernel = forward or self.forward
        self.vjp_kernels = {**self.vjps, **vjps} if vjps else self.vjps

    def defvjp(self, argnum):
        """Decorator: register ``fn(g, y, *inputs, **params) -> dL/d(inputs[argnum])``."""

        def register(fn):
            self.vjps[argnum] = fn
            return fn

        return register

    def defvjp_variadic(self, fn):
        """Decorator for primitives of any number of inputs: ``fn(i, g, y, *inputs, **params)``."""
        self.variadic_vjp = fn
        return fn

    def vjp(self, argnum, g, y, inputs, params):
        """dL/d(inputs[argnum]) given the upstream gradient g = dL/dy."""
        if self.variadic_vjp is not None:
            return self.variadic_vjp(argnum, g, y, *inputs, **params)
        try:
            fn = self.vjp_kernels[argnum]
        except KeyError:
            raise TypeError(f"{self.name}: input {argnum} is not differentiable") from None
        return fn(g, y, *inputs, **params)

    def __call__(self, *args, **params):
        tensors = False
        for a in args:
            if isinstance(a, Tensor):
                tensors = True
                break
        if not tensors:
            return self._compute(args, params)
        raw = tuple(a.data if isinstance(a, Tensor) else a for a in args)
        out = Tensor.__new__(Tensor)
        out.data = self._compute(raw, params)
        out.grad = out.name = out._node = None
        out.requires_grad = False
        if _recording and self.differentiable:
            parents = tuple(
                (i, a)
                for i, a in enumerate(args)
                if isinstance(a, Tensor) and a.requires_grad and i not in self.constants
            )
            if parents:
                out.requires_grad = True
                out._node = Node(self, args, raw, params, parents)
                for listener in node_listeners:
                    listener(out._node)
                return out
        if _tracing:
            out._node = Node(self, args, raw, params, ())
        return out

    def _compute(self, raw, params):
        try:
            out = self.kernel(*raw, **params)
        except ShapeError:
            raise
        except (ValueError, TypeError, IndexError) as error:
            described = ", ".join(_describe(a) for a in raw)
            kind = next(k for k in (TypeError, IndexError, ValueError) if isinstance(error, k))
            raise kind(f"{self.name}: cannot apply to {described}: {error}") from None
        if not isinstance(out, ndarray_types):
            out = xp_of(*raw).asarray(out)
        return out

    def __repr__(self):
        return f"<primitive {self.name}>"


def primitive(forward=None, *, differentiable=True, constants=()):
    """Decorator that turns a raw-array function into a recorded :class:`Primitive`.

    ``constants``: positions of inputs that the gradient never flows into (values the forward
    or a VJP reuses, such as an already computed softmax).
    """
    if forward is None:
        return lambda fn: Primitive(fn, differentiable=differentiable, constants=constants)
    return Primitive(forward, differentiable=differentiable, constants=constants)


def _describe(value):
    if isinstance(value, ndarray_types):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:80]


def _seed(tensor, grad):
    """The upstream gradient that starts a backward pass from ``tensor``."""
    if grad is None:
        if tensor.size != 1:
            raise ValueError(
                f"backward() on a tensor of shape {tensor.shape} needs an upstream gradient: "
                f"reduce it to a scalar first (e.g. .sum()), or pass grad= of the same shape"
            )
        return xp_of(tensor.data).ones_like(tensor.data)
    grad = grad if isinstance(grad, Tensor) else as_array(grad)
    if grad.shape != tensor.shape:
        raise ShapeError(
            f"backward(): the upstream gradient has shape {grad.shape} but the tensor has shape "
            f"{tensor.shape}; they must be equal"
        )
    return grad.data if isinstance(grad, Tensor) else grad.astype(tensor.dtype, copy=False)


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes along which an input of ``shape`` was broadcast.

    If x of shape (3, 1) was broadcast to (2, 3, 4), then dL/dx = sum of dL/dy over axes 0 and 2.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _parents(node):
    if node.parents is None:
        raise GraphFreedError(
            "backward through a graph that was already freed: an earlier backward() "
            "released it. Pass retain_graph=True to the first backward() to go twice."
        )
    return [parent for _, parent in node.parents]


def post_order(roots, inputs_of=_parents):
    """Tensors reachable from ``roots`` through recorded nodes, each after all of its inputs.

    ``inputs_of(node)`` lists the tensors to follow (by default those that need a gradient).
    An explicit stack instead of recursion, so a chain of any length fits.
    """
    order, visited = [], set()
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor._node is not None:
            for value in reversed(inputs_of(tensor._node)):
                if id(value) not in visited:
                    stack.append((value, False))
    return order


def _topological_order(roots):
    """Tensors reachable from ``roots``, outputs before their inputs: the backward pass's order."""
    return post_order(roots)[::-1]


def _leading_to(order, wanted):
    """The ids of the tensors of ``order`` (inputs before outputs) from which a path of
    recorded inputs reaches one of ``wanted``, those included: the only tensors whose gradient
    a backward pass to ``wanted`` needs. A generator's weights, say, when the gradient asked
    for is the discriminator's."""
    useful = {id(t) for t in wanted}
    for tensor in order:
        node = tensor._node
        if node is not None and any(id(parent) in useful for _, parent in node.parents):
            useful.add(id(tensor))
    return useful


def _backprop(roots, seeds, retain_graph, create_graph, wanted):
    """The backward pass shared by ``Tensor.backward`` and :func:`gradients`.

    With ``wanted=None`` the gradients of leaves that require one are added to their ``.grad``;
    otherwise the gradients of the tensors in ``wanted`` are returned (``None`` if unconnected).
    Without ``create_graph`` every VJP runs on raw arrays; with it, on Tensors, so the backward
    pass is itself recorded.
    """
    global _recording
    grads = {}
    for root, seed in zip(roots, seeds):
        if create_graph and not isinstance(seed, Tensor):
            seed = Tensor(seed)
        elif not create_graph and isinstance(seed, Tensor):
            seed = seed.data
        previous = grads.get(id(root))
        grads[id(root)] = seed if previous is None else previous + seed
    wanted_ids = None if wanted is None else {id(t): None for t in wanted}
    order = post_order(roots)
    useful = None if wanted is None else _leading_to(order, wanted)
    previous_recording, _recording = _recording, create_graph
    try:
        for tensor in reversed(order):
            g = grads.pop(id(tensor), None)
            if g is None:
                continue
            if wanted_ids is not None and id(tensor) in wanted_ids:
                wanted_ids[id(tensor)] = g
            node = tensor._node
            if node is None:
                if wanted_ids is None and tensor.requires_grad:
                    _accumulate_leaf(tensor, g, create_graph)
                continue
            y, inputs = (tensor, node.inputs) if create_graph else (tensor.data, node.raw)
            for argnum, parent in node.parents:
                if useful is not None and id(parent) not in useful:
                    continue  # no path from it to a tensor whose gradient is asked for
                grad = node.prim.vjp(argnum, g, y, inputs, node.params)
                grad = unbroadcast(grad, parent.shape)
                if grad.dtype != parent.dtype:
                    grad = grad.astype(parent.dtype)
                previous = grads.get(id(parent))
                grads[id(parent)] = grad if previous is None else previous + grad
            if not retain_graph:
                node.free()
    finally:
        _recording = previous_recording
    if wanted_ids is None:
        return None
    return [wanted_ids[id(t)] for t in wanted]


def _accumulate_leaf(tensor, grad, create_graph):
    if not isinstance(grad, Tensor):
        grad = Tensor(grad)
    if tensor.grad is None:
        tensor.grad = grad
    elif create_graph:
        tensor.grad = tensor.grad + grad
    else:
        tensor.grad = Tensor(tensor.grad.data + grad.data)


def gradients(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False):
    """dL/dx for each x in ``inputs``, where L = sum_k <outputs_k, grad_outputs_k>.

    Unlike ``backward()`` this leaves ``.grad`` untouched and returns the gradients.

    Args:
        outputs: a Tensor or a list of Tensors.
        inputs: a Tensor or a list of Tensors (leaves or intermediate results).
        grad_outputs: upstream gradients, one per output (None: 1 for one-element outputs).
        retain_graph: keep the graph for another pass (default: ``create_graph``).
        create_graph: record the pass, so the gradients are differentiable again.

    Returns:
        A list of Tensors, one per input; ``None`` for an input the outputs do not depend on.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor) or isinstance(grad_outputs, ndarray_types):
        grad_outputs = [grad_outputs]
    seeds = [_seed(out, g) for out, g in zip(outputs, grad_outputs)]
    retain = create_graph if retain_graph is None else retain_graph
    found = _backprop(outputs, seeds, retain, create_graph, wanted=inputs)
    found = [g if g is None or isinstance(g, Tensor) else Tensor(g) for g in found]
    return found[0] if single else found


def grad_arrays(loss, tensors):
    """dL/dt for each t in ``tensors`` as raw arrays (None if unconnected), L one-element.

    The training loop's path: a plain backward pass that frees the graph and touches no ``.grad``.
    """
    return _backprop([loss], [_seed(loss, None)], False, False, wanted=tensors)
