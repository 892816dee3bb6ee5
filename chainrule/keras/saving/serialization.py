"""Objects to and from Keras 3's configs, and the allow-list of what a file may build.

Keras 3 describes an object as

    {"module": "keras.layers", "class_name": "Dense", "config": {...}, "registered_name": None}

with ``"build_config": {"input_shape": [...]}`` added for a built layer and ``"compile_config"``
for a compiled model (what a class's own ``get_build_config``/``get_compile_config`` returns,
where it has them); Keras's activations are written by name, the user's functions as
``{"module": "builtins", "class_name": "function", "config": "package>name", ...}``, a layer's
dtype as a ``DTypePolicy``. :func:`serialize_keras_object` writes that form;
:func:`deserialize_keras_object` reads it back.

Reading builds only the classes registered in :mod:`chainrule.keras.registry` (the layers in
:data:`LAYERS`, the models, and the initializers, regularizers, constraints, optimizers,
schedules, losses, metrics and activations), plus the user's objects that are registered or
passed in ``custom_objects`` (or a custom-object scope). This module imports no layer or model:
each class registers itself and owns its config (``get_config``/``from_config``, and
``get_keras_config`` where Keras writes it differently). The ``module`` written in a file only
selects one of those tables: nothing is imported by name, and no code from a file is ever run.
"""

import contextlib
import contextvars
import inspect

import numpy as np

from .. import registry as keras_registry
from ..object_registration import custom_object_scope, find_by_bare_name, function_description


class FileFormatError(ValueError):
    """A saved model, weights file or config that chainrule cannot read: not the Keras format,
    damaged, or describing something chainrule does not build."""


# The layers and models a file may build, by Keras class name: the classes registered under
# ``keras.layers`` and ``keras.models`` as they are defined (see ``chainrule.keras.registry``).
LAYERS = keras_registry.classes_of("keras.layers")
MODELS = keras_registry.classes_of("keras.models")

# Arguments Keras writes that chainrule does not implement, with the value at which each changes
# nothing; such an entry is dropped, any other value of it is an error.
KERAS_ONLY = {
    "sparse": False,
    "ragged": False,
    "optional": False,
    "autocast": True,
    "quantization_config": None,
    "input_axes": None,
    "output_axes": None,
    "ignore_class": None,
    "synchronized": False,
    "renorm": False,
    "renorm_clipping": None,
}
# Arguments that only matter while another one is on: dropped when it is off.
KERAS_ONLY_WHEN = {"renorm_momentum": "renorm"}
DTYPE_POLICIES = ("DTypePolicy", "FloatDTypePolicy")
FLOAT_DTYPES = ("float16", "float32", "float64")  # what layers compute in
# what other objects (metrics that count, say) may hold
NUMERIC_DTYPES = FLOAT_DTYPES + ("int8", "int16", "int32", "int64", "uint8", "bool")


# The Keras modules whose classes a file may name, in the order a module-less description
# searches them; models are written with the module "keras".
MODULES = (
    "keras.layers",
    "keras.initializers",
    "keras.regularizers",
    "keras.constraints",
    "keras.optimizers",
    "keras.optimizers.schedules",
    "keras.losses",
    "keras.metrics",
)
# Functions are written by name; each name is looked up in its module's table.
FUNCTION_MODULES = ("keras.activations", "keras.losses", "keras.metrics")


def registry():
    """Keras module -> {class name: class}: every class that a file may build."""
    tables = {"keras": MODELS, "keras.models": MODELS}
    tables.update((module, keras_registry.classes_of(module)) for module in MODULES)
    return tables


def _function_tables():
    return [keras_registry.names_of(module) for module in FUNCTION_MODULES]


def is_model(obj):
    """Whether ``obj`` is a model (Sequential, functional or a subclass of ``Model``)."""
    return isinstance(obj, tuple(MODELS.values()))


def has_layer_list(obj):
    """Whether ``obj`` is a Sequential or functional model, whose ``layers`` list is its
    structure (Keras stores their weights under ``layers``, not under attribute names)."""
    kinds = tuple(MODELS[name] for name in ("Sequential", "Functional") if name in MODELS)
    return isinstance(obj, kinds)


def is_functional_config(config):
    """Whether a model's inner config describes a graph of layers (Keras's functional form)."""
    return isinstance(config, dict) and "input_layers" in config


def default_hook(method):
    """Mark a base class's saving hook (``get_build_config``, ``save_own_variables``...) as the
    default one, so that saving and loading can tell a class that defines its own."""
    method.default_hook = True
    return method


def overrides(obj, hook):
    """Whether ``obj``'s class defines its own saving ``hook`` (one not marked by
    :func:`default_hook`)."""
    method = getattr(type(obj), hook, None)
    return method is not None and not getattr(method, "default_hook", False)


# While a file is read, the loader's check of each layer's weights before it is built: a
# function (layer, input_shape) that raises FileFormatError (see ``keras_file``).
_BUILD_CHECKS = []


@contextlib.contextmanager
def build_check(check):
    """Run ``check(layer, input_shape)`` before each layer that a config describes is built,
    while the block runs (models call :func:`check_build`)."""
    _BUILD_CHECKS.append(check)
    try:
        yield
    finally:
        _BUILD_CHECKS.pop()


def check_build(layer, input_shape):
    """The open :func:`build_check`'s verdict on building ``layer`` for ``input_shape`` (none
    outside one, for a layer already built, or while weights are only planned: the planned
    layer is checked as a whole)."""
    if _BUILD_CHECKS and not layer.built and not planning_weights():
        _BUILD_CHECKS[-1](layer, input_shape)


# While the loader plans what a layer will create (see ``reading.planned_layer``), every
# ``Layer.add_weight`` in this thread and context returns a :class:`PlannedWeight` instead of a
# variable, in the layer and in every sublayer its construction or build makes.
_PLANNING = contextvars.ContextVar("planning_weights", default=False)


class PlannedWeight:
    """What ``add_weight`` returns while weights are planned: a shape, a dtype and whether it
    trains, and no values (nothing of its size is allocated)."""

    def __init__(self, shape, dtype, trainable, name):
        self.shape, self.dtype, self.trainable, self.name = shape, dtype, trainable, name


@contextlib.contextmanager
def weights_planned():
    """Within the block, layers record the weights they would create instead of creating them."""
    token = _PLANNING.set(True)
    try:
        yield
    finally:
        _PLANNING.reset(token)


def planning_weights():
    """Whether ``add_weight`` records :class:`PlannedWeight`s now (see :func:`weights_planned`)."""
    return _PLANNING.get()


# ----- writing ---------------------------------------------------------------------------------


def serialize_keras_object(obj):
    """Keras 3's JSON-ready description of ``obj``.

    Layers, optimizers, losses, metrics, initializers, regularizers, constraints and schedules
    become ``{"module", "class_name", "config", "registered_name"}`` (a model adds
    ``build_config`` and ``compile_config``: see :func:`model_config`); chainrule's activations
    and loss functions become their names, the user's functions Keras's ``"function"`` form;
    lists, dicts, NumPy scalars and dtypes become plain JSON values.

    Raises:
        TypeError: an object with no Keras description (no ``get_config``, not a function).
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.dtype):
        return obj.name
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(value) for value in obj]
    if isinstance(obj, dict):
        return _serialize_dict(obj)
    if is_model(obj):
        return model_config(obj)
    if hasattr(obj, "get_config"):
        return layer_config(obj)
    if callable(obj):
        return _function_form(obj)
    raise TypeError(
        f"Cannot serialize {obj!r} (type {type(obj).__name__}) in Keras's format: it has no "
        f"get_config() and is not a function."
    )


def _serialize_dict(config):
    """A config dict with its values serialized; chainrule's short ``{"class_name", "config"}``
    form (``initializers.serialize``...) gains Keras's ``module`` and ``registered_name``."""
    if "class_name" in config and "module" not in config:
        cls = _find_class(None, config["class_name"])
        if cls is not None:
            return _object_form(cls, serialize_keras_object(config.get("config", {})))
    return {key: serialize_keras_object(value) for key, value in config.items()}


def _object_form(cls, config):
    module, registered = _module_of(cls)
    return {
        "module": module,
        "class_name": keras_registry.public_name(cls),
        "config": config,
        "registered_name": registered,
    }


def _module_of(cls):
    """(module, registered_name) as Keras writes them: a built-in class's public module and no
    registered name, or a user class's Python module (None for the main script's) and the name
    it was registered under (``"package>Name"``, else its own name)."""
    for module, table in registry().items():
        if table.get(cls.__name__) is cls:
            return module, None
    # A Model subclass called as Model(inputs, outputs) is an instance of a class derived from
    # it that bears its name: the name it was registered under is the subclass's.
    registered = next(
        (
            keras_registry.custom_name(base)
            for base in cls.__mro__
            if base.__name__ == cls.__name__ and keras_registry.custom_name(base)
        ),
        None,
    )
    module = None if cls.__module__ == "__main__" else cls.__module__  # as Keras writes it
    return module, registered or cls.__name__


def _function_form(fn):
    """A chainrule function's name; a user function in Keras's ``"function"`` form, by its
    registered name (see ``keras.saving.register_keras_serializable``)."""
    for table in _function_tables():
        for name, value in table.items():
            if value is fn:
                return name
    return function_description(fn)


def dtype_policy(dtype):
    """Keras's description of a layer's dtype: a ``DTypePolicy`` named after it."""
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": np.dtype(dtype).name},
        "registered_name": None,
    }


def layer_config(obj, input_shape=None):
    """Keras's description of a layer (or of any object with a ``get_config()``): its config in
    Keras's form, which a class may give itself with ``get_keras_config()`` (a layer does: its
    dtype becomes a policy); ``input_shape`` (with the batch axis) adds the ``build_config`` that
    Keras writes for a built layer. A model nested in another is described by
    :func:`model_config`, with an empty ``compile_config`` as Keras writes it."""
    if is_model(obj):
        form = model_config(obj, nested=True)
        if input_shape is not None:
            form["build_config"] = {"input_shape": serialize_keras_object(input_shape)}
        return form
    own_form = getattr(obj, "get_keras_config", None)
    config = own_form() if own_form is not None else serialize_keras_object(obj.get_config())
    form = _object_form(type(obj), config)
    build = _written_build_config(obj, input_shape)
    if build is not None:
        form["build_config"] = build
    return form


def _written_build_config(layer, input_shape):
    """The ``build_config`` a file holds for ``layer``: what its class's own
    ``get_build_config()`` returns (serialized), else the one of the input shape it is built
    for in its model (:func:`build_config_for`), none while that is unknown."""
    if overrides(layer, "get_build_config"):
        own = layer.get_build_config()
        return None if own is None else serialize_keras_object(own)
    if input_shape is None:
        return None
    return serialize_keras_object(build_config_for(layer, input_shape))


def build_config_for(layer, input_shape):
    """Keras's ``build_config`` of ``layer`` built for ``input_shape``: ``{"input_shape": ...}``,
    or, where ``build`` takes a shape per tensor argument of ``call`` and was given several
    (``MultiHeadAttention.build(query_shape, value_shape)`` for ``call(query, value)``), those
    shapes by name, ``{"shapes_dict": {"query_shape": ..., "value_shape": ...}}``, which Keras's
    ``build_from_config`` passes to ``build`` as keywords. They are named after ``call``'s
    arguments, or, for a ``call`` that takes them as one list, in the order of ``build``'s."""
    build = [n for n in parameter_names(type(layer).build) if n.endswith("_shape")]
    several = isinstance(input_shape, list) and all(
        isinstance(shape, (list, tuple)) for shape in input_shape
    )
    if len(build) > 1 and several and len(input_shape) > 1:
        named = [f"{name}_shape" for name in parameter_names(type(layer).call)]
        if not set(build) >= set(named[: len(input_shape)]):  # call(inputs) takes them as one
            named = build
        return {"shapes_dict": dict(zip(named, input_shape))}
    return {"input_shape": input_shape}


def parameter_names(method):
    """The names of a method's parameters, ``self`` and ``*args``/``**kwargs`` left out."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    parameters = list(inspect.signature(method).parameters.values())[1:]
    return [p.name for p in parameters if p.kind in kinds]


def model_config(model, nested=False):
    """The whole description of a model, as ``config.json`` holds it.

    Its class and config (a Sequential model's layers; a functional model's layers, calls,
    inputs and outputs, written as Keras's ``Functional``; a subclassed model's ``get_config()``
    with its registered name), the ``build_config`` (the input shape it was built with; None
    for a functional model) and, once compiled, the ``compile_config`` (``{}`` for a model
    nested in another, as Keras writes it).

    Raises:
        TypeError: ``model`` is not a model, or its config holds an object with no description.
        ValueError: a subclassed model that was never built or called, whose weights do not
            exist yet.
    """
    if not is_model(model):
        raise TypeError(
            f"Expected a model (Sequential, functional or a Model subclass); got "
            f"{type(model).__name__}."
        )
    own_form = getattr(model, "get_keras_config", None)
    form = _object_form(type(model), own_form() if own_form else model.get_config())
    if is_functional_config(form["config"]):
        if type(model) is MODELS.get("Functional"):
            form["module"], form["registered_name"] = "keras.src.models.functional", "Functional"
        form["build_config"] = {"input_shape": None}
    else:
        shape = model.batch_input_shape
        if shape is None and not has_layer_list(model):
            shape = getattr(model, "_build_shape", None)
        build = _written_build_config(model, None)
        if build is None and shape is not None:
            build = {"input_shape": serialize_keras_object(shape)}
        if build is not None:
            form["build_config"] = build
    if nested:
        form["compile_config"] = {}
    else:
        compiled = model.get_compile_config()
        if compiled:  # Keras writes {} for a model not compiled; chainrule leaves it out
            form["compile_config"] = serialize_keras_object(compiled)
    return form


def compile_config(model):
    """The arguments ``compile`` was given, as Keras writes them (``Model.get_compile_config``'s
    default): a loss, loss weights and metrics per output stay lists or dicts keyed by output
    name."""
    return {
        "optimizer": serialize_keras_object(model.optimizer),
        "loss": serialize_keras_object(model.loss),
        "loss_weights": serialize_keras_object(getattr(model, "_loss_weights", None)),
        "metrics": serialize_keras_object(model._metric_identifiers) or None,
        "weighted_metrics": serialize_keras_object(model._weighted_metric_identifiers) or None,
    }


# ----- reading ---------------------------------------------------------------------------------


def deserialize_keras_object(config, custom_objects=None):
    """The object that a Keras description stands for, built from chainrule's tables only.

    Plain values (names such as ``"relu"``, numbers, None) are returned as they are, a list or
    a dict that is not a description with its values read: the layer, loss or optimizer they
    are given to resolves names itself. A ``"function"`` entry becomes the user's function it
    names (registered or passed, see :func:`_function_named`), else the name of chainrule's
    function after checking that chainrule knows it.

    Args:
        config: a description as written by :func:`serialize_keras_object` or by Keras 3.
        custom_objects: optional ``{name: class or function}`` of the caller's own objects that
            may also be built (the only way to load a class that chainrule does not have).

    Raises:
        FileFormatError: not a description, an unknown class or function (named), or a config
            the class rejects.
    """
    if isinstance(config, list):  # as Keras: each item (compile's metrics, say)
        return [deserialize_keras_object(value, custom_objects) for value in config]
    if not isinstance(config, dict):
        return config
    if "class_name" not in config:  # a plain dict (OptimizerMap's {pattern: optimizer}), as Keras
        return {
            key: deserialize_keras_object(value, custom_objects) for key, value in config.items()
        }
    module, class_name = _names(config, "an object description")
    if class_name == "function":
        return _function_named(config, custom_objects)
    if class_name in DTYPE_POLICIES:
        return _dtype_from_policy(config)
    cls = _resolve_class(module, class_name, custom_objects, _registered_name(config))
    if issubclass(cls, tuple(MODELS.values())):
        return model_from_config(config, custom_objects)
    return from_description(cls, config, custom_objects)


def from_description(cls, description, custom_objects=None):
    """The object of class ``cls`` that a description stands for: built from its ``config``
    (:func:`construct`), then, for a class with its own ``build_from_config``, given the
    description's ``build_config``, as Keras 3 does (other layers are built by the model that
    calls them, once their weights are checked against the file)."""
    obj = construct(cls, description.get("config", {}), custom_objects)
    build_config = description.get("build_config")
    if build_config and overrides(obj, "build_from_config") and not obj.built:
        build_from_file(obj, build_config)
    return obj


def build_from_file(layer, build_config):
    """``layer.build_from_config(build_config)``, the layer's own way to create its weights from
    what its ``get_build_config()`` saved; what that raises becomes a FileFormatError that
    names the layer."""
    try:
        layer.build_from_config(build_config)
    except Exception as err:  # the user's code: report which layer failed, and how
        raise FileFormatError(
            f"layer {layer.name!r} ({type(layer).__name__}): build_from_config("
            f"{build_config!r:.200}) failed: {type(err).__name__}: {err}"
        ) from err
    layer.built = True


def _names(description, what):
    """(module, class_name) of a description, both checked to be strings (module may be None)."""
    if not isinstance(description, dict):
        raise FileFormatError(f"{what} must be a JSON object; got {description!r:.200}")
    module, class_name = description.get("module"), description.get("class_name")
    if not isinstance(class_name, str) or not (module is None or isinstance(module, str)):
        raise FileFormatError(
            f"{what} needs a string 'class_name' (and 'module'); got class_name={class_name!r:.80}"
            f", module={module!r:.80}"
        )
    return module, class_name


def construct(cls, config, custom_objects=None):
    """``cls.from_config(config)`` with the config's nested objects built first; any error the
    class raises for the config becomes a :class:`FileFormatError` naming the class."""
    if not isinstance(config, dict):
        raise FileFormatError(f"The config of a {cls.__name__} must be a dict; got {config!r:.200}")
    arguments = deserialize_config(config, custom_objects)
    check_argument_types(cls, arguments)
    try:
        return cls.from_config(arguments)
    except (TypeError, ValueError, KeyError, OverflowError) as err:
        name = config.get("name")
        which = f"{cls.__name__} {name!r}" if isinstance(name, str) else cls.__name__
        raise FileFormatError(f"Cannot build {which} from its config: {err}") from err


def check_argument_types(cls, arguments):
    """Refuse config values of a kind ``cls``'s constructor does not take, before it runs.

    A layer's ``dtype`` must name a float type (its weights' type), an InputLayer's (which
    has none) or another object's a numeric one (an InputLayer may also read strings).
    Otherwise the kind an argument takes is read off its default value: a bool default takes a
    bool; an int default an int or a list of ints; a float default a number or a pair of
    numbers; a tuple default a list or an int. Objects built from descriptions (a
    schedule for a learning rate, say), nulls, arguments without a default or with a None
    default are left to the constructor.

    Raises:
        FileFormatError: naming the class, the argument, what it takes and what the file holds.
    """
    try:
        parameters = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return
    for key, value in arguments.items():
        if key == "dtype":
            weighted = issubclass(cls, tuple(LAYERS.values())) and cls is not LAYERS["InputLayer"]
            allowed = FLOAT_DTYPES if weighted else NUMERIC_DTYPES
            if cls is LAYERS["InputLayer"]:
                allowed += ("string",)  # a model that reads text
            if value is not None and value not in allowed:
                raise FileFormatError(
                    f"{cls.__name__}: dtype must be one of {', '.join(allowed)}; the file "
                    f"has {value!r:.80}"
                )
            continue
        parameter = parameters.get(key)
        if parameter is None or parameter.default in (inspect.Parameter.empty, None):
            continue
        if not isinstance(value, (bool, int, float, str, list, tuple)):
            continue
        expected, accepts = _ARGUMENT_KINDS.get(type(parameter.default), (None, None))
        if accepts is not None and not accepts(value):
            raise FileFormatError(
                f"{cls.__name__}: {key} takes {expected}; the file has {value!r:.80}"
            )


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_ARGUMENT_KINDS = {
    bool: ("true or false", lambda v: isinstance(v, bool)),
    int: (
        "an integer (or a list of integers)",
        lambda v: _is_int(v) or (isinstance(v, (list, tuple)) and all(map(_is_int, v))),
    ),
    float: (  # a number, or a (low, high) range as the augmentation layers' factors save
        "a number (or a pair of numbers)",
        lambda v: (
            _is_number(v)
            or (isinstance(v, (list, tuple)) and len(v) == 2 and all(map(_is_number, v)))
        ),
    ),
    tuple: ("a list or an integer", lambda v: isinstance(v, (list, tuple)) or _is_int(v)),
}


def deserialize_config(config, custom_objects=None):
    """Constructor arguments from a (Keras or chainrule) config: nested descriptions built, a
    ``DTypePolicy`` turned into its dtype name, and Keras-only arguments at their neutral values
    (:data:`KERAS_ONLY`) dropped. Already-built values pass through, so this may run twice."""
    arguments = {}
    for key, value in config.items():
        if key in KERAS_ONLY and _same(value, KERAS_ONLY[key]):
            continue
        if key in KERAS_ONLY_WHEN and not config.get(KERAS_ONLY_WHEN[key]):
            continue
        arguments[key] = deserialize_keras_object(value, custom_objects)
    return arguments


def _same(value, neutral):
    return type(value) is type(neutral) and value == neutral


def _find_class(module, class_name):
    """The class ``class_name`` from the table of ``module`` or, for a module-less description or
    one of Keras's internal module paths, from the one table that has it; else None."""
    tables = registry()
    if module in tables:
        return tables[module].get(class_name)
    if module is None or module == "keras" or module.startswith("keras."):
        for table in tables.values():
            if class_name in table:
                return table[class_name]
    return None


def _registered_name(description):
    name = description.get("registered_name")
    return name if isinstance(name, str) else None


def _resolve_class(module, class_name, custom_objects, registered_name=None):
    """The class a description names: one of the user's (by its registered name, else by class
    name: from ``custom_objects``, the open custom-object scopes or the registered objects),
    else chainrule's own; else FileFormatError."""
    own = keras_registry.find_custom([registered_name, class_name], custom_objects)
    if isinstance(own, type):
        return own
    cls = _find_class(module, class_name)
    if cls is not None:
        return cls
    known = ", ".join(sorted(LAYERS))
    remedy = (
        "A Lambda layer holds Python code, and chainrule never runs code from a file: rebuild "
        "the model with a layer class instead."
        if class_name == "Lambda"
        else f"To load a class of your own, register it with "
        f"@keras.saving.register_keras_serializable(), or pass "
        f"custom_objects={{{class_name!r}: YourClass}}."
    )
    raise FileFormatError(
        f"Unknown class {class_name!r} (module {module!r}): chainrule builds only its own classes "
        f"from a file (layers: {known}; and its initializers, regularizers, constraints, "
        f"optimizers, schedules, losses and metrics). {remedy}"
    )


def _function_named(config, custom_objects):
    """The function a description names: the user's (by the name Keras 3 writes, the
    ``"package>name"`` it was registered under, else its own name; or by the registered name
    that earlier chainrule versions wrote), else the name of chainrule's own function."""
    name = config.get("config")
    if not isinstance(name, str):
        raise FileFormatError(f"A function is described by its name; got {name!r:.200}")
    own = keras_registry.find_custom([name, _registered_name(config)], custom_objects)
    if callable(own):
        return own
    for table in _function_tables():
        if name in table:
            return name
    own = find_by_bare_name(name, custom_objects)
    if callable(own):
        return own
    raise FileFormatError(
        f"Unknown function {name!r} (module {config.get('module')!r}): chainrule loads only its "
        f"own activations, losses and metrics by name and never imports code from a file. Pass "
        f"custom_objects={{{name!r}: your_function}} to use one of your own."
    )


def _dtype_from_policy(config):
    inner = config.get("config")
    name = inner.get("name") if isinstance(inner, dict) else None
    if name not in FLOAT_DTYPES:
        raise FileFormatError(
            f"Unsupported dtype policy {name!r}: chainrule computes in one float dtype per layer "
            f"({', '.join(FLOAT_DTYPES)}); mixed-precision and quantized policies are not "
            f"supported."
        )
    return name


def shape_from_config(value):
    """A shape from a config as ``build`` takes it: a list of sizes becomes a tuple, and so does
    each shape in a list or dict of shapes."""
    if isinstance(value, dict):
        return {key: shape_from_config(shape) for key, shape in value.items()}
    if (
        isinstance(value, (list, tuple))
        and value
        and all(isinstance(shape, (list, tuple, dict)) for shape in value)
    ):
        return [shape_from_config(shape) for shape in value]
    return tuple(value) if isinstance(value, list) else value


def check_shape(value, what):
    """A shape from a file as a tuple of ints (None for an unknown size), or FileFormatError."""
    if not isinstance(value, (list, tuple)) or not all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0) for d in value
    ):
        raise FileFormatError(
            f"{what} must be a list of non-negative integers or null; got {value!r:.200}"
        )
    return tuple(value)


def resolve(description, what, custom_objects=None):
    """The class a description names, from chainrule's tables or ``custom_objects``; ``what``
    says where the description is, for the error."""
    module, class_name = _names(description, what)
    return _resolve_class(module, class_name, custom_objects, _registered_name(description))


def model_class(config, custom_objects=None):
    """The model class that a whole model description (``config.json``, ``to_json``) names:
    chainrule's ``Sequential``, ``Functional`` or ``Model``, or one of the user's subclasses
    (registered, or in ``custom_objects``)."""
    module, class_name = _names(config, "A model description")
    cls = _resolve_class(module, class_name, custom_objects, _registered_name(config))
    if not issubclass(cls, tuple(MODELS.values())):
        raise FileFormatError(
            f"The file describes a {cls.__name__}, which is not a model (a Sequential, "
            f"functional or Model subclass)."
        )
    return cls


def model_from_config(config, custom_objects=None, compile=True):
    """The model a whole description stands for, compiled from its ``compile_config`` when there
    is one and ``compile`` is True.

    A Sequential or functional config goes to the class's ``from_config(config,
    custom_objects)``; a subclassed model's config has its nested descriptions built first
    and then goes to ``from_config(config)`` (by default ``cls(**config)``). The model is not
    built here from ``build_config`` (see ``keras_file``)."""
    cls = model_class(config, custom_objects)
    inner = config.get("config")
    if isinstance(inner, dict) and ("layers" in inner or is_functional_config(inner)):
        try:
            model = cls.from_config(inner, custom_objects)
        except (TypeError, ValueError, KeyError) as err:
            if isinstance(err, FileFormatError):
                raise
            raise FileFormatError(f"Cannot build the {cls.__name__} model: {err}") from err
    else:
        model = construct(cls, inner if inner is not None else {}, custom_objects)
    if compile and config.get("compile_config"):  # Keras writes {} for an uncompiled model
        compile_from_config(model, config["compile_config"], custom_objects)
    return model


def compile_from_config(model, config, custom_objects=None):
    """Compile ``model`` as a ``compile_config`` says, by its ``compile_from_config(config)``
    (``Model``'s calls ``compile`` with the config's arguments), with ``custom_objects``
    allowed in the config.

    Raises:
        FileFormatError: a config that is not a dict, or one the model does not compile with
            (naming the model and what failed).
    """
    if not isinstance(config, dict):
        raise FileFormatError(f"compile_config must be a JSON object; got {config!r:.200}")
    try:
        with custom_object_scope(custom_objects or {}):
            model.compile_from_config(config)
    except FileFormatError:
        raise
    except (TypeError, ValueError, KeyError) as err:
        raise FileFormatError(
            f"Cannot compile the model {model.name!r} from its compile_config: "
            f"{type(err).__name__}: {err}"
        ) from err


def compile_arguments(config):
    """``compile``'s arguments from a ``compile_config``: each description built (a loss, loss
    weights and metrics per output stay lists or dicts keyed by output name), the user's objects
    found among the registered ones and those of the open custom-object scopes."""
    return {key: deserialize_keras_object(value) for key, value in config.items()}


# ----- keras.layers.serialize / deserialize, keras.optimizers.serialize / deserialize ----------


def serialize_layer(layer):
    """``keras.layers.serialize``: Keras's description of a layer (a model's whole description),
    with the ``build_config`` of a built layer."""
    if is_model(layer):
        return model_config(layer)
    shape = getattr(layer, "_build_shape", None) if layer.built else None
    return layer_config(layer, shape)


def deserialize_layer(config, custom_objects=None):
    """``keras.layers.deserialize``: the layer (or model) a description stands for, built from
    chainrule's classes and ``custom_objects`` only; its weights are created on its first call.

    Raises:
        FileFormatError: not the description of a layer (named), or one chainrule cannot build.
    """
    layer = deserialize_keras_object(config, custom_objects)
    if not callable(getattr(layer, "_own_weights", None)):
        raise FileFormatError(
            f"keras.layers.deserialize: the description is of a {type(layer).__name__}, not a "
            f"layer; use the deserialize of its own module."
        )
    return layer


def serialize_optimizer(optimizer):
    """``keras.optimizers.serialize``: Keras's description of an optimizer."""
    return serialize_keras_object(optimizer)


def deserialize_optimizer(config, custom_objects=None):
    """``keras.optimizers.deserialize``: the optimizer a description stands for; as in Keras,
    the class name may be written in lower case (``{"class_name": "adam", "config": {}}``).

    Raises:
        FileFormatError: not the description of an optimizer, or one chainrule cannot build.
    """
    module, class_name = _names(config, "keras.optimizers.deserialize's config")
    table = keras_registry.classes_of("keras.optimizers")
    by_lower = {name.lower(): name for name in table}
    if class_name not in table and class_name.lower() in by_lower:
        config = {**config, "class_name": by_lower[class_name.lower()]}
    optimizer = deserialize_keras_object(config, custom_objects)
    if not isinstance(optimizer, tuple(table.values())):
        raise FileFormatError(
            f"keras.optimizers.deserialize: the description is of a {type(optimizer).__name__}, "
            f"not an optimizer."
        )
    return optimizer
