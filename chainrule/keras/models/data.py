"""The data given to ``fit``, ``evaluate`` and ``predict``: checked, then served in batches.

Two kinds of input, one interface (iterate -> ``(x, y, sample_weight)`` batches of arrays):

* arrays (``x``, ``y``, ``sample_weight``): checked once, then each pass draws one index
  permutation and gathers every batch from it with ``take`` (:class:`ArrayBatches`);
* a source of ready-made batches: a ``chainrule.data.Dataset``, a ``keras.utils.PyDataset``, a
  generator or another iterable of batches, each converted as it arrives (:class:`StreamBatches`).

:class:`EpochIterator` cuts either into epochs, as ``steps_per_epoch`` asks.
"""

import math
import warnings
from collections.abc import Iterator

import numpy as np

from ... import nest, random
from ...backend import take_rows
from ...engine import Tensor, text_array
from ...tf.data import Dataset
from ..utils import PyDataset, unpack_x_y_sample_weight

# ----- arrays ----------------------------------------------------------------------------------


def as_input_array(x, argument="x", check_finite=True):
    """``x`` as a float32 array (Keras's float type), or as strings for a model that reads
    text (an object array of str, :func:`~chainrule.engine.text_array`); rejecting what cannot
    be trained on.

    Raises:
        TypeError: data that is neither numbers nor strings.
        ValueError: NaN or infinite values (naming the first one's position), when
            ``check_finite``.
    """
    if isinstance(x, Tensor) and x.dtype == object:
        return x.data
    array = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    if array.dtype.kind not in "fiub":
        strings = text_array(array)
        if strings is not None:
            return strings
        raise TypeError(
            f"{argument} must be numeric; got an array of dtype {array.dtype}. Convert it first, "
            f"e.g. np.asarray({argument}, dtype='float32')."
        )
    if array.dtype != np.float32:
        array = array.astype(np.float32)
    if check_finite and not _all_finite(array):
        finite = np.isfinite(array)
        if not finite.all():
            where = tuple(int(i) for i in np.argwhere(~finite)[0])
            raise ValueError(
                f"{argument} contains NaN or infinite values (the first at index {where}); "
                f"clean or impute the data before training."
            )
    return array


def _all_finite(array):
    """Whether every value is finite: a NaN or an infinity makes the sum so, which one pass
    finds at half the cost of a mask; a sum that overflows is settled by the mask."""
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(array, axis=None)
    return bool(np.isfinite(total)) or bool(np.isfinite(array).all())


def as_target_array(y, argument="y", check_finite=True):
    """Labels as an array: integers stay integers (class indices), floats become float32."""
    array = y.numpy() if isinstance(y, Tensor) else np.asarray(y)
    if array.dtype.kind not in "fiub":
        raise TypeError(f"{argument} must be numeric; got an array of dtype {array.dtype}.")
    if array.dtype.kind == "f":
        if array.dtype != np.float32:
            array = array.astype(np.float32)
        if check_finite and not _all_finite(array):
            raise ValueError(f"{argument} contains NaN or infinite values.")
    elif array.dtype.kind == "b":
        array = array.astype(np.float32)
    return array


def is_structure(value):
    """Whether ``value`` holds several arrays (one per input or output of a model): a dict, or
    a list or tuple of arrays (a list of numbers, or of lists of numbers, is one array)."""
    if isinstance(value, dict):
        return True
    return isinstance(value, (list, tuple)) and any(
        isinstance(item, (np.ndarray, Tensor, dict)) or hasattr(item, "__array__") for item in value
    )


def _each(convert, value, argument):
    """``convert(array, name)`` on ``value``, or on each array of a structure (named
    ``argument['key']`` or ``argument[i]`` in messages); None entries stay None."""
    if isinstance(value, dict):
        return {k: _each(convert, v, f"{argument}[{k!r}]") for k, v in value.items()}
    if is_structure(value):
        return type(value)(_each(convert, v, f"{argument}[{i}]") for i, v in enumerate(value))
    return None if value is None else convert(value, argument)


def input_arrays(x, argument="x", check_finite=True):
    """:func:`as_input_array` on ``x``, or on each array of a list or dict of inputs."""
    return _each(lambda a, name: as_input_array(a, name, check_finite), x, argument)


def target_arrays(y, argument="y", check_finite=True):
    """:func:`as_target_array` on ``y``, or on each array of a list or dict of targets."""
    return _each(lambda a, name: as_target_array(a, name, check_finite), y, argument)


def weight_arrays(sample_weight, y, argument="sample_weight"):
    """Sample weights as float32 arrays: one array, or one per output of ``y`` (a list or dict).
    One array of per-sample weights given for several outputs applies to each, as in Keras.

    Raises:
        ValueError: a structure unlike ``y``'s, or one array for several outputs that has more
            than one weight per sample.
    """
    weights = _each(as_weight_array, sample_weight, argument)
    if weights is None or not is_structure(y):
        return weights
    if is_structure(weights):
        if isinstance(y, dict) != isinstance(weights, dict) or (
            sorted(y) != sorted(weights) if isinstance(y, dict) else len(y) != len(weights)
        ):
            raise ValueError(
                f"You should provide one `{argument}` array per output in `y`. The two "
                f"structures did not match: y has {_layout(y)}, {argument} has "
                f"{_layout(weights)}."
            )
        return weights
    if weights.ndim > 2 or (weights.ndim == 2 and weights.shape[1] != 1):
        raise ValueError(
            f"For a model with multiple outputs, when providing a single `{argument}` array, it "
            f"should only have one scalar score per sample (i.e. shape `(num_samples,)`); got "
            f"shape {weights.shape}. If you want to use non-scalar sample weights, pass a "
            f"`{argument}` argument with one array per model output."
        )
    return nest.map_structure(lambda _: weights, y)


def _layout(structure):
    """A structure's keys or length, for messages."""
    if isinstance(structure, dict):
        return f"the keys {sorted(structure)}"
    return f"{len(structure)} arrays"


def num_samples(structure):
    """The number of samples (axis 0) of the first array of ``structure``."""
    return len(nest.flatten(structure)[0])


def as_weight_array(sample_weight, argument="sample_weight"):
    """Per-sample weights as float32, or None."""
    if sample_weight is None:
        return None
    return as_target_array(sample_weight, argument).astype(np.float32, copy=False)


def check_lengths(x, y, sample_weight=None):
    """All arrays (of x, y and sample_weight, each one array or a list or dict of them) must
    hold the same number of samples along axis 0."""
    xs = nest.flatten(x)
    for array in xs:
        if array.ndim == 0:
            raise ValueError("x must have a batch axis; got a scalar.")
        if len(array) != len(xs[0]):
            raise ValueError(
                f"All inputs must have the same number of samples; got arrays of shapes "
                f"{[a.shape for a in xs]}."
            )
    n, shape = len(xs[0]), xs[0].shape
    for label in nest.flatten(y) if y is not None else []:
        if label is not None and (label.ndim == 0 or len(label) != n):
            raise ValueError(
                f"x and y must have the same number of samples: x has {n} (shape {shape}), "
                f"y has {len(label) if label.ndim else 0} (shape {label.shape})."
            )
    for weight in nest.flatten(sample_weight) if sample_weight is not None else []:
        if weight is not None and len(weight) != n:
            raise ValueError(
                f"sample_weight must have one weight per sample: x has {n} samples, "
                f"sample_weight has {len(weight)}."
            )


def checked_arrays(method, x, y=None, sample_weight=None, prefix="", targets=True):
    """(x, y, sample_weight) converted and checked; ``predict`` needs x only, and a step that
    does without targets (``targets=False``: a model whose loss comes from ``add_loss``, or a
    ``train_step`` of the user's) takes x alone when no y is given.

    Raises:
        ValueError: no samples, no ``y`` for ``fit``/``evaluate``, different numbers of
            samples, NaN.
        TypeError: non-numeric data.
    """
    x = input_arrays(x, f"{prefix}x")
    first = nest.flatten(x)[0]
    if first.ndim == 0 or len(first) == 0:
        raise ValueError(
            f"{method}() needs samples along axis 0 of {prefix}x; got an array of shape "
            f"{first.shape}."
        )
    if method == "predict" or (y is None and not targets):
        return x, None, None
    if y is None:
        raise ValueError(
            f"{method}() needs targets: pass {prefix}y (the labels) with {prefix}x, or give "
            f"{prefix}x as a Dataset, PyDataset or generator of (x, y) batches."
        )
    y = target_arrays(y, f"{prefix}y")
    sample_weight = weight_arrays(sample_weight, y, f"{prefix}sample_weight")
    check_lengths(x, y, sample_weight)
    return x, y, sample_weight


def split_validation(arrays, validation_split):
    """Split off the *last* ``validation_split`` fraction of each array, before any shuffling."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"validation_split must be in (0, 1); got {validation_split}")
    n = num_samples(arrays[0])
    split_at = int(np.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"validation_split={validation_split} leaves no data for training or for validation "
            f"with {n} samples."
        )
    train = tuple(take(a, slice(None, split_at)) for a in arrays)
    validation = tuple(take(a, slice(split_at, None)) for a in arrays)
    return train, validation


def batch_slices(n, batch_size, order=None):
    """Index arrays (``order`` given) or slices for consecutive batches; the last may be short."""
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        yield slice(start, stop) if order is None else order[start:stop]


def take(array, index):
    """Rows ``index`` of ``array``, or of each array of a list or dict of them (a copy of just
    the batch; None stays None)."""
    if array is None:
        return None
    if isinstance(array, (list, tuple, dict)):
        return nest.map_structure(lambda a: take(a, index), array)
    if isinstance(index, slice):
        return array[index]
    return take_rows(array, index)


def check_count(value, argument):
    """``value`` (a batch size or a number of steps) as an int >= 1, or None (not given).

    Raises:
        ValueError: anything else, naming ``argument``.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{argument} must be a positive integer or None; got {value!r}")
    return int(value)


# ----- class weights ---------------------------------------------------------------------------


def check_class_weight(class_weight):
    """``class_weight`` as {class index: weight}.

    Raises:
        ValueError: not a mapping, or a key that is not a class index.
    """
    if not hasattr(class_weight, "items"):
        raise ValueError(
            f"class_weight must be a dict mapping class indices to weights, e.g. "
            f"{{0: 1.0, 1: 5.0}}; got {type(class_weight).__name__} ({class_weight!r:.100})."
        )
    table = {}
    for key, value in class_weight.items():
        try:
            table[int(key)] = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"class_weight must map integer class indices to numbers; got the entry "
                f"{key!r}: {value!r}."
            ) from None
    return table


def class_weight_to_sample_weight(y, class_weight):
    """Per-sample weights from per-class ones, as Keras computes them.

    w_i = class_weight[c_i] (1 for a class the table leaves out), where the class c_i of sample
    i is its label for integer labels, y of shape (n,) or (n, 1), and argmax_k y_ik for one-hot
    or probability rows, y of shape (n, k). Float labels are rounded.

    Args:
        y: the labels of n samples.
        class_weight: {class index: weight}, as :func:`check_class_weight` returns.

    Returns:
        float32 weights of shape (n,).
    """
    y = np.asarray(y)
    if y.ndim > 1:
        y = y.argmax(axis=-1) if y.shape[-1] > 1 else y[..., 0]
    classes = np.round(y).astype(np.int64)
    weight = np.ones(classes.shape, np.float32)
    for label, value in class_weight.items():
        weight[classes == label] = value
    return weight


def merge_class_weight(y, sample_weight, class_weight):
    """``sample_weight``, or, when ``class_weight`` is given, the class weights of y's samples.

    Raises:
        ValueError: both given (as Keras, which has no rule for combining them), or a bad
            ``class_weight``.
    """
    if class_weight is None:
        return sample_weight
    if sample_weight is not None:
        raise ValueError(
            "You cannot pass class_weight and sample_weight at the same time: multiply the "
            "class weights into sample_weight instead."
        )
    if isinstance(y, (list, tuple, dict)):
        raise ValueError(
            "`class_weight` is only supported for Models with a single output. For several "
            "outputs, pass sample_weight with one array of weights per output instead."
        )
    return class_weight_to_sample_weight(y, check_class_weight(class_weight))


# ----- batches ---------------------------------------------------------------------------------


class Batches:
    """One pass of ``(x, y, sample_weight)`` batches per iteration; ``num_batches`` per pass
    (None when unknown until the data runs out); ``batch_size`` where fit chooses it."""

    num_batches = None
    batch_size = None

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass


class ArrayBatches(Batches):
    """Batches of checked arrays: per pass, one permutation of the rows (``shuffle``), and each
    batch gathered from it. The arrays themselves are never copied whole.

    ``gather``, where set (``fit`` sets the speed package's), yields a shuffled pass's batches
    of single arrays instead (x, and y and the sample weights where given):
    ``gather(arrays, order, batch_size)`` gives the same batches as gathering each one here
    does (the rows ``order[s : s + batch_size]`` of each array, for s = 0, batch_size, ...).
    """

    gather = None

    def __init__(self, arrays, batch_size, shuffle):
        self.arrays = arrays
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.num_batches = math.ceil(num_samples(arrays[0]) / batch_size)

    def __iter__(self):
        x, y, weight = self.arrays
        n = num_samples(x)
        order = random.generator().permutation(n) if self.shuffle else None
        parts = (x, y, weight)
        if order is not None and self.gather is not None and _plain_or_none(parts):
            present = tuple(a for a in parts if a is not None)
            if weight is None and y is not None:  # the usual case
                for xb, yb in self.gather(present, order, self.batch_size):
                    yield xb, yb, None
                return
            for batch in self.gather(present, order, self.batch_size):
                gathered = iter(batch)
                yield tuple(None if a is None else next(gathered) for a in parts)
            return
        plain = isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
        if order is not None and plain and weight is None:  # the usual case
            for start in range(0, n, self.batch_size):
                index = order[start : start + self.batch_size]
                yield take_rows(x, index), take_rows(y, index), None
            return
        for index in batch_slices(n, self.batch_size, order):
            yield take(x, index), take(y, index), take(weight, index)


def _plain_or_none(arrays):
    """Whether x is one NumPy array and y and the sample weights are too, or None."""
    x, *rest = arrays
    return isinstance(x, np.ndarray) and all(a is None or isinstance(a, np.ndarray) for a in rest)


def array_batches(arrays, batch_size=None, steps=None, shuffle=False, class_weight=None):
    """:class:`ArrayBatches` of checked arrays, with Keras's defaults: ``batch_size`` is
    ceil(n / steps) when only ``steps`` is given, else 32; ``class_weight`` becomes
    ``sample_weight``."""
    x, y, weight = arrays
    weight = merge_class_weight(y, weight, class_weight)
    if batch_size is None:
        batch_size = math.ceil(num_samples(x) / steps) if steps else 32
    return ArrayBatches((x, y, weight), batch_size, shuffle)


def is_stream(x):
    """Whether ``x`` yields ready-made batches (a Dataset, PyDataset, iterator or other
    iterable that is not array-like) rather than being the samples themselves."""
    if isinstance(x, (Dataset, PyDataset, Iterator)):
        return True
    array_like = isinstance(x, (list, tuple, dict, range, str, bytes, Tensor))
    array_like = array_like or hasattr(x, "__array__")
    return hasattr(x, "__iter__") and not array_like


def describe(source):
    """What kind of source of batches ``source`` is, for messages."""
    if isinstance(source, Dataset):
        return "Dataset"
    if isinstance(source, PyDataset):
        return "PyDataset"
    return "generator" if isinstance(source, Iterator) else type(source).__name__


class StreamBatches(Batches):
    """Batches from a Dataset, PyDataset, generator or iterable: each batch ``x``, ``(x, y)``
    or ``(x, y, sample_weight)`` is converted as it arrives (float32 inputs; NaN shows up as a
    NaN loss rather than by scanning every batch)."""

    def __init__(self, source, method, class_weight=None, shuffle=False, targets=True):
        self.source = source
        self.method = method
        self.targets = targets
        self.shuffle = shuffle
        self.kind = describe(source)
        if class_weight is not None and isinstance(source, Iterator):
            raise ValueError(
                f"class_weight is not supported for a {self.kind}: yield (x, y, sample_weight) "
                f"batches instead, or give the data as a Dataset or PyDataset."
            )
        self.class_weight = None if class_weight is None else check_class_weight(class_weight)
        if isinstance(source, Dataset):
            cardinality = int(source.cardinality())
            self.num_batches = cardinality if cardinality >= 0 else None  # None: endless
        elif isinstance(source, PyDataset):
            self.num_batches = source.num_batches
        elif hasattr(source, "__len__"):
            self.num_batches = len(source)

    def _raw_batches(self):
        source = self.source
        if isinstance(source, Dataset):
            return source.as_numpy_iterator()
        if isinstance(source, PyDataset):
            return self._py_dataset_batches()
        return iter(source)

    def _py_dataset_batches(self):
        n = self.num_batches
        if n is None:
            index = 0
            while True:
                yield self.source[index]
                index += 1
        order = random.generator().permutation(n) if self.shuffle else range(n)
        for index in order:
            yield self.source[int(index)]

    def __iter__(self):
        for batch in self._raw_batches():
            yield self._convert(batch)

    def _convert(self, batch):
        x, y, weight = unpack_x_y_sample_weight(batch)
        x = input_arrays(x, "x", check_finite=False)
        if self.method == "predict" or (y is None and not self.targets):
            return x, None, None
        if y is None:
            raise ValueError(
                f"{self.method}() needs targets, but a batch from the {self.kind} holds only x: "
                f"yield (x, y) or (x, y, sample_weight) batches."
            )
        y = target_arrays(y, "y", check_finite=False)
        weight = merge_class_weight(y, weight_arrays(weight, y), self.class_weight)
        check_lengths(x, y, weight)
        return x, y, weight

    def on_epoch_begin(self):
        if isinstance(self.source, PyDataset):
            self.source.on_epoch_begin()

    def on_epoch_end(self):
        if isinstance(self.source, PyDataset):
            self.source.on_epoch_end()


def batches(
    method,
    x,
    y=None,
    sample_weight=None,
    batch_size=None,
    steps=None,
    shuffle=False,
    class_weight=None,
    targets=True,
):
    """The batches ``method`` ('fit', 'evaluate' or 'predict') draws from its data; ``targets``:
    whether its batches must hold targets (see :func:`checked_arrays`).

    ``batch_size`` is ignored for a PyDataset or a generator, as Keras ignores it: they make
    their own batches.

    Raises:
        ValueError: ``y`` or ``sample_weight`` given with a source of batches, or
            ``batch_size`` with a Dataset (they belong in its batches), and every error of
            :func:`checked_arrays`.
    """
    batch_size = check_count(batch_size, "batch_size")
    if not is_stream(x):
        arrays = checked_arrays(method, x, y, sample_weight, targets=targets)
        return array_batches(arrays, batch_size, steps, shuffle, class_weight)
    kind = describe(x)
    for argument, value in (("y", y), ("sample_weight", sample_weight)):
        if value is not None:
            raise ValueError(
                f"When x is a {kind}, {argument} must not be passed to {method}(): the "
                f"{kind}'s batches carry it, as (x, y) or (x, y, sample_weight)."
            )
    if batch_size is not None and isinstance(x, Dataset):  # PyDatasets, generators: ignored
        raise ValueError(
            f"The batch_size argument must not be specified when x is a {kind}: it yields whole "
            f"batches already (received batch_size={batch_size}). Set the batch size where the "
            f"batches are made, e.g. dataset.batch({batch_size})."
        )
    return StreamBatches(x, method, class_weight, shuffle, targets)


def validation_batches(validation_data, batch_size=None, steps=None, targets=True):
    """The batches of ``fit``'s ``validation_data``: a tuple (x_val, y_val) or
    (x_val, y_val, sample_weight) of arrays, or a source of such batches; None stays None."""
    if validation_data is None:
        return None
    if is_stream(validation_data):
        return StreamBatches(validation_data, "evaluate", targets=targets)
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        received = type(validation_data).__name__
        if isinstance(validation_data, (tuple, list)):
            received += f" of {len(validation_data)} items"
        raise ValueError(
            f"validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight), "
            f"or a Dataset, PyDataset or generator of such batches; got a {received}."
        )
    arrays = checked_arrays("fit", *validation_data, prefix="validation ", targets=targets)
    return array_batches(arrays, batch_size, steps)


# ----- epochs ----------------------------------------------------------------------------------


def warn_ran_out(stacklevel=3):
    """Keras's warning for data that ends before the epochs do; ``stacklevel`` points it at the
    call of ``fit``."""
    warnings.warn(
        "Your input ran out of data; interrupting training. Make sure that your dataset or "
        "generator can generate at least steps_per_epoch * epochs batches. You may need to use "
        "the .repeat() function when building your dataset.",
        UserWarning,
        stacklevel=stacklevel,
    )


class EpochIterator:
    """The batches of each epoch, as Keras draws them.

    Without ``steps_per_epoch`` an epoch is one full pass, ending where the data does. With it,
    an epoch is the next ``steps_per_epoch`` batches of a pass that carries over into the next
    epoch; when a pass runs out before the epoch's last step, the epoch ends early with a
    warning and the next epoch starts a fresh pass. An epoch that gets no batch at all sets
    ``exhausted``.
    """

    def __init__(self, batches, steps_per_epoch=None):
        self.batches = batches
        self.steps_per_epoch = steps_per_epoch
        self.exhausted = False
        self._pass = None
        self._seen = 0

    @property
    def num_batches(self):
        """Batches per epoch, or None when unknown."""
        return self.steps_per_epoch or self.batches.num_batches

    def reset(self):
        """Start the next epoch on a fresh pass."""
        self._pass = None

    def epoch(self):
        """Yield the batches of one epoch."""
        self.batches.on_epoch_begin()
        steps = 0
        try:
            if self.steps_per_epoch is None:
                for batch in self.batches:
                    steps += 1
                    yield batch
            else:
                steps = yield from self._steps()
        finally:
            self.batches.on_epoch_end()
        self.exhausted = steps == 0

    def _steps(self):
        per_pass = self.batches.num_batches
        for step in range(self.steps_per_epoch):
            if self._pass is None:
                self._pass, self._seen = iter(self.batches), 0
            batch = next(self._pass, None)
            if batch is None:
                self._pass = None
                if step:
                    warn_ran_out(stacklevel=5)  # here, _steps, epoch, fit, its caller
                return step
            self._seen += 1
            yield batch
            if self._seen == per_pass:
                self._pass = None
                if step + 1 < self.steps_per_epoch:
                    warn_ran_out(stacklevel=5)
                    return step + 1
        return self.steps_per_epoch
