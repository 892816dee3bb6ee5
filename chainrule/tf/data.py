"""Input pipelines: ``chainrule.data.Dataset``, the part of ``tf.data.Dataset`` that training uses.

A dataset is a recipe, not a copy. ``from_tensor_slices`` keeps the arrays it is given, and each
pass over the dataset (each ``for`` loop, each epoch of ``fit``) draws its elements anew::

    ds = Dataset.from_tensor_slices((x, y))    element i = (x[i], y[i]),  x: (n, ...), y: (n, ...)
    ds = ds.shuffle(n).batch(32)               per pass a fresh permutation p of 0..n-1, and
                                               batch k = (x[p[32k:32k+32]], y[p[32k:32k+32]])

Until a ``map`` or a ``batch`` needs the values, a dataset built from arrays passes row indices
along instead of rows: shuffling, repeating and taking move integers, and each batch is gathered
straight from the original arrays, so no pass copies the data.

Iterating yields chainrule Tensors in the structure given to ``from_tensor_slices`` (an array, a
tuple or a dict, nested as needed); ``as_numpy_iterator()`` yields NumPy arrays. With
``import chainrule as tf``, ``tf.data.Dataset`` is this class.
"""

import gzip
import math
import types

import numpy as np

from .. import random
from ..backend import take_rows
from ..engine import Tensor, as_array, no_grad
from .core import python_array

INFINITE_CARDINALITY = -1
"""``cardinality()`` of a dataset that never ends (``repeat()`` with no count)."""

UNKNOWN_CARDINALITY = -2
"""tf.data's ``cardinality()`` of a dataset whose length cannot be known without iterating it
(every dataset here knows its length; the constant is for code that compares against it)."""

AUTOTUNE = -1
"""Accepted wherever tf.data takes a buffer size or a degree of parallelism."""

experimental = types.SimpleNamespace(
    AUTOTUNE=AUTOTUNE,
    INFINITE_CARDINALITY=INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY=UNKNOWN_CARDINALITY,
)
"""``tf.data.experimental``: the constants that TensorFlow programs still read from it."""

_SHUFFLE_CHUNK = 1024  # row indices handed on at a time by a streaming shuffle


class Dataset:
    """A re-iterable sequence of elements, built by chaining the methods below.

    Create one with :meth:`from_tensor_slices`; every other method returns a new dataset and
    leaves this one unchanged. Each iteration is a new pass: a ``shuffle`` draws a new order.

    Example::

        ds = Dataset.from_tensor_slices((x_train, y_train)).shuffle(60000).batch(32)
        model.fit(ds, epochs=5)
    """

    def __init__(self, cardinality, source=None):
        self._cardinality = cardinality
        # A dataset whose items are row indices into ``source`` (a from_tensor_slices dataset)
        # rather than elements; see _runs().
        self._source = source

    def _runs(self):
        """One pass, as consecutive runs of items: 1-D integer arrays of row indices into
        ``self._source`` when it is set, else lists of elements (structures of arrays)."""
        raise NotImplementedError

    # ----- creating and chaining ---------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """The dataset whose element i is ``tensors`` with every array replaced by its row i.

        Args:
            tensors: an array (or Tensor, or list of numbers), or a tuple or dict of them,
                nested as needed. Every array must have the same length n along axis 0.

        Returns:
            A dataset of n elements with the structure of ``tensors``.

        Raises:
            ValueError: an array of rank 0, or arrays of different lengths (all are named).
            TypeError: non-numeric data.

        Example::

            Dataset.from_tensor_slices((x, y))                      # elements (x[i], y[i])
            Dataset.from_tensor_slices({"image": x, "label": y})    # elements as dicts
        """
        return _TensorSliceDataset(tensors)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """Elements in random order, drawn through a buffer of ``buffer_size``, as tf.data does.

        The buffer holds the next ``buffer_size`` elements; each output is a uniformly chosen
        buffer element, replaced by the next input. With ``buffer_size`` at least the dataset's
        length, each pass is a uniformly random permutation.

        Args:
            buffer_size: a positive integer.
            seed: fixes the sequence of orders; by default the orders come from chainrule's
                global generator, so ``keras.utils.set_random_seed`` makes them reproducible.
            reshuffle_each_iteration: draw a new order on each pass (default) or reuse one.
        """
        return _ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(
        self,
        batch_size,
        drop_remainder=False,
        num_parallel_calls=None,
        deterministic=None,
        name=None,
    ):
        """Consecutive elements stacked along a new axis 0: element shapes s -> (batch_size, *s).

        Args:
            batch_size: a positive integer.
            drop_remainder: drop a last batch shorter than ``batch_size`` (kept by default).
            num_parallel_calls, deterministic: accepted; batches are formed in order.

        Raises:
            ValueError: on iteration, when the elements of a batch differ in structure or shape.
        """
        return _BatchDataset(self, batch_size, drop_remainder)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """``map_func`` applied to each element.

        A tuple element is passed as separate arguments, ``map_func(x, y)``; any other element
        (an array, a dict) as one argument. The arguments are Tensors, computed on without a
        graph; the result may be Tensors, arrays or numbers, structured as tuples (or lists) and
        dicts. Map after ``batch`` to call the function once per batch instead of per element.
        """
        return _MapDataset(self, map_func)

    def repeat(self, count=None, name=None):
        """The dataset ``count`` times over (each pass drawn anew); forever when ``count`` is
        None or negative."""
        return _RepeatDataset(self, count)

    def take(self, count, name=None):
        """The first ``count`` elements (all of them when ``count`` is negative)."""
        return _TakeDataset(self, count)

    def cache(self, filename="", name=None):
        """The elements of the first complete pass, kept in memory and replayed on every later
        pass (so a shuffle before ``cache`` gives every pass the first pass's order, as in
        tf.data). Caching to a file is not offered.

        Raises:
            ValueError: a ``filename``.
        """
        if filename:
            raise ValueError(
                f"Dataset.cache: chainrule caches in memory only; got filename={filename!r}. "
                f"Call cache() without a file."
            )
        return _CacheDataset(self)

    def prefetch(self, buffer_size, name=None):
        """Accepted for compatibility: elements are produced when asked for, so there is nothing
        to prefetch. ``buffer_size`` must be a non-negative integer or ``AUTOTUNE``."""
        _check_count("prefetch", "buffer_size", buffer_size, minimum=AUTOTUNE)
        return self

    # ----- reading -----------------------------------------------------------------------------
    def as_numpy_iterator(self):
        """One pass over the elements, each a structure of NumPy arrays."""
        source = self._source
        for run in self._runs():
            if source is None:
                yield from run
            else:
                for index in run:
                    yield source.element(index)

    def __iter__(self):
        """One pass over the elements, each a structure of Tensors."""
        for element in self.as_numpy_iterator():
            yield _map_structure(Tensor, element)

    def cardinality(self):
        """The number of elements as a scalar int64 Tensor; ``INFINITE_CARDINALITY`` (-1) for a
        dataset that never ends."""
        return Tensor(np.int64(self._cardinality))

    def __len__(self):
        if self._cardinality == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        return self._cardinality

    def __bool__(self):  # a dataset is a recipe: truthy even when empty or infinite
        return True

    def __repr__(self):
        return f"<{type(self).__name__} cardinality={self._cardinality}>"


class TextLineDataset(Dataset):
    """The lines of text files as string elements, file after file, each without its line
    ending, as ``tf.data.TextLineDataset``. Each pass reads the files again, a block of lines
    at a time; making the dataset counts their lines, so its ``cardinality()`` is known.

    Args:
        filenames: a path, or a list (or string Tensor) of paths.
        compression_type: None or "" (plain text), or "GZIP".
        buffer_size, num_parallel_reads: accepted; the files are read one after another.

    Raises:
        ValueError: another compression type.
        FileNotFoundError: a file that does not exist, naming it.
    """

    _BLOCK = 1024  # lines handed on at a time

    def __init__(
        self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None
    ):
        if compression_type not in (None, "", "GZIP"):
            raise ValueError(
                f"TextLineDataset: compression_type must be None, '' or 'GZIP'; got "
                f"{compression_type!r}"
            )
        if isinstance(filenames, Tensor):
            filenames = filenames.data.tolist()
        self._paths = [filenames] if isinstance(filenames, (str, bytes)) else list(filenames)
        self._paths = [p.decode("utf-8") if isinstance(p, bytes) else str(p) for p in self._paths]
        self._gzip = compression_type == "GZIP"
        super().__init__(sum(1 for _ in self._lines()))

    def _lines(self):
        for path in self._paths:
            with _open_text(path, self._gzip) as file:
                for line in file:
                    if line.endswith("\n"):
                        line = line[:-1]
                    yield line[:-1] if line.endswith("\r") else line

    def _runs(self):
        block = []
        for line in self._lines():
            block.append(np.array(line, dtype=object))
            if len(block) == self._BLOCK:
                yield block
                block = []
        if block:
            yield block


def _leaf_array(value):
    """A component as an array: Python data as TensorFlow converts it (ints to int32 where
    they fit, floats to float32), arrays as they are, strings as a string array."""
    if isinstance(value, (list, tuple, int, float)):
        try:
            return python_array(value)
        except TypeError:  # strings
            pass
    return as_array(value, text=True)


def _open_text(path, gzipped):
    """``path`` opened for reading UTF-8 text (undecodable bytes replaced), lines kept whole."""
    if gzipped:
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


class _TensorSliceDataset(Dataset):
    def __init__(self, tensors):
        paths, leaves = [], []
        for path, leaf in _flatten(tensors):
            try:
                leaf = _leaf_array(leaf)
            except (TypeError, ValueError) as error:
                raise type(error)(f"Dataset.from_tensor_slices: {_name(path)}: {error}") from None
            if leaf.ndim == 0:
                raise ValueError(
                    f"Dataset.from_tensor_slices: {_name(path)} is a scalar (shape ()); each "
                    f"component needs an axis 0 to slice. Use an array of shape (n, ...)."
                )
            paths.append(path)
            leaves.append(leaf)
        if not leaves:
            raise ValueError("Dataset.from_tensor_slices needs at least one array; got none.")
        if len({len(leaf) for leaf in leaves}) > 1:
            received = ", ".join(
                f"{_name(path)} of shape {leaf.shape}"
                for path, leaf in zip(paths, leaves, strict=True)
            )
            raise ValueError(
                f"Dataset.from_tensor_slices expects every component to have the same size "
                f"along axis 0 (one row per element); received {received}. Slice the arrays "
                f"to a common number of samples."
            )
        super().__init__(len(leaves[0]), source=self)
        self._structure = tensors
        self._leaves = leaves

    def _runs(self):
        yield np.arange(self._cardinality)

    def _pack(self, values):
        values = iter(values)
        return _map_structure(lambda _: next(values), self._structure)

    def element(self, index):
        """Row ``index`` of every component, in the dataset's structure."""
        return self._pack([leaf[index] for leaf in self._leaves])

    def gather(self, indices):
        """Rows ``indices`` of every component (a copy of just those rows)."""
        return self._pack([take_rows(leaf, indices) for leaf in self._leaves])


class _ShuffleDataset(Dataset):
    def __init__(self, parent, buffer_size, seed, reshuffle_each_iteration):
        _check_count("shuffle", "buffer_size", buffer_size, minimum=1)
        super().__init__(parent._cardinality, parent._source)
        self._parent = parent
        self._buffer_size = int(buffer_size)
        self._reshuffle = bool(reshuffle_each_iteration)
        if self._reshuffle:
            self._rng = None if seed is None else np.random.default_rng(seed)
        else:  # the same order on every pass: a fresh generator from one seed each time
            self._seed = int(random.generator().integers(2**63)) if seed is None else seed

    def _generator(self):
        if not self._reshuffle:
            return np.random.default_rng(self._seed)
        return self._rng if self._rng is not None else random.generator()

    def _runs(self):
        rng = self._generator()
        indices = self._source is not None
        if 0 <= self._parent._cardinality <= self._buffer_size:  # the buffer holds everything
            items = _concatenate(list(self._parent._runs()), indices)
            yield _reorder(items, rng.permutation(len(items)), indices)
        else:
            yield from _buffer_shuffle(self._parent._runs(), self._buffer_size, rng, indices)


class _BatchDataset(Dataset):
    def __init__(self, parent, batch_size, drop_remainder):
        _check_count("batch", "batch_size", batch_size, minimum=1)
        cardinality = parent._cardinality
        if cardinality >= 0:
            rounding = math.floor if drop_remainder else math.ceil
            cardinality = rounding(cardinality / batch_size)
        super().__init__(cardinality)
        self._parent = parent
        self._batch_size = int(batch_size)
        self._drop_remainder = bool(drop_remainder)

    def _runs(self):
        source = self._parent._source
        chunks = _chunks(
            self._parent._runs(), self._batch_size, self._drop_remainder, source is not None
        )
        for chunk in chunks:
            yield [_stack(chunk) if source is None else source.gather(chunk)]


class _MapDataset(Dataset):
    def __init__(self, parent, map_func):
        if not callable(map_func):
            raise TypeError(
                f"Dataset.map expects a function; got {type(map_func).__name__} ({map_func!r})."
            )
        super().__init__(parent._cardinality)
        self._parent = parent
        self._map_func = map_func

    def _runs(self):
        for element in self._parent.as_numpy_iterator():
            arguments = _map_structure(Tensor, element)
            with no_grad():
                if isinstance(arguments, tuple):
                    result = self._map_func(*arguments)
                else:
                    result = self._map_func(arguments)
            yield [_as_element(result)]


class _CacheDataset(Dataset):
    def __init__(self, parent):
        super().__init__(parent._cardinality, parent._source)
        self._parent = parent
        self._kept = None

    def _runs(self):
        if self._kept is not None:
            yield from self._kept
            return
        runs = []
        for run in self._parent._runs():
            runs.append(run)
            yield run
        self._kept = runs  # only a pass that reached its end is kept


class _RepeatDataset(Dataset):
    def __init__(self, parent, count):
        if count is not None:
            _check_count("repeat", "count", count)
        self._count = -1 if count is None or count < 0 else int(count)
        n = parent._cardinality
        if n == 0 or self._count == 0:
            cardinality = 0
        elif self._count < 0 or n == INFINITE_CARDINALITY:
            cardinality = INFINITE_CARDINALITY
        else:
            cardinality = n * self._count
        super().__init__(cardinality, parent._source)
        self._parent = parent

    def _runs(self):
        if self._cardinality == 0:
            return
        passes = 0
        while self._count < 0 or passes < self._count:
            yield from self._parent._runs()
            passes += 1


class _TakeDataset(Dataset):
    def __init__(self, parent, count):
        _check_count("take", "count", count)
        self._count = int(count)
        n = parent._cardinality
        if self._count < 0:
            cardinality = n
        elif n == INFINITE_CARDINALITY:
            cardinality = self._count
        else:
            cardinality = min(n, self._count)
        super().__init__(cardinality, parent._source)
        self._parent = parent

    def _runs(self):
        if self._count < 0:
            yield from self._parent._runs()
            return
        remaining = self._count
        if remaining == 0:
            return
        for run in self._parent._runs():
            if len(run) >= remaining:
                yield run[:remaining]
                return
            remaining -= len(run)
            yield run


# ----- runs of items ---------------------------------------------------------------------------


def _concatenate(runs, indices):
    """Runs joined into one (an index array, or a list of elements)."""
    if indices:
        return np.concatenate(runs) if runs else np.arange(0)
    return [item for run in runs for item in run]


def _reorder(items, order, indices):
    """``items`` reordered by the positions ``order``."""
    return items[order] if indices else [items[i] for i in order]


def _chunks(runs, size, drop_remainder, indices):
    """The items of ``runs`` regrouped into runs of ``size`` (the last may be short)."""
    pending, count = [], 0
    for run in runs:
        start = 0
        while start < len(run):
            piece = run[start : start + size - count]
            pending.append(piece)
            count += len(piece)
            start += len(piece)
            if count == size:
                yield pending[0] if len(pending) == 1 else _concatenate(pending, indices)
                pending, count = [], 0
    if count and not drop_remainder:
        yield _concatenate(pending, indices)


def _buffer_shuffle(runs, buffer_size, rng, indices):
    """tf.data's shuffle: fill a buffer, then repeatedly emit a uniformly chosen buffer item and
    put the next input in its place; when the input ends, emit the rest in random order."""
    buffer, out = [], []
    chunk = _SHUFFLE_CHUNK if indices else 1  # elements go out one by one, to stay lazy
    draws = iter(())
    for run in runs:
        for item in run:
            if len(buffer) < buffer_size:
                buffer.append(item)
                continue
            position = next(draws, None)
            if position is None:  # draw positions in blocks: the buffer is full, so [0, size)
                draws = iter(rng.integers(buffer_size, size=_SHUFFLE_CHUNK).tolist())
                position = next(draws)
            out.append(buffer[position])
            buffer[position] = item
            if len(out) == chunk:
                yield np.array(out, dtype=np.int64) if indices else out
                out = []
    out.extend(_reorder(buffer, rng.permutation(len(buffer)), indices=False))
    if out:
        yield np.array(out, dtype=np.int64) if indices else out


# ----- structures: arrays inside tuples and dicts ----------------------------------------------


def _map_structure(fn, structure):
    """``structure`` with ``fn`` applied to every leaf (anything but a tuple or a dict)."""
    if isinstance(structure, dict):
        return {key: _map_structure(fn, value) for key, value in structure.items()}
    if isinstance(structure, tuple):
        items = [_map_structure(fn, value) for value in structure]
        return type(structure)(*items) if hasattr(structure, "_fields") else tuple(items)
    return fn(structure)


def _flatten(structure, path=""):
    """[(path, leaf)], paths written as indexing: '[0]', "['image']"."""
    if isinstance(structure, dict):
        return [
            pair for key, value in structure.items() for pair in _flatten(value, f"{path}[{key!r}]")
        ]
    if isinstance(structure, tuple):
        return [
            pair for i, value in enumerate(structure) for pair in _flatten(value, f"{path}[{i}]")
        ]
    return [(path, structure)]


def _name(path):
    return f"component{path}" if path else "the array"


def _as_element(value):
    """A map function's result as an element: lists become tuples, leaves become arrays."""
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return tuple(_as_element(item) for item in value)
    if isinstance(value, (dict, tuple)):
        return _map_structure(_as_element, value)
    return as_array(value, text=True)


def _stack(elements):
    """Elements (equal structures of equal-shape arrays) stacked along a new axis 0."""
    flat = [_flatten(element) for element in elements]
    paths = [path for path, _ in flat[0]]
    for other in flat[1:]:
        if [path for path, _ in other] != paths:
            raise ValueError(
                f"Dataset.batch: the elements of a batch differ in structure: components "
                f"{paths} and {[path for path, _ in other]}. Make the map function return the "
                f"same structure for every element."
            )
    columns = []
    for i, path in enumerate(paths):
        leaves = [leaves_of[i][1] for leaves_of in flat]
        shapes = {np.shape(leaf) for leaf in leaves}
        if len(shapes) > 1:
            raise ValueError(
                f"Dataset.batch: the elements of a batch have different shapes for "
                f"{_name(path)}: {sorted(shapes)}. Batch only elements of one shape (resize "
                f"or pad them in a map first)."
            )
        columns.append(np.stack(leaves))
    columns = iter(columns)
    return _map_structure(lambda _: next(columns), elements[0])


def _check_count(method, argument, value, minimum=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"Dataset.{method}: {argument} must be an integer; got {type(value).__name__} "
            f"({value!r})."
        )
    if minimum is not None and value < minimum:
        raise ValueError(f"Dataset.{method}: {argument} must be at least {minimum}; got {value}.")
