"""Keras's ``keras.utils.Progbar``: a progress bar a program advances itself, drawn by the same
line ``fit`` draws (``chainrule.keras.progress``)."""

import numpy as np

from .. import progress


class Progbar:
    """A progress bar for a loop of ``target`` steps, as Keras's ``Progbar``.

    Each value given to ``update`` or ``add`` as ``(name, value)`` is shown averaged over the
    steps so far (weighted by the steps each update covers), except the names in
    ``stateful_metrics``, shown as given; with ``stateless_metrics`` instead, only those are
    averaged.

    Args:
        target: the total number of steps, or None if unknown.
        width: the bar's length in characters.
        verbose: 0 (silent), 1 (a live bar) or 2 (one line when finished).
        interval: the least seconds between redraws.
        stateful_metrics, stateless_metrics: the names not to average, or the only names to
            average (at most one of the two).
        unit_name: what a step is called ("step": "742us/step").

    Raises:
        ValueError: both ``stateful_metrics`` and ``stateless_metrics`` are given.

    Example::

        bar = keras.utils.Progbar(100)
        for step in range(100):
            bar.update(step + 1, values=[("loss", loss)])
    """

    def __init__(
        self,
        target,
        width=20,
        verbose=1,
        interval=0.05,
        stateful_metrics=None,
        stateless_metrics=None,
        unit_name="step",
    ):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Progbar: give at most one of `stateful_metrics` (names shown as given, the rest "
                "averaged) and `stateless_metrics` (names averaged, the rest shown as given)."
            )
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = interval, unit_name
        self.stateful_metrics = set(stateful_metrics or ()) if stateless_metrics is None else None
        self.stateless_metrics = None if stateless_metrics is None else set(stateless_metrics)
        self._seen_so_far = 0
        self._values = {}  # name -> [sum of value * steps, steps]
        self._display = None
        if verbose:
            self._display = progress.Progbar(
                target, verbose, width=width, interval=interval, unit_name=unit_name
            )

    def _averaged(self, name):
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def update(self, current, values=None, finalize=None):
        """Report that ``current`` steps are done, with ``values``: a list of
        ``(name, value_for_the_last_step)``; ``finalize`` (default: ``current >= target``)
        draws the finished line."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or ():
            if self._averaged(name) and not finalize:
                steps = max(current - self._seen_so_far, 1)
                total, count = self._values.get(name, [0.0, 0])
                self._values[name] = [total + value * steps, count + steps]
            else:
                self._values[name] = [value, 1]
        self._seen_so_far = current
        if self._display is not None:
            logs = {
                name: np.mean(total) / max(1, count)
                for name, (total, count) in self._values.items()
            }
            self._display.update(current, logs, finalize=finalize)

    def add(self, n, values=None):
        """Advance by ``n`` steps (see ``update``)."""
        self.update(self._seen_so_far + n, values)
