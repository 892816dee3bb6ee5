"""What ``compile`` makes of its ``loss``, ``loss_weights``, ``metrics`` and ``weighted_metrics``
for a model with one output or several, as Keras 3 does.

A model's outputs are a structure: one Tensor, a list, or a dict. Each output k has a name n_k
(the name of the layer that computes it, for a functional model; the dict key for dict outputs)
and gets its own loss L_k, weight w_k, metrics and targets y_k (and sample weights s_k):

    loss = sum_k w_k * L_k(y_k, y_pred_k, s_k)            (w_k = 1 when not given)

:class:`CompileLoss` computes that sum and, with two losses or more, reports each unweighted L_k
as ``"<n_k>_loss"``; :class:`CompileMetrics` is the one metric ``"compile_metrics"`` whose result
is a dict of every compiled metric, named ``"<n_k>_<metric>"`` when there are several outputs.
Both resolve their arguments on the first batch, when the outputs' shapes are known (``"accuracy"``
is chosen from them).
"""

from ... import nest
from ...engine import Tensor
from .. import losses as losses_module
from .. import metrics as metrics_module


def output_names(model):
    """The names of a model's outputs, in the order its outputs flatten: the names of the
    layers that compute them (for a model built from inputs and outputs, or a Sequential model
    with an input shape), else None."""
    try:
        outputs = model.outputs  # a Sequential model without an input shape yet has none
    except AttributeError:
        return None
    if not isinstance(outputs, (list, tuple)) or not outputs:
        return None
    names = []
    for tensor in outputs:
        layer = getattr(getattr(tensor, "node", None), "layer", None)
        names.append(getattr(layer, "name", None) or getattr(tensor, "name", None))
    return names


def _resolve_outputs(y_pred, names):
    """(names, flat outputs) of ``y_pred``. A dict's keys name its outputs, in the order of
    ``names`` when they are the same set, else sorted; other outputs flatten in order and take
    ``names`` (None when unknown or of another length)."""
    if isinstance(y_pred, dict) and not any(nest.is_nested(v) for v in y_pred.values()):
        keys = list(names) if names and set(names) == set(y_pred) else sorted(y_pred)
        return keys, [y_pred[key] for key in keys]
    flat = nest.flatten(y_pred)
    if names is None or len(names) != len(flat):
        names = None
    return names, flat


def _per_output(value, names, count, what):
    """``value`` (targets or sample weights) as one entry per output: a dict keyed by the output
    names, a list or tuple in output order, or one value (for one output; sample weights are
    repeated for every output)."""
    if isinstance(value, dict):
        if names is None:
            raise ValueError(
                f"{what} is a dict (keys {sorted(value)}), but the model's outputs have no "
                f"names: pass a list with one entry per output instead."
            )
        unknown = sorted(set(value) - set(names))
        if unknown:
            raise ValueError(
                f"{what} has keys {unknown} that name no output of the model; its outputs are "
                f"{list(names)}."
            )
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)) and (count > 1 or len(value) == 1):
        if len(value) != count:
            raise ValueError(
                f"{what} has {len(value)} entries, but the model has {count} outputs"
                + (f" ({list(names)})" if names else "")
                + ": pass one entry per output, or a dict keyed by the output names."
            )
        return list(value)
    if count == 1 or what == "sample_weight" or value is None:
        return [value] * count
    raise ValueError(
        f"The model has {count} outputs" + (f" ({list(names)})" if names else "") + f", but "
        f"{what} is one array: pass a list with one entry per output, or a dict keyed by the "
        f"output names."
    )


def _spread(spec, names, count, argument):
    """A ``loss`` or ``loss_weights`` argument as one entry per output: a list or tuple in
    output order, a dict keyed by output names (missing outputs get None), or one value for
    every output."""
    if isinstance(spec, dict):
        if names is None:
            raise ValueError(
                f"{argument} is a dict (keys {sorted(spec)}), but the model's outputs have no "
                f"names: pass a list with one entry per output instead."
            )
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(
                f"Expected keys {list(names)} in {argument} dict, but found keys "
                f"{list(spec)}: {unknown} name no output of the model."
            )
        return [spec.get(name) for name in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != count:
            raise ValueError(
                f"{argument} has {len(spec)} entries, but the model has {count} outputs"
                + (f" ({list(names)})" if names else "")
                + ": pass one entry per output (None for an output without a loss)."
            )
        return list(spec)
    return [spec] * count


class CompileLoss:
    """The compiled loss of a model with any number of outputs.

    Called as ``compile_loss(y, y_pred, sample_weight)`` it returns the scalar Tensor
    sum_k w_k L_k(y_k, y_pred_k, s_k) over the outputs that have a loss; ``values`` then holds
    the unweighted L_k, and with two losses or more each is added to its tracker in
    ``metrics`` (a ``Mean`` named ``"<output>_loss"``, weighted by the batch size), unless
    ``track`` is False (the training step then adds them itself, see ``track_values``).

    Args:
        loss: one loss for every output, a list with one per output, or a dict keyed by output
            names; None entries leave an output without a loss.
        loss_weights: None, one number, a list or a dict, as ``loss``.
        output_names: the outputs' names (see :func:`output_names`), or None.

    Raises:
        ValueError: ``loss_weights`` of another kind, unknown loss names (now), and on the first
            call, a list or dict that does not match the outputs.
    """

    def __init__(self, loss, loss_weights=None, output_names=None):
        if loss_weights is not None and not isinstance(
            loss_weights, (list, tuple, dict, float, int)
        ):
            raise ValueError(
                f"Expected `loss_weights` argument to be a float (single output case) or a "
                f"list, tuple, or dict (multiple output case). Received instead: "
                f"loss_weights={loss_weights!r} of type {type(loss_weights).__name__}"
            )
        self.loss = loss
        self.loss_weights = loss_weights
        self.output_names = output_names
        for identifier in nest.flatten(loss):  # fail now on unknown names, not mid-fit
            if identifier is not None:
                losses_module.as_loss_object(identifier)
        self.built = False
        self.metrics = []
        self.values = []
        self.track = True
        self._entries = []  # (output index, Loss, weight or None)

    def build(self, y, y_pred):
        """Match the losses and weights to the outputs of ``y_pred`` (and make the trackers)."""
        names, flat = _resolve_outputs(y_pred, self.output_names)
        self._names = names
        count = len(flat)
        losses = _spread(self.loss, names, count, "loss")
        weights = _spread(self.loss_weights, names, count, "loss_weights")
        self._entries = [
            (k, losses_module.as_loss_object(loss), weight)
            for k, (loss, weight) in enumerate(zip(losses, weights))
            if loss is not None
        ]
        if len(self._entries) > 1:
            self.metrics = [
                metrics_module.Mean(name=f"{names[k] if names else fn.name}_loss")
                for k, fn, _ in self._entries
            ]
        self.built = True

    def __call__(self, y, y_pred, sample_weight=None):
        if not self.built:
            self.build(y, y_pred)
        names, flat = _resolve_outputs(y_pred, self._names)
        ys = self._targets(y, names, len(flat))
        weights = _per_output(sample_weight, names, len(flat), "sample_weight")
        total, self.values = None, []
        for k, fn, weight in self._entries:
            if ys[k] is None:
                raise ValueError(
                    f"The output {names[k] if names else k!r} has a loss but no targets: "
                    f"give y an entry for it."
                )
            value = fn(ys[k], flat[k], weights[k])
            self.values.append(value)
            weighted = value if weight is None else value * float(weight)
            total = weighted if total is None else total + weighted
        if self.track:
            self.track_values(self.values, len(flat[0]))
        return total

    def _targets(self, y, names, count):
        """``y`` as one entry per output; a list (or one array) with an entry for each output
        that has a loss only, in output order, also does, as in Keras."""
        with_loss = [k for k, _, _ in self._entries]
        if count > 1 and len(with_loss) < count and not isinstance(y, dict):
            given = list(y) if isinstance(y, (list, tuple)) else [y]
            if len(given) == len(with_loss):
                spread = [None] * count
                for k, value in zip(with_loss, given):
                    spread[k] = value
                return spread
        return _per_output(y, names, count, "y")

    def track_values(self, values, batch_size):
        """Add each output's loss of one batch of ``batch_size`` samples to its tracker."""
        for tracker, value in zip(self.metrics, values):
            tracker.add(value.data if isinstance(value, Tensor) else value, batch_size)


def _metric_list(spec, y_true, y_pred):
    """The metrics one output gets from its entry in ``metrics``: one identifier or a list."""
    if spec is None:
        return None
    identifiers = spec if isinstance(spec, (list, tuple)) else [spec]
    return [metrics_module.get(identifier, y_true, y_pred) for identifier in identifiers]


class CompileMetrics(metrics_module.Metric):
    """The compiled ``metrics`` and ``weighted_metrics`` as one metric named
    ``"compile_metrics"``, whose result is the dict {name: value} of all of them.

    With one output every metric applies to it and keeps its own name; with several, the
    arguments are lists with one entry per output or dicts keyed by output names (an entry is
    one metric or a list of them), and each name is prefixed by its output's name,
    ``"<output>_<metric>"``. A weighted metric whose name is taken is ``"weighted_<metric>"``
    (prefixed in the same way); a name taken again gets ``"_1"``, ``"_2"``... Only the weighted
    metrics see the sample weights.

    Raises:
        ValueError: arguments that are not lists or dicts, unknown names (now), and on the first
            update, lists or dicts that do not match the outputs.
    """

    def __init__(self, metrics, weighted_metrics, output_names=None):
        super().__init__(name="compile_metrics")
        for argument, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value is not None and not isinstance(value, (list, tuple, dict)):
                raise ValueError(
                    f"Expected `{argument}` argument to be a list, tuple, or dict, e.g. "
                    f"{argument}=['accuracy']. Received instead: {argument}={value!r} of type "
                    f"{type(value).__name__}"
                )
            for identifier in nest.flatten(value):
                needs_outputs = (
                    isinstance(identifier, str)
                    and identifier.lower() in metrics_module.ACCURACY_NAMES
                )
                if identifier is not None and not needs_outputs:
                    metrics_module.get(identifier)  # fail now on unknown names, not mid-fit
        self._user_metrics = metrics
        self._user_weighted_metrics = weighted_metrics
        self.output_names = output_names
        self.built = False

    @property
    def metrics(self):
        """Every compiled metric (the weighted ones last); empty until built."""
        if not self.built:
            return []
        return [m for _, group in self._flat + self._flat_weighted for m in group or []]

    @property
    def variables(self):
        return [v for metric in self.metrics for v in metric.variables]

    def build(self, y_true, y_pred):
        """Resolve the metrics for the outputs of ``y_pred`` and the targets ``y_true``."""
        names, flat = _resolve_outputs(y_pred, self.output_names)
        self._names = names
        ys = _per_output(y_true, names, len(flat), "y")
        self._flat = self._build_set(self._user_metrics, names, ys, flat, "metrics")
        self._flat_weighted = self._build_set(
            self._user_weighted_metrics, names, ys, flat, "weighted_metrics"
        )
        self.built = True

    def _build_set(self, spec, names, ys, flat, argument):
        """[(output name or None, [Metric] or None)], one per output."""
        if not spec:
            return [(None, None)] * len(flat)
        if len(flat) == 1:
            return [(None, _metric_list(nest.flatten(spec), ys[0], flat[0]))]
        if isinstance(spec, (list, tuple)) and len(spec) != len(flat):
            raise ValueError(
                f"Invalid `{argument}`: the model has {len(flat)} outputs"
                + (f" ({list(names)})" if names else "")
                + f", so `{argument}` must be a list with one entry per output (a metric or a "
                f"list of metrics; None for none) or a dict keyed by output names. Received: "
                f"{argument}={spec!r}"
            )
        entries = _spread(spec, names, len(flat), argument)
        return [
            (names[k] if names else None, _metric_list(entry, ys[k], flat[k]))
            for k, entry in enumerate(entries)
        ]

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        nested = (list, tuple, dict)  # nest.is_nested, without three calls on every step
        if (
            isinstance(y_pred, nested)
            or isinstance(y_true, nested)
            or isinstance(sample_weight, nested)
        ):
            names, flat = _resolve_outputs(y_pred, self._names)
            ys = _per_output(y_true, names, len(flat), "y")
            weights = _per_output(sample_weight, names, len(flat), "sample_weight")
        else:  # one output: what the three lines above give, on every training step
            ys, flat, weights = [y_true], [y_pred], [sample_weight]
        for (_, group), y_t, y_p in zip(self._flat, ys, flat):
            for metric in group or []:
                metric.update_state(y_t, y_p)
        for (_, group), y_t, y_p, weight in zip(self._flat_weighted, ys, flat, weights):
            for metric in group or []:
                metric.update_state(y_t, y_p, sample_weight=weight)

    def _direct_updates(self, weighted_batch=False):
        """What :meth:`update_state` does with one output's batch without sample weights, once
        built: each metric's ``_direct_update()`` in its order, functions of the arrays
        ``(y_true, y_pred)``; None for a model of several outputs, or before the first update.
        ``fit``'s direct step calls them. For a batch with sample weights
        (``weighted_batch``), the same where no metric is weighted (the ``metrics`` of
        ``compile`` ignore sample weights, as Keras's do), else None."""
        if not self.built or len(self._flat) != 1:
            return None
        (_, group), (_, weighted) = self._flat[0], self._flat_weighted[0]
        if weighted_batch and weighted:
            return None
        return [metric._direct_update() for metric in group or []] + [
            metric._direct_update(weighted=True) for metric in weighted or []
        ]

    def reset_state(self):
        for metric in self.metrics:
            metric.reset_state()

    def result(self):
        """{name: result} of every compiled metric, named as the class docstring says."""
        if not self.built:
            raise ValueError("Cannot get result() since the metric has not yet been built.")
        results, counters = {}, {}

        def unique(name):
            if name not in counters:
                counters[name] = 1
                return name
            counters[name] += 1
            return f"{name}_{counters[name] - 1}"

        for prefix, group in self._flat:
            for metric in group or []:
                name = f"{prefix}_{metric.name}" if prefix else metric.name
                results[unique(name)] = metric.result()
        for prefix, group in self._flat_weighted:
            for metric in group or []:
                name = f"{prefix}_{metric.name}" if prefix else metric.name
                if name in counters:
                    weighted = f"weighted_{metric.name}"
                    name = unique(f"{prefix}_{weighted}" if prefix else weighted)
                else:
                    counters[name] = 1
                results[name] = metric.result()
        return results
