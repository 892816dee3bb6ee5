"""Record the public names of Keras 3, module by module, into ``keras3_names.json``.

Run with a real Keras 3 installed (any backend), e.g.
``KERAS_BACKEND=jax python docs/keras_api/record.py``. The recorded list is committed, so that
the compatibility checks and pages need no Keras.
"""

import json
import sys
from pathlib import Path

import keras

MODULES = [
    "keras",
    "keras.activations",
    "keras.backend",
    "keras.callbacks",
    "keras.constraints",
    "keras.initializers",
    "keras.layers",
    "keras.losses",
    "keras.metrics",
    "keras.models",
    "keras.ops",
    "keras.ops.image",
    "keras.ops.linalg",
    "keras.ops.nn",
    "keras.ops.numpy",
    "keras.optimizers",
    "keras.optimizers.schedules",
    "keras.preprocessing",
    "keras.preprocessing.image",
    "keras.preprocessing.sequence",
    "keras.random",
    "keras.regularizers",
    "keras.saving",
    "keras.utils",
]


def public_names(module):
    """The names a user reaches as ``module.<name>``, submodules excluded."""
    names = []
    for name in dir(module):
        if name.startswith("_"):
            continue
        if type(getattr(module, name)).__name__ == "module":
            continue
        names.append(name)
    return sorted(names)


def main():
    table = {}
    for dotted in MODULES:
        module = keras
        for part in dotted.split(".")[1:]:
            module = getattr(module, part)
        table[dotted] = public_names(module)
    out = Path(__file__).with_name("keras3_names.json")
    record = {"keras_version": keras.__version__, "modules": table}
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(
        f"{out}: {sum(map(len, table.values()))} names from Keras {keras.__version__}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
