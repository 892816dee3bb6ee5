"""Keras's per-epoch progress line, drawn live with rich when it is installed:

    1875/1875 ━━━━━━━━━━━━━━━━━━━━ 2s 742us/step - accuracy: 0.9132 - loss: 0.3127

The line is redrawn at most ten times a second. When the output is not a terminal (a log file,
CI), or rich is not installed, only the finished line is printed, once per epoch.

``disable_interactive_logging()`` sends the lines to Python's ``logging`` (logger
"chainrule.keras", level INFO) instead of standard output, as Keras sends them to absl's log.
"""

import logging
import sys
import time

BAR_WIDTH = 20

_interactive = {"enabled": True}


def enable_interactive_logging():
    """Write progress lines and messages to standard output (the default)."""
    _interactive["enabled"] = True


def disable_interactive_logging():
    """Send progress lines and messages to the "chainrule.keras" logger instead of standard
    output (for a job whose output is a log file)."""
    _interactive["enabled"] = False


def is_interactive_logging_enabled():
    """True when progress lines and messages go to standard output."""
    return _interactive["enabled"]


def print_msg(message, file=None):
    """Print ``message`` (to ``file``, default standard output), or log it at INFO when
    interactive logging is disabled."""
    if _interactive["enabled"]:
        print(message, file=file or sys.stdout, flush=True)
    else:
        logging.getLogger("chainrule.keras").info(message)


def format_value(value):
    """Keras's metric format: 4 decimals, scientific notation at or below 1e-3; a metric with
    several values (per class) shows their mean, as Keras's progress bar does."""
    value = float(sum(value) / len(value)) if hasattr(value, "__len__") else value
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_step_time(seconds, unit_name="step"):
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit_name}"
    return f"{seconds * 1e6:.0f}us/{unit_name}"


def format_logs(logs):
    return "".join(f" - {key}: {format_value(value)}" for key, value in logs.items())


class Progbar:
    """One epoch's progress line (``verbose=1``) or its summary line (``verbose=2``).

    Args:
        target: the number of steps in the epoch.
        verbose: 1 for a live bar, 2 for one line at the end.
        file: where to write (default: standard output).
        width: the bar's length in characters.
        interval: the least seconds between redraws.
        unit_name: what a step is called in the time per step ("step": "742us/step").
    """

    def __init__(
        self, target, verbose=1, file=None, width=BAR_WIDTH, interval=0.1, unit_name="step"
    ):
        self.target, self.verbose = target, verbose
        self.width, self.interval, self.unit_name = width, interval, unit_name
        self.file = file or sys.stdout
        self.start = time.perf_counter()
        self.first_step_done = None
        self.last_draw = 0.0
        self.live = None
        if verbose == 1 and is_interactive_logging_enabled():
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
            self.live.update(_styled(line, current, self.target, self.width), refresh=True)
            if finalize:
                self.live.stop()
        else:
            print_msg(line, self.file)

    def _per_step(self, current, now):
        if current > 1 and self.first_step_done is not None:
            return (now - self.first_step_done) / (current - 1)  # the first step is warm-up
        return (now - self.start) / max(current, 1)

    def _bar_line(self, current, logs, now, finalize):
        width = len(str(self.target))
        bar = "━" * self.width  # coloured by _styled: done part green, the rest grey
        if finalize or not self.target:  # no target: an epoch of unknown length, no ETA
            clock = f"{now - self.start:.0f}s"
        else:
            clock = _eta(self._per_step(current, now) * (self.target - current))
        step = format_step_time(self._per_step(current, now), self.unit_name)
        target = self.target or "Unknown"
        return f"{current:>{width}}/{target} {bar} {clock} {step}{format_logs(logs)}"

    def _summary_line(self, current, logs, now):
        elapsed = now - self.start
        step = format_step_time(elapsed / max(current, 1), self.unit_name)
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


def _styled(line, current, target, width=BAR_WIDTH):
    """The line with the bar's done part in green and the rest dimmed, as Keras colours it."""
    from rich.text import Text

    text = Text(line)
    start = line.index("━")
    done = int(width * current / target) if target else width
    text.stylize("bold", 0, start - 1)
    text.stylize("green", start, start + done)
    text.stylize("bright_black", start + done, start + width)
    return text
