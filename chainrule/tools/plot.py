"""Training curves as PNGs: loss and accuracy per epoch, train and validation; and each layer's
gradient and weight norms over the training steps (`plot_gradient_flow`).

matplotlib is an optional extra (`pip install "chainrule[plot]"`); it is imported only when a plot
is drawn, and only its object API is used (no pyplot), so no GUI backend or global state is touched.
"""

PANELS = (("loss", "Loss"), ("accuracy", "Accuracy"))


def plot_history(history, file, title=None):
    """Draw `loss` and `accuracy` against the epoch number, side by side, and save a PNG.

    Each panel shows the training curve and, when `history` has it, the `val_` curve. Epochs are
    numbered from 1, as the progress output counts them.

    Args:
        history: a dict {metric name: list of per-epoch values}, as `History.history`; keys
            other than loss, accuracy and their `val_` versions are ignored.
        file: where to write the PNG: a path (str or os.PathLike) or a binary file object.
        title: an optional line above both panels, broken at spaces where it is wider than the
            figure.

    Returns:
        The matplotlib ``Figure`` drawn, on the Agg canvas.

    Raises:
        ImportError: matplotlib is not installed; the message says how to install it.
        ValueError: `history` has neither loss nor accuracy values.
        OSError: the file cannot be written.

    Example:
        >>> plot_history({"loss": [0.9, 0.4], "accuracy": [0.7, 0.9]}, "training.png")
    """
    panels = [(key, label) for key, label in PANELS if history.get(key)]
    if not panels:
        raise ValueError(
            f"plot_history: expected per-epoch 'loss' or 'accuracy' values; got keys "
            f"{sorted(history)}"
        )
    figure = _figure(len(panels))
    from matplotlib.ticker import MaxNLocator  # present: _figure imported matplotlib

    for axes, (key, label) in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels):
        for name, style in ((key, "o-"), (f"val_{key}", "s--")):
            values = history.get(name)
            if values:
                epochs = range(1, len(values) + 1)
                axes.plot(epochs, values, style, markersize=4, label=_legend(name))
        axes.set_title(label)
        axes.set_xlabel("epoch")
        axes.grid(alpha=0.3)
        # Epochs are whole numbers; min_n_ticks=1 keeps a single epoch's axis at one tick, "1",
        # where the default falls back to fractional ticks for want of two integers in range.
        axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        axes.legend()
    _suptitle(figure, title)
    figure.savefig(file, format="png")
    return figure


def _legend(name):
    return "validation" if name.startswith("val_") else "train"


def _suptitle(figure, title):
    """Set `title` above the panels, broken into lines at spaces so that no line is wider than
    the figure: a centred title is not wrapped by matplotlib, and would be cut at both sides."""
    if not title:
        return
    text = figure.suptitle(title)
    renderer = figure.canvas.get_renderer()
    room = 0.96 * figure.bbox.width
    lines = []
    for paragraph in title.split("\n"):
        lines.append("")
        for word in paragraph.split(" "):
            longer = f"{lines[-1]} {word}" if lines[-1] else word
            text.set_text(longer)
            if lines[-1] and text.get_window_extent(renderer).width > room:
                lines.append(word)
            else:
                lines[-1] = longer
    text.set_text("\n".join(lines))


def _figure(panels, width=None):
    """An empty figure, `panels` side by side (4.5 inches each unless `width` is given), on
    matplotlib's non-interactive Agg canvas."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError('plotting needs matplotlib: pip install "chainrule[plot]"') from err

    figure = Figure(figsize=(width or 4.5 * panels, 3.4), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def plot_gradient_flow(flow, file, title=None):
    """Draw each layer's gradient norm ‖dL/dW‖ and weight norm ‖W‖ against the training step,
    side by side, and save a PNG.

    The gradient panel is logarithmic and marks the thresholds below which gradients vanish and
    above which they explode (where they fall within the data's range); a norm of 0 is drawn at
    a tenth of the lower threshold.

    Args:
        flow: a `chainrule.keras.callbacks.GradientFlow` callback after training (its `steps`,
            `gradient_norms`, `weight_norms`, `low` and `high`).
        file: where to write the PNG: a path (str or os.PathLike) or a binary file object.
        title: an optional line above both panels, broken at spaces where it is wider than the
            figure.

    Returns:
        The matplotlib ``Figure`` drawn, on the Agg canvas; the legend, one for both panels,
        stands to the right of them, clear of the title.

    Raises:
        ImportError: matplotlib is not installed; the message says how to install it.
        ValueError: `flow` holds no measurements.
        OSError: the file cannot be written.
    """
    if not flow.steps or not flow.gradient_norms:
        raise ValueError(
            "plot_gradient_flow: the GradientFlow callback holds no measurements; pass it to "
            "fit(callbacks=[...]) on a model with trainable weights first."
        )
    floor = flow.low / 10
    # Room on the right for one legend of both panels: a layer has the same colour in each, and
    # with many layers a legend inside a panel covers the curves.
    figure = _figure(2, width=10.5)
    gradient_axes, weight_axes = figure.subplots(1, 2)
    everything = []
    for index, (name, norms) in enumerate(flow.gradient_norms.items()):
        shown = [max(norm, floor) for norm in norms]
        everything += shown
        color = f"C{index % 10}"
        gradient_axes.plot(flow.steps, shown, ".-", color=color, markersize=3, label=name)
        weight_axes.plot(flow.steps, flow.weight_norms[name], ".-", color=color, markersize=3)
    gradient_axes.set_yscale("log")
    bottom, top = min(everything) / 10, max(everything) * 10
    gradient_axes.set_ylim(bottom, top)
    for threshold, kind in ((flow.low, "vanishing"), (flow.high, "exploding")):
        if bottom < threshold < top:
            gradient_axes.axhline(
                threshold,
                color="tab:red",
                linestyle="--",
                linewidth=1,
                label=f"{kind} ({threshold:g})",
            )
    thresholds = f"Gradient norm ‖dL/dW‖ (vanishing < {flow.low:g}, exploding > {flow.high:g})"
    for axes, label in ((gradient_axes, thresholds), (weight_axes, "Weight norm ‖W‖")):
        axes.set_title(label, fontsize="medium")
        axes.set_xlabel("training step")
        axes.grid(alpha=0.3)
    figure.legend(
        *gradient_axes.get_legend_handles_labels(), loc="outside right center", fontsize="small"
    )
    _suptitle(figure, title)
    figure.savefig(file, format="png")
    return figure
