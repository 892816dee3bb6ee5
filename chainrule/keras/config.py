"""The settings Keras keeps for a session: the default float dtype (``floatx``), the fuzz
factor ``epsilon`` and the default image layout, with their setters (``keras.config`` and
``keras.backend`` give the same functions).

Everything that has a default reads it here when it runs: layers, variables and initializers
their dtype, keras.ops the dtype of Python floats, losses, metrics and constraints their ε,
convolution and pooling layers their ``data_format``.
"""

FLOAT_TYPES = ("float16", "float32", "float64")
DATA_FORMATS = ("channels_first", "channels_last")

_settings = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last"}


def floatx():
    """The default float dtype, as a string (``"float32"`` unless :func:`set_floatx` changed it)."""
    return _settings["floatx"]


def set_floatx(value):
    """Make ``value`` (``"float16"``, ``"float32"`` or ``"float64"``) the default float dtype:
    of the layers and variables made afterwards, of initializers called without a dtype, and of
    Python floats given to keras.ops.

    Raises:
        ValueError: any other value (``"bfloat16"`` too: NumPy has no such type).
    """
    if value == "bfloat16":
        raise ValueError("set_floatx: chainrule computes with NumPy, which has no bfloat16.")
    if value not in FLOAT_TYPES:
        raise ValueError(
            f"set_floatx: unknown `floatx` value {value!r}; expected one of {FLOAT_TYPES}."
        )
    _settings["floatx"] = str(value)


def epsilon():
    """The fuzz factor ε added to denominators and used to clip probabilities (1e-7)."""
    return _settings["epsilon"]


def set_epsilon(value):
    """Make ``value`` (a float) the fuzz factor returned by :func:`epsilon`."""
    _settings["epsilon"] = value


def image_data_format():
    """Where images keep their channels by default: ``"channels_last"`` (N, H, W, C) or
    ``"channels_first"`` (N, C, H, W)."""
    return _settings["image_data_format"]


def set_image_data_format(data_format):
    """Set the default image layout, ``"channels_first"`` or ``"channels_last"`` (any case).

    Raises:
        ValueError: any other value.
    """
    data_format = str(data_format).lower()
    if data_format not in DATA_FORMATS:
        raise ValueError(
            f"set_image_data_format: `data_format` must be one of {DATA_FORMATS}; received "
            f"data_format={data_format!r}."
        )
    _settings["image_data_format"] = data_format
