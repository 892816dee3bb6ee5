"""Models written in other formats, for serving: ONNX (``model.export(path, format="onnx")``).

Each format registers its writer under ``keras.export`` in :mod:`chainrule.keras.registry`,
where ``Model.export`` finds it by the format's name.
"""

from ..registry import register_names
from .onnx_export import UnsupportedLayerError, export_onnx

FORMATS = {"onnx": export_onnx}
register_names("keras.export", FORMATS)
