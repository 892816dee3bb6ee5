"""Keras's per-epoch progress line, drawn live with rich when it is installed:

    1875/1875 ━━━━━━━━━━━━━━━━━━━━ 2s 742us/step - accuracy: 0.9132 - loss: 0.3127

The line is redrawn at most ten times a second. When the output is not a terminal (a log file,
CI), or rich is not installed, only the finished line is printed, once per epoch.
"""

import sys
import time

BAR_WIDTH = 20


def format_value(value):
    """Keras's metric format: 4 decimals, scientific notation at or below 1e-3; a metric with
    several values (per class) shows their mean, as Keras's progress bar does."""
    value = float(sum(value) / len(value)) if hasattr(value, "__len__") else value
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_step_time(seconds):
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/step"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/step"
    return f"{seconds * 1e6:.0f}us/step"


def format_logs(logs):
    return "".join(f" - {key}: {format_value(value)}" for key, value in logs.items())


class Progbar:
    """One epoch's progress line (``verbose=1``) or its summary line (``verbose=2``).

    Args:
        target: the number of steps in the epoch.
        verbose: 1 for a live bar, 2 for one line at the end.
        file: where to write (default: standard output).
    """

    interval = 0.1  # seconds between redraws

    def __init__(self, target, verbose=1, file=None):
        self.target, self.verbose = target, verbose
        self.file = file or sys.stdout
        self.start = time.perf_counter()
        self.first_step_done = None
        self.last_draw = 0.0
        self.live = None
        if verbose == 1:
            self.live = _start_live(self.file)

    def update(self, current, logs, finalize=False):
        """Report that ``current`` steps are done, with the running ``logs`` (a dict, or a
        function that returns it, called only when the line is drawn)."""
        now = time.perf_counter()
        if current == 1:
            self.first_step_done = now
        if not finalize and (self.live is None or now - self.last_draw < self.interval):
            return
        self.last_draw = now
        if callable(logs):
            logs = logs()
        if self.verbose == 2:
            line = self._summary_line(current, logs, now)
        else:
            line = self._bar_line(current, logs, now, finalize)
        if self.live is not None:
            self.live.update(_styled(line, current, self.target), refresh=True)
            if finalize:
                self.live.stop()
        else:
            print(line, file=self.file, flush=True)

    def _per_step(self, current, now):
        if current > 1 and self.first_step_done is not None:
            return (now - self.first_step_done) / (current - 1)  # the first step is warm-up
        return (now - self.start) / max(current, 1)

    def _bar_line(self, current, logs, now, finalize):
        width = len(str(self.target))
        bar = "━" * BAR_WIDTH  # coloured by _styled: done part green, the rest grey
        if finalize or not self.target:  # no target: an epoch of unknown length, no ETA
            clock = f"{now - self.start:.0f}s"
        else:
            clock = _eta(self._per_step(current, now) * (self.target - current))
        step = format_step_time(self._per_step(current, now))
        target = self.target or "Unknown"
        return f"{current:>{width}}/{target} {bar} {clock} {step}{format_logs(logs)}"

    def _summary_line(self, current, logs, now):
        elapsed = now - self.start
        step = format_step_time(elapsed / max(current, 1))
        width = len(str(self.target))
        return f"{current:>{width}}/{self.target} - {elapsed:.0f}s - {step}{format_logs(logs)}"


def _eta(seconds):
    seconds = int(seconds)
    if seconds > 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds > 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def _start_live(file):
    """A rich Live display on ``file``, or None without rich."""
    try:
        from rich.console import Console
        from rich.live import Live
    except ImportError:
        return None
    console = Console(file=file, highlight=False, soft_wrap=True)
    if not (console.is_terminal or console.is_jupyter):
        return None  # a log file gets plain lines, at their full length
    live = Live(console=console, auto_refresh=False, transient=False)
    live.start()
    return live


def _styled(line, current, target):
    """The line with the bar's done part in green and the rest dimmed, as Keras colours it."""
    from rich.text import Text

    text = Text(line)
    start = line.index("━")
    done = int(BAR_WIDTH * current / target) if target else BAR_WIDTH
    text.stylize("bold", 0, start - 1)
    text.stylize("green", start, start + done)
    text.stylize("bright_black", start + done, start + BAR_WIDTH)
    return text
