"""Saving and loading in Keras 3's formats: ``.keras`` models and ``.weights.h5`` weights.

``model.save("m.keras")`` and :func:`load_model` exchange whole models with Keras 3 (both ways);
``model.save_weights`` / ``model.load_weights`` the weights and optimizer state; ``to_json`` and
:func:`model_from_json` the architecture. Files are written atomically, and reading one builds
only chainrule's own classes: see :mod:`.keras_file` and :mod:`.serialization`.
"""

from ..object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from .atomic import atomic_write
from .keras_file import load_model, load_weights, model_from_json, save_model, save_weights
from .serialization import (
    LAYERS,
    FileFormatError,
    deserialize_keras_object,
    serialize_keras_object,
)
