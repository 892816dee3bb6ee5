"""The Metric contract of Keras 3, and the reductions every running metric is built from.

A metric keeps its state in non-trainable variables made by ``add_variable``; ``update_state``
adds a batch to them, ``result`` reads the value, ``reset_state`` sets them back to zero. Metrics
need no gradients, so they compute on plain arrays and only their results are Tensors.
"""

import numpy as np

from ...backend import asnumpy
from ...engine import Tensor
from ..losses import get_keras_mask
from ..naming import snake_case
from ..variables import Variable, add_state_variable


def as_array(x, dtype=None):
    """``x`` (a Tensor, an array, a Python scalar or list) as a NumPy array."""
    if isinstance(x, Tensor):
        x = x.data
    if type(x) is not np.ndarray:
        x = asnumpy(x)  # also a GPU array's values, on the host
    return x if dtype is None else x.astype(dtype, copy=False)


def as_result(value):
    """A metric's value as a float32 Tensor, as Keras returns it."""
    return Tensor(np.asarray(value, dtype=np.float32))


def divide_no_nan(a, b):
    """a / b elementwise (float64), with 0 where b is 0."""
    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    return np.divide(a, b, out=np.zeros(a.shape), where=b != 0)


def same_rank(x1, x2, expand_rank_1=True):
    """Keras's rule for two arrays whose ranks differ by one: the larger one loses a trailing
    axis of size 1, or, when the other has rank 1 and ``expand_rank_1``, that one gains it."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            return x1, x2[..., None]
        return x1[..., 0], x2
    if x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            return x1[..., None], x2
        return x1, x2[..., 0]
    return x1, x2


class Metric:
    """A stateful metric: the base class of every metric, and of your own.

    A subclass calls ``super().__init__(name=..., dtype=...)`` first, then creates its state
    with :meth:`add_variable`, and defines ``update_state(*args, sample_weight=None)`` (add a
    batch to the state) and ``result()`` (the value so far). ``reset_state()`` sets every
    variable to zeros; override it when zero is not the start.

    Args:
        dtype: the dtype of the results (default ``"float32"``).
        name: the metric's name; by default the class name in snake_case
            (``CategoricalTruePositives`` -> ``"categorical_true_positives"``).

    Example::

        class Total(keras.metrics.Metric):
            def __init__(self, name="total", **kwargs):
                super().__init__(name=name, **kwargs)
                self.total = self.add_variable(shape=(), initializer="zeros", name="total")

            def update_state(self, values, sample_weight=None):
                self.total.assign_add(keras.ops.sum(values))

            def result(self):
                return self.total
    """

    def __init__(self, dtype=None, name=None):
        self.name = name or snake_case(type(self).__name__)
        self._dtype = "int32" if dtype == "int" else np.dtype(dtype or "float32").name
        self._variables = []
        self._metrics = []

    @property
    def dtype(self):
        """The dtype name of the results, such as ``"float32"``."""
        return self._dtype

    @property
    def variables(self):
        """The state variables: this metric's, then those of the metrics it holds."""
        variables = list(self._variables)
        for metric in self._metrics:
            variables.extend(metric.variables)
        return variables

    def __setattr__(self, name, value):
        tracked = self.__dict__.get("_variables")
        if tracked is not None:
            if isinstance(value, Variable) and not any(v is value for v in tracked):
                tracked.append(value)
            elif isinstance(value, Metric) and value is not self:
                self._metrics.append(value)
        super().__setattr__(name, value)

    def _check_super_called(self):
        if "_variables" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: call `super().__init__()` at the start of `__init__()` "
                f"before adding variables or using the metric."
            )

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """A non-trainable state variable of ``shape``, set by ``initializer`` (a name such as
        ``"zeros"``, an initializer or a value), tracked in :attr:`variables`.

        ``dtype`` defaults to float32; ``aggregation`` is accepted as Keras accepts it (one
        device here, so nothing is aggregated).
        """
        self._check_super_called()
        return add_state_variable(self, initializer, shape, dtype, aggregation, name)

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        """The older name of :meth:`add_variable`."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    def reset_state(self):
        """Set every state variable to zeros (called between epochs)."""
        for variable in self.variables:
            variable.assign(np.zeros(variable.shape, variable.dtype))

    def update_state(self, *args, **kwargs):
        """Add a batch to the state."""
        raise NotImplementedError(f"{type(self).__name__} must define update_state().")

    def _direct_update(self, weighted=False):
        """What a training step's ``update_state(y_true, y_pred)`` does with a batch of one
        output without sample weights (``sample_weight=None`` given to a ``weighted`` metric),
        as a function of the arrays y_true and y_pred: ``fit``'s direct step calls it. This one
        passes y_true on as a Tensor, as the step does."""
        update = self.update_state
        if weighted:
            return lambda y_true, y_pred: update(Tensor(y_true), y_pred, sample_weight=None)
        return lambda y_true, y_pred: update(Tensor(y_true), y_pred)

    def result(self):
        """The metric's value so far, from the state."""
        raise NotImplementedError(f"{type(self).__name__} must define result().")

    def result_value(self):
        """The result as a Python float, or an array for a metric of several values: what
        ``fit`` puts in its logs."""
        result = self.result()
        result = result.numpy() if isinstance(result, Tensor) else np.asarray(result)
        return float(result) if result.ndim == 0 else np.asarray(result)

    def __call__(self, *args, **kwargs):
        """``update_state(*args, **kwargs)``, then ``result()``: the value with this batch
        added to the state."""
        self._check_super_called()
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        """The constructor arguments that rebuild this metric: ``{"name", "dtype", ...}``."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        """The metric that ``get_config`` described: ``cls(**config)``."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def masked_weight(sample_weight, mask):
    """The weights times the mask of the predictions (Keras 3 applies a mask so): w * m, or m
    alone (0/1) when there are no weights; ``sample_weight`` as it is when there is no mask."""
    if mask is None:
        return sample_weight
    weight = as_array(mask, np.float64)
    if sample_weight is None:
        return weight
    weight, sample_weight = same_rank(weight, as_array(sample_weight, np.float64))
    return sample_weight * weight


def reduce_to_samplewise(values, sample_weight, reduce):
    """Keras's reduction of a batch of values (and weights) to one value per sample.

    The weights lose or gain a trailing axis of 1 to match the values (:func:`same_rank`); the
    values are reduced with ``reduce`` (a mean or a sum) over the axes the weights lack, then
    multiplied by the weights; weights of rank > 1 are reduced with ``reduce`` to one per
    sample; finally values of rank > 1 are reduced to one per sample.

    Returns:
        (values, weights): float64 arrays; weights is None when ``sample_weight`` is.
    """
    values = as_array(values, np.float64)
    if sample_weight is not None:
        weight = as_array(sample_weight, np.float64)
        values, weight = same_rank(values, weight)
        if values.ndim > weight.ndim:
            values = reduce(values, axis=tuple(range(weight.ndim, values.ndim)))
        try:
            weight = np.broadcast_to(weight, values.shape)
        except ValueError:
            raise ValueError(
                f"sample_weight of shape {weight.shape} does not broadcast to the values of "
                f"shape {values.shape}: pass one weight per sample, or one per value."
            ) from None
        values = values * weight
        if weight.ndim > 1:
            weight = reduce(weight, axis=tuple(range(1, weight.ndim)))
        sample_weight = weight
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values seen: total = Σ w v.

    ``update_state(values, sample_weight=None)``: values of any shape; weights broadcast to them.
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="total"
        )

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise(values, sample_weight, np.sum)
        self.total.assign_add(values.sum())

    def result(self):
        return as_result(self.total.numpy())


def _accumulate(variable, amount):
    """``variable.assign_add(amount)`` for a number the metric computed itself (a Python int or
    float, a NumPy scalar), without the checks of ``assign_add``: the metrics of ``fit`` add
    to their state on every step. The sums are the same: a Python float is made float32 first,
    as ``assign_add`` makes it, and an integer is exact in any state dtype."""
    if type(amount) is float:
        amount = np.float32(amount)
    variable.data[()] += amount  # on a 0-d state, scalar arithmetic: a fifth of a ufunc call's time


class Mean(Metric):
    """The (weighted) mean of the values seen: Σ w v / Σ w (Σ v / n without weights, n the
    number of samples: the first axis), 0 before any update.

    ``update_state(values, sample_weight=None)``: each sample's values are first averaged to one
    value (see :func:`reduce_to_samplewise`).
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="total"
        )
        self.count = self.add_variable(
            shape=(), initializer="zeros", dtype=self.dtype, name="count"
        )

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise(values, sample_weight, np.mean)
        _accumulate(self.total, values.sum())
        if sample_weight is not None:
            _accumulate(self.count, sample_weight.sum())
        else:
            _accumulate(self.count, values.shape[0] if values.ndim else 1)

    def add(self, value, weight):
        """Add one value (a number or a one-element array) with its weight: what
        ``update_state(value, sample_weight=weight)`` does for a batch's mean, more directly."""
        _accumulate(self.total, float(value) * weight)
        _accumulate(self.count, weight)

    def result(self):
        return as_result(self.result_value())

    def result_value(self):
        count = float(self.count.data)
        return float(self.total.data) / count if count else 0.0


class MeanMetricWrapper(Mean):
    """The running (weighted) mean of a per-sample function ``fn(y_true, y_pred, **kwargs)``.

    ``update_state(y_true, y_pred, sample_weight=None)`` computes ``fn`` on the batch and adds
    its values to the mean as :class:`Mean` does.

    Args:
        fn: the function; its extra keyword arguments are ``kwargs``.
        name: default ``"mean_metric_wrapper"``.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or snake_case(type(self).__name__), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = get_keras_mask(y_pred)
        hit_test = HIT_TESTS.get(self._fn)
        if hit_test is None:
            values = self._fn(y_true, y_pred, **self._fn_kwargs)
        else:  # fn is as_result(hit_test(...)): its 0/1 values are the hits
            values = hit_test(as_array(y_true), as_array(y_pred), **self._fn_kwargs)
            if values.ndim == 1 and mask is None and sample_weight is None:
                self._add_hits(values)
                return
        if mask is not None:
            sample_weight = masked_weight(sample_weight, mask)
        super().update_state(values, sample_weight=sample_weight)

    def _add_hits(self, hits):
        """Add one unweighted value per sample, 0 or 1, given as a boolean array: the hits
        counted, the sum of the 0/1 values exactly, in a sixth of the float64 sum's time."""
        _accumulate(self.total, np.count_nonzero(hits))
        _accumulate(self.count, hits.shape[0])

    def _direct_update(self, weighted=False):
        """For a hit test (an accuracy), its hits counted straight from the arrays; see
        :meth:`Metric._direct_update`. (A prediction from a replayed step carries no mask.)"""
        hit_test = HIT_TESTS.get(self._fn)
        if hit_test is None or type(self).update_state is not MeanMetricWrapper.update_state:
            return super()._direct_update(weighted)
        kwargs, general = self._fn_kwargs, super()._direct_update(weighted)

        def update(y_true, y_pred):
            hits = hit_test(y_true, y_pred, **kwargs)
            if hits.ndim == 1:
                self._add_hits(hits)
            else:  # several values per sample: averaged per sample first
                general(y_true, y_pred)

        return update

    def get_config(self):
        config = {**super().get_config(), "fn": self._fn}
        return {**config, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("fn"), str):
            from_names = NAMED_FUNCTIONS.get(config["fn"])
            if from_names is None:
                raise ValueError(
                    f"MeanMetricWrapper.from_config: unknown function {config['fn']!r}; pass the "
                    f"function itself, or one of {sorted(NAMED_FUNCTIONS)}."
                )
            config["fn"] = from_names
        return cls(**config)


NAMED_FUNCTIONS = {}  # name -> metric function, as files and configs write them; filled by the package

# A per-sample function that is as_result(test(y_true arrays, y_pred arrays, **kwargs)) for a
# boolean test (the accuracies) -> that test: a MeanMetricWrapper of it counts the hits of a
# batch instead of making and summing a float Tensor of them (filled by the modules defining
# such functions).
HIT_TESTS = {}


class WrapperWithConfig(MeanMetricWrapper):
    """A named metric around one function: its config is its name, dtype and the arguments
    listed in ``_config_keys`` (not the function); ``_direction`` says whether higher ("up") or
    lower ("down") is better, for callbacks that monitor it."""

    _config_keys = ()
    _direction = "down"

    def get_config(self):
        config = Metric.get_config(self)
        return {**config, **{key: self._fn_kwargs[key] for key in self._config_keys}}


def wrapper_class(class_name, fn, default_name, direction, doc, **defaults):
    """A :class:`WrapperWithConfig` class around ``fn``: ``Class(name=default_name, dtype=None,
    **defaults)``, whose keyword arguments (with Keras's defaults ``defaults``) are passed to
    ``fn`` and written in the config."""

    def __init__(self, name=default_name, dtype=None, **kwargs):
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(
                f"{class_name}() got unexpected arguments {sorted(unknown)}; it takes name, "
                f"dtype{''.join(', ' + key for key in defaults)}."
            )
        arguments = {**defaults, **kwargs}
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **arguments)
        for key, value in arguments.items():  # metric.threshold, metric.from_logits, ...
            setattr(self, key, value)

    return type(
        class_name,
        (WrapperWithConfig,),
        {
            "__init__": __init__,
            "__doc__": doc,
            "_config_keys": tuple(defaults),
            "_direction": direction,
            "__module__": __name__.rsplit(".", 1)[0],
        },
    )
