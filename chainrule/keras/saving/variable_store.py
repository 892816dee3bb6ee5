"""The ``store`` that a layer's ``save_own_variables`` and ``load_own_variables`` receive.

As in Keras 3, it maps names to arrays: ``"0"``, ``"1"``, ... for the layer's own weights (see
``Layer.save_own_variables``) and any other names a layer stores state under. It stands for the
layer's ``vars`` group of the weights file, ``layers/<key>/vars``.
"""

from collections.abc import Mapping

import numpy as np

from .reading import h5_dataset


class VariableStore(Mapping):
    """The arrays of one layer's ``vars`` group: ``store[name]`` reads one (checked as every
    weight is, :func:`.reading.h5_dataset`, and read whole as a NumPy array); while a file is
    written, ``store[name] = value`` writes one (a variable or tensor as its values).

    Args:
        group: the HDF5 group, or None for a layer with nothing stored (an empty store).
        where: what the store belongs to, for errors (``"layer 'dense' (Dense)"``).
    """

    def __init__(self, group, where):
        self.group, self.where = group, where

    def __getitem__(self, name):
        if self.group is None or name not in self.group:
            raise KeyError(
                f"{self.where} has no stored variable {name!r}; it has {sorted(self)[:10]}"
            )
        return h5_dataset(self.group, name, self.where)[()]

    def __iter__(self):
        return iter(() if self.group is None else list(self.group))

    def __len__(self):
        return 0 if self.group is None else len(self.group)

    def __setitem__(self, name, value):
        array = value.numpy() if callable(getattr(value, "numpy", None)) else np.asarray(value)
        self.group.create_dataset(name, data=array)
