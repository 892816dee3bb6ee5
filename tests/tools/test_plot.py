"""Tests for chainrule.tools.plot, by matplotlib's own geometry after drawing on the Agg canvas:
the title lies inside the figure, epochs are whole numbers on the x axis, and no legend covers a
plotted point."""

import io
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from chainrule.tools.plot import plot_gradient_flow, plot_history  # noqa: E402

LONG_TITLE = (
    "MNIST: 784 -> 128 relu -> 64 relu -> 10 softmax, adam (learning rate 0.001), batch 32; "
    "test accuracy 0.9766"
)


def inside(inner, outer):
    return (
        outer.x0 <= inner.x0
        and inner.x1 <= outer.x1
        and outer.y0 <= inner.y0
        and inner.y1 <= outer.y1
    )


def sigmoid_flow(layers=9, steps=126):
    """Measurements shaped like nine sigmoid layers': gradients fanned out over five decades,
    flat weight norms bunched between 5.6 and 5.8 with the first and last layers apart."""
    at = np.arange(steps)
    gradients = {
        f"dense_{i}" if i else "dense": list(10.0 ** (i * 0.6 - 5) * (1 - 0.3 * at / steps))
        for i in range(layers)
    }
    weights = {name: [5.6 + 0.02 * i] * steps for i, name in enumerate(gradients)}
    weights["dense"], weights[f"dense_{layers - 1}"] = [7.8] * steps, [4.0] * steps
    return SimpleNamespace(
        steps=list(5 * at), gradient_norms=gradients, weight_norms=weights, low=1e-7, high=1e3
    )


def test_a_long_title_is_broken_into_lines_inside_the_figure():
    history = {"loss": [0.9, 0.4], "accuracy": [0.7, 0.9], "val_loss": [1.0, 0.5]}
    for figure in (
        plot_history(history, io.BytesIO(), title=LONG_TITLE),
        plot_gradient_flow(sigmoid_flow(), io.BytesIO(), title=LONG_TITLE + ", 9 layers"),
    ):
        title = figure.get_suptitle()
        assert title.replace("\n", " ") in (LONG_TITLE, LONG_TITLE + ", 9 layers")
        renderer = figure.canvas.get_renderer()
        extent = figure._suptitle.get_window_extent(renderer)
        assert inside(extent, figure.bbox), (extent, figure.bbox)
        for axes in figure.axes:  # and above the panels, not over them
            assert extent.y0 >= axes.get_tightbbox(renderer).y1 - 1
        for legend in figure.legends:
            assert not extent.overlaps(legend.get_window_extent(renderer))


def test_a_short_title_stays_on_one_line():
    figure = plot_history({"loss": [0.9, 0.4]}, io.BytesIO(), title="one run")
    assert figure.get_suptitle() == "one run"


@pytest.mark.parametrize("epochs", [1, 3])
def test_epochs_are_whole_numbers_on_the_x_axis(epochs):
    history = {"loss": list(np.linspace(1, 0.5, epochs)), "accuracy": [0.8] * epochs}
    figure = plot_history(history, io.BytesIO())
    for axes in figure.axes:
        low, high = axes.get_xlim()
        shown = [tick for tick in axes.get_xticks() if low <= tick <= high]
        labels = [
            label.get_text()
            for label in axes.get_xticklabels()
            if low <= label.get_position()[0] <= high
        ]
        assert shown == list(range(1, epochs + 1)), shown
        assert labels == [str(epoch) for epoch in range(1, epochs + 1)], labels


def test_the_gradient_flow_legend_covers_no_plotted_point():
    figure = plot_gradient_flow(sigmoid_flow(), io.BytesIO())
    renderer = figure.canvas.get_renderer()
    legends = list(figure.legends) + [axes.get_legend() for axes in figure.axes]
    boxes = [legend.get_window_extent(renderer) for legend in legends if legend is not None]
    assert boxes, "expected a legend"
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert labels[:9] == ["dense"] + [f"dense_{i}" for i in range(1, 9)]
    for axes in figure.axes:
        for line in axes.get_lines():
            points = line.get_transform().transform(line.get_xydata())
            for box in boxes:
                covered = [point for point in points if box.contains(*point)]
                assert not covered, f"the legend covers {len(covered)} points of {line.get_label()}"


def test_each_layer_has_one_colour_in_both_panels():
    figure = plot_gradient_flow(sigmoid_flow(layers=3), io.BytesIO())
    colours = [[line.get_color() for line in axes.get_lines()[:3]] for axes in figure.axes]
    assert colours[0] == colours[1]
    assert len(set(colours[0])) == 3
