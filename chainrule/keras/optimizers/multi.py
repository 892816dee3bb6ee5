"""MultiOptimizer and OptimizerMap: a different optimizer for different variables, as in Keras 3."""

import re
from collections.abc import MutableMapping

from ...engine import Tensor
from .base import Optimizer
from .loss_scale import LossScaleOptimizer
from .nested import deserialize, serialize


class OptimizerMap(MutableMapping):
    """Which optimizer updates which variable, by the variable's path.

    ``optimizer_map`` maps patterns to optimizers; a variable takes the optimizer of the key
    equal to its path, else of the one key that matches its whole path as a regular expression
    (``re.fullmatch``), else ``default_optimizer``. Called with a variable, the map returns its
    optimizer.

    Args:
        default_optimizer: the Optimizer of the variables no key matches.
        optimizer_map: ``{pattern: Optimizer}``, default empty.

    Raises:
        TypeError: a default that is not an Optimizer, or a map that is not a dict.
        ValueError: (on lookup) a path that several patterns match; (on ``map[key] = ...``) a
            key already present, a key that is not a string, or a value that is not an Optimizer
            or is a LossScaleOptimizer or MultiOptimizer.
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(
                f"OptimizerMap: default_optimizer must be an Optimizer; got {default_optimizer!r}"
            )
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(
                f"OptimizerMap: optimizer_map must be a dict {{pattern: optimizer}}; got "
                f"{optimizer_map!r}"
            )
        self._default_optimizer = default_optimizer
        self._optimizer_map = optimizer_map or {}

    @property
    def default_optimizer(self):
        return self._default_optimizer

    def __getitem__(self, key):
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matches = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(
                f"OptimizerMap: several optimizers are assigned to variable {key!r} (patterns "
                f"{matches}); make the patterns exclusive."
            )
        return self._optimizer_map[matches[0]] if matches else self._default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self._optimizer_map:
            raise ValueError(
                f"OptimizerMap: {key!r} already maps to {self._optimizer_map[key]!r}; keys must "
                f"not repeat."
            )
        if not isinstance(key, str):
            raise ValueError(f"OptimizerMap: a key must be a string; got {key!r}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"OptimizerMap: a value must be an Optimizer; got {optimizer!r}")
        if isinstance(optimizer, (LossScaleOptimizer, MultiOptimizer)):
            raise ValueError(
                f"OptimizerMap: a value cannot be a {type(optimizer).__name__}; wrap the "
                f"MultiOptimizer instead."
            )
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self._optimizer_map[key]

    def __len__(self):
        return len(self._optimizer_map)

    def __iter__(self):
        return iter(self._optimizer_map)

    def __call__(self, variable):
        """The optimizer of ``variable`` (looked up by its path)."""
        return self[getattr(variable, "path", None) or variable.name]

    def get_config(self):
        return {
            "default_optimizer": serialize(self._default_optimizer),
            "optimizer_map": {key: serialize(opt) for key, opt in self._optimizer_map.items()},
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The map described by ``config``; its optimizers are rebuilt first."""
        default = deserialize(config["default_optimizer"], custom_objects)
        mapping = {
            key: deserialize(value, custom_objects)
            for key, value in (config.get("optimizer_map") or {}).items()
        }
        return cls(default, mapping)


class MultiOptimizer(Optimizer):
    """Several optimizers, each updating its own variables, stepping together.

    ``optimizer_map(variable)`` (an :class:`OptimizerMap`, or any callable of a variable)
    names each variable's optimizer when the MultiOptimizer is built; each :meth:`apply` hands
    every optimizer its variables and their gradients (divided by ``loss_scale_factor`` when it
    is set, the loss having been multiplied by it in :meth:`scale_loss`), and counts one step.
    There is no learning rate of its own: set those of the inner optimizers.

    Args:
        optimizer_map: an OptimizerMap or a callable ``variable -> Optimizer``.
        loss_scale_factor: a fixed loss scale, default None.  name: default "multi_optimizer".

    Raises:
        TypeError: ``optimizer_map`` is not callable.
        ValueError: (on build) a variable mapped to something not an Optimizer, or to a
            LossScaleOptimizer or MultiOptimizer; (on apply) not one gradient per variable.
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        if not callable(optimizer_map):
            raise TypeError(
                f"MultiOptimizer: optimizer_map must be an OptimizerMap or a callable "
                f"variable -> optimizer; got {optimizer_map!r}"
            )
        super().__init__(learning_rate=0.0, name=name)
        self._optimizer_map = optimizer_map
        self.loss_scale_factor = loss_scale_factor
        self._inner_optimizers = []
        self._assignment = {}  # id(variable) -> index of its optimizer
        for optimizer in (
            *getattr(optimizer_map, "values", tuple)(),
            getattr(optimizer_map, "default_optimizer", None),
        ):
            if optimizer is not None:
                self._add(optimizer)

    def _add(self, optimizer):
        """The index of ``optimizer`` among the inner optimizers (appended if new)."""
        for index, known in enumerate(self._inner_optimizers):
            if known is optimizer:
                return index
        self._inner_optimizers.append(optimizer)
        return len(self._inner_optimizers) - 1

    @property
    def optimizers(self):
        """The inner optimizers, in the order they were met."""
        return self._inner_optimizers

    @property
    def learning_rate(self):
        raise AttributeError(
            "A MultiOptimizer has no learning rate of its own: read the learning rates of the "
            "inner optimizers (MultiOptimizer.optimizers)."
        )

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError(
            "A MultiOptimizer has no learning rate of its own: set the learning rates of the "
            "inner optimizers (MultiOptimizer.optimizers)."
        )

    @property
    def variables(self):
        """Its own variables (its step count, and a learning rate kept at 0), then each inner
        optimizer's, in the order of :attr:`optimizers`, as Keras lists them."""
        return self._variables + [v for optimizer in self.optimizers for v in optimizer.variables]

    def build(self, variables):
        groups = {}
        for variable in variables:
            optimizer = self._optimizer_map(variable)
            where = f"MultiOptimizer: the optimizer of variable {variable.path!r}"
            if not isinstance(optimizer, Optimizer):
                raise ValueError(f"{where} is not an Optimizer: {optimizer!r}")
            if isinstance(optimizer, (LossScaleOptimizer, MultiOptimizer)):
                raise ValueError(
                    f"{where} is a {type(optimizer).__name__}, which cannot be used inside a "
                    f"MultiOptimizer."
                )
            index = self._add(optimizer)
            self._assignment[id(variable)] = index
            groups.setdefault(index, []).append(variable)
        for index, group in sorted(groups.items()):
            self._inner_optimizers[index].build(group)
        self._trainable_variables = list(variables)
        super().build(variables)

    def finalize_variable_values(self, var_list):
        """Each inner optimizer's :meth:`~Optimizer.finalize_variable_values` on its own
        variables of ``var_list``."""
        groups = {}
        for variable in var_list:
            index = self._assignment.get(id(variable))
            if index is not None:
                groups.setdefault(index, []).append(variable)
        for index, group in sorted(groups.items()):
            self._inner_optimizers[index].finalize_variable_values(group)

    def apply(self, grads, trainable_variables=None):
        """One step of every inner optimizer on its own variables.

        Raises:
            ValueError: not one gradient per variable, a variable it was not built with, or no
                variables before the first build.
        """
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "MultiOptimizer: to apply gradients without their variables, build the "
                    "optimizer first with optimizer.build(trainable_variables)."
                )
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        if len(grads) != len(self._assignment):
            raise ValueError(
                f"MultiOptimizer: gradients must match the trainable variables one to one; got "
                f"{len(grads)} gradients for {len(self._assignment)} variables."
            )
        if self.loss_scale_factor is not None:
            grads = [
                None
                if g is None
                else (g.data if isinstance(g, Tensor) else g) / self.loss_scale_factor
                for g in grads
            ]
        shares = {}
        for g, v in zip(grads, trainable_variables):
            if id(v) not in self._assignment:
                raise ValueError(
                    f"MultiOptimizer: variable {getattr(v, 'path', None) or v.name!r} was not "
                    f"among the variables it was built with; create a new MultiOptimizer to "
                    f"train other variables."
                )
            share = shares.setdefault(self._assignment[id(v)], ([], []))
            share[0].append(g)
            share[1].append(v)
        for index, (sub_grads, sub_variables) in sorted(shares.items()):
            optimizer = self._inner_optimizers[index]
            optimizer.update_loop = self.update_loop
            optimizer.apply(sub_grads, sub_variables)
        self._count_step()

    def get_config(self):
        if not hasattr(self._optimizer_map, "get_config"):
            raise TypeError(
                f"MultiOptimizer: its optimizer_map {self._optimizer_map!r} has no config; use "
                f"an OptimizerMap to save it."
            )
        return {
            "optimizer_map": serialize(self._optimizer_map),
            "loss_scale_factor": self.loss_scale_factor,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The optimizer described by ``config``; its map is rebuilt first."""
        config = dict(config)
        config["optimizer_map"] = deserialize(config["optimizer_map"], custom_objects)
        return cls(**config)
