"""The base class of callbacks, and the list that calls them in ``fit``."""

import numpy as np


class Callback:
    """Base class: override the hooks you need. ``self.model`` and ``self.params`` are set."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass


class CallbackList:
    """Calls each hook on every callback in order.

    Every hook gets its ``logs`` as a dict, never None, its values made Python floats where they
    are numbers (:func:`pythonify_logs`), as Keras's list does. A hook is called only on the
    callbacks that override it, so the per-batch hooks of the usual callbacks (History, say)
    cost nothing in the training loop; and when every one of them is marked
    :func:`reads_logs_lazily`, the logs are handed over as the step returned them, for the hook
    to convert only when it reads them. ``fit`` may give a batch hook a function of no
    arguments that returns the logs instead of the logs themselves (see
    ``Model._logs_can_wait``); a hook marked lazy then gets that function.
    """

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(params)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        methods = [getattr(c, hook) for c in self.callbacks if _overrides(c, hook)]
        indexed = hook.endswith(("_batch_begin", "_batch_end")) or "_epoch_" in hook
        lazy = all(getattr(method, "reads_logs_lazily", False) for method in methods)

        def call_all(*args, logs=None):
            if not methods:
                return
            if len(args) > indexed:  # logs given by position
                args, logs = args[:-1], args[-1]
            if lazy:  # the logs as given: a dict, or a function of none that returns it
                logs = {} if logs is None else logs
            else:
                logs = pythonify_logs(logs() if callable(logs) else logs)
            for method in methods:
                method(*args, logs)

        setattr(self, hook, call_all)  # found once; later calls skip __getattr__
        return call_all


def reads_logs_lazily(hook):
    """Mark a hook that converts its ``logs`` (a dict, or a function of no arguments that
    returns it) with :func:`pythonify_logs` itself, only when it reads them (as the progress
    bar does, a few times a second): the callback list then skips converting them on every
    step."""
    hook.reads_logs_lazily = True
    return hook


def pythonify_logs(logs):
    """``logs`` as a new dict (an empty one for None), sorted by key, with nested dicts merged in
    and every value that is a number (a scalar Tensor, a NumPy scalar) made a Python float; other
    values (arrays of several numbers) stay as they are. This is what Keras hands callbacks."""
    result = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
            continue
        if not isinstance(value, (str, bytes)) and np.size(value) == 1:
            try:
                value = float(np.asarray(value).reshape(()))
            except (TypeError, ValueError):
                pass
        result[key] = value
    return result


def _overrides(callback, hook):
    """Whether ``callback`` does something in ``hook`` (the train-batch hooks forward to the
    ``on_batch_*`` aliases, so overriding either counts)."""

    def overridden(name):  # by the class, or on the instance (as LambdaCallback does)
        return name in vars(callback) or getattr(type(callback), name) is not getattr(
            Callback, name
        )

    alias = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}
    return overridden(hook) or (hook in alias and overridden(alias[hook]))
