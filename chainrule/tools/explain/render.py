"""Rendering: an :class:`~.report.Explanation` drawn as tables, with rich when it is installed,
as plain text if not.

The report becomes a list of blocks first, then each block is drawn:

    ("heading", text)   ("text", text, style)   ("table", title, headers, rows, row styles)
    ("matrix", label, array)
"""

import sys

import numpy as np

SMALL = 64
"""Matrices of at most this many entries are printed in full by default."""


def render_report(report, file, matrices=None):
    """Draw ``report``, an :class:`~.report.Explanation`, to ``file``; ``matrices`` as in
    :meth:`~.report.Explanation.render` (None: when no matrix has more than :data:`SMALL`
    entries)."""
    _render(_blocks(report, matrices), file)


def _blocks(report, matrices):
    if matrices is None:
        matrices = max(array.size for array in _arrays(report)) <= SMALL
    n = len(report.inputs)
    blocks = [
        ("heading", f"chainrule explain: model {report.model!r} on a batch of {n} samples"),
        (
            "text",
            (
                f"Every factor of the chain rule is computed three ways: by the textbook "
                f"formula, by chainrule's autodiff engine, and by central finite differences "
                f"(L(v + h) - L(v - h)) / 2h with h = {report.step:g}, all in float64. They "
                f"agree when the max relative error, max |difference| / max |entry|, is at "
                f"most {report.tolerance:g}."
            ),
            None,
        ),
    ]
    blocks += _forward_blocks(report, matrices)
    blocks += _loss_blocks(report.loss, matrices)
    blocks += _backward_blocks(report, matrices)
    blocks += _update_blocks(report, matrices)
    blocks += [("text", note, "dim") for note in report.notes]
    factors = [g for step in report.backward for g in step.gradients]
    if any(g.kinks for g in factors):
        blocks.append(
            (
                "text",
                (
                    "Entries not checked, at a kink or bound: there every step ±h tried "
                    "crosses a ReLU kink, changing the sign of a pre-activation z, and ReLU has "
                    "no derivative at z = 0 (the textbook and the engine take relu'(0) = 0, as "
                    "Keras does), or the differences never settle as h shrinks, so finite "
                    "differences are not compared there."
                ),
                "dim",
            )
        )
    if any(g.one_sided_count for g in factors):
        blocks.append(
            (
                "text",
                (
                    "One-sided entries lie within a step of a bound of the loss's domain (a "
                    "probability near 0 or 1): their differences (4 L(v ± h) - 3 L(v) - "
                    "L(v ± 2h)) / ±2h stay on the side inside it."
                ),
                "dim",
            )
        )
    if report.agrees:
        blocks.append(
            (
                "text",
                (
                    f"✓ All {sum(len(s.gradients) for s in report.backward)} factors "
                    f"agree three ways within {report.tolerance:g}."
                ),
                "bold green",
            )
        )
    else:
        blocks.append(
            (
                "text",
                (
                    f"✗ DISAGREEMENT: {', '.join(report.disagreements)}: the "
                    f"gradients differ by more than {report.tolerance:g}."
                ),
                "bold white on red",
            )
        )
    return blocks


def _arrays(report):
    yield report.inputs
    for step in report.forward:
        yield step.a
        yield from step.weights.values()
    for step in report.backward:
        for gradient in step.gradients:
            yield gradient.value


def _forward_blocks(report, matrices):
    rows = []
    for step in report.forward:
        z = ["", "", ""] if step.z is None else [str(step.z.shape), *_mean_std(step.z)]
        dead = "" if step.dead_fraction is None else f"{step.dead_fraction:.0%}"
        rows.append(
            [
                str(step.index),
                step.layer,
                step.formula,
                *z,
                str(step.a.shape),
                *_mean_std(step.a),
                dead,
            ]
        )
    blocks = [
        ("heading", "1. Forward: z_l = a_{l-1} W_l + b_l,  a_l = f(z_l),  a_0 = x"),
        (
            "table",
            None,
            [
                "l",
                "layer",
                "computes",
                "z shape",
                "mean z",
                "std z",
                "a shape",
                "mean a",
                "std a",
                "dead ReLU units",
            ],
            rows,
            None,
        ),
    ]
    if matrices:
        blocks.append(("matrix", "a_0 = x", report.inputs))
        for step in report.forward:
            l = step.index
            for name, array in step.weights.items():
                blocks.append(
                    (
                        "matrix",
                        {"kernel": f"W_{l}", "bias": f"b_{l}"}.get(name, f"{name}_{l}"),
                        array,
                    )
                )
            if step.z is not None:
                blocks.append(("matrix", f"z_{l}", step.z))
            blocks.append(("matrix", f"a_{l}", step.a))
    return blocks


def _mean_std(array):
    return [f"{array.mean():.4g}", f"{array.std():.4g}"]


def _loss_blocks(loss, matrices, shown=5):
    y_pred, y_true = loss.y_pred, loss.y_true
    classes = y_pred.ndim == 2 and y_pred.shape[1] > 1
    headers = ["sample", "ŷ", "y"] + (["predicted", "label"] if classes else [])
    rows = []
    for i in range(min(shown, len(y_pred))):
        row = [str(i), _vector(y_pred[i]), _vector(y_true[i])]
        if classes:
            label = y_true[i].argmax() if y_true.ndim == 2 else y_true[i]
            row += [str(y_pred[i].argmax()), str(int(label))]
        rows.append(row)
    blocks = [
        ("heading", "2. Loss"),
        ("text", f"L = {loss.name}(y, ŷ) = {loss.value:.6g}, with ŷ = a_L", "bold"),
        ("table", f"the first {len(rows)} of {len(y_pred)} samples", headers, rows, None),
    ]
    if matrices:
        blocks += [("matrix", "ŷ", y_pred), ("matrix", "y", y_true)]
    return blocks


def _vector(values, shown=10):
    values = np.atleast_1d(values)
    digits = 3 if len(values) <= 4 else 2
    text = " ".join(
        f"{v:.{digits}f}" if values.dtype.kind == "f" else str(v) for v in values[:shown]
    )
    return f"[{text}{' …' if len(values) > shown else ''}]"


def _backward_blocks(report, matrices):
    blocks = [
        (
            "heading",
            (
                "3. Backward: dL/dz_l = dL/da_l ⊙ f'(z_l),  dL/dW_l = a_{l-1}ᵀ dL/dz_l,"
                "  dL/db_l = Σ dL/dz_l,  dL/da_{l-1} = dL/dz_l W_lᵀ"
            ),
        )
    ]
    printed = set()
    for step in report.backward:
        rows, styles = [], []
        for g in step.gradients:
            kinks = f", {g.kinks} not checked: at a kink or bound" if g.kinks else ""
            sided = f", {g.one_sided_count} one-sided" if g.one_sided_count else ""
            numeric = f"{_error(g.numeric_error)} ({len(g.sample) - g.kinks}{sided}{kinks})"
            rows.append(
                [
                    g.name,
                    g.formula,
                    str(g.shape),
                    f"{g.norm:.4g}",
                    _error(g.textbook_error),
                    numeric,
                    "✓" if g.agrees else "✗ DISAGREES",
                ]
            )
            styles.append(None if g.agrees else "bold red")
        kind = step.kind + (
            f", {report.forward[step.index - 1].activation}"
            if report.forward[step.index - 1].activation
            else ""
        )
        blocks.append(
            (
                "table",
                f"layer {step.index}: {step.layer} ({kind})",
                [
                    "factor",
                    "formula",
                    "shape",
                    "norm",
                    "textbook vs engine",
                    "finite diff. vs engine (entries)",
                    "",
                ],
                rows,
                styles,
            )
        )
        blocks += [("text", note, "dim") for note in step.notes]
        if matrices:
            for g in step.gradients:
                if id(g) not in printed:
                    printed.add(id(g))
                    blocks += _gradient_matrices(g)
    return blocks


def _error(value):
    return "—" if value is None else f"{value:.1e}"


def _gradient_matrices(g):
    numeric = np.full(g.shape, np.nan)
    numeric.reshape(-1)[g.sample] = g.numeric
    found = [("textbook", g.textbook), ("engine", g.engine), ("finite differences", numeric)]
    return [("matrix", f"{g.name} by {way}", array) for way, array in found if array is not None]


def _update_blocks(report, matrices):
    rows, styles = [], []
    for step in report.update:
        rows.append(
            [
                f"{step.layer}/{step.weight}",
                f"{step.learning_rate:g}",
                f"{np.linalg.norm(step.gradient):.4g}",
                f"{np.linalg.norm(step.delta):.4g}",
                f"{np.linalg.norm(step.old):.4g}",
                "—" if np.isnan(step.ratio) else f"{step.ratio:.2e}",
                step.health,
            ]
        )
        styles.append("yellow" if step.health.startswith(("tiny", "large")) else None)
    blocks = [
        (
            "heading",
            (f"4. Update: W_new = W_old + ΔW, by {report.optimizer} (ΔW = -η dL/dW for SGD)"),
        ),
        (
            "table",
            None,
            [
                "weight",
                "η",
                "‖dL/dW‖",
                "‖ΔW‖",
                "‖W_old‖",
                "‖ΔW‖ / ‖W_old‖",
                "health (about 1e-3 is typical)",
            ],
            rows,
            styles,
        ),
    ]
    if matrices:
        blocks += [
            ("matrix", f"{step.layer}/{step.weight} new", step.new) for step in report.update
        ]
    return blocks


def _matrix_text(array):
    """Every number of ``array``, aligned, 6 decimals; nan (not computed) as '·'."""
    finite = array[np.isfinite(array)]
    width = max((len(f"{v:.6f}") for v in finite.reshape(-1)), default=1)

    def number(v):
        return "·".rjust(width) if np.isnan(v) else f"{v + 0.0:{width}.6f}"  # no -0.000000

    return np.array2string(
        np.asarray(array, np.float64),
        max_line_width=160,
        threshold=sys.maxsize,
        formatter={"float_kind": number},
    )


def _render(blocks, file):
    try:
        from rich.console import Console
    except ImportError:
        _render_plain(blocks, file)
        return
    from rich.table import Table
    from rich.text import Text

    terminal = hasattr(file, "isatty") and file.isatty()
    console = Console(file=file, highlight=False, width=None if terminal else 140)
    for block in blocks:
        kind = block[0]
        if kind == "heading":
            console.rule(Text(block[1], style="bold"), align="left")
        elif kind == "text":
            console.print(Text(block[1], style=block[2] or ""))
        elif kind == "matrix":
            console.print(Text(f"{block[1]} =", style="bold"))
            console.print(Text(_matrix_text(block[2])))
        else:
            _, title, headers, rows, styles = block
            table = Table(title=title, title_justify="left", show_edge=False)
            for header in headers:
                table.add_column(header)
            for row, style in zip(rows, styles or [None] * len(rows)):
                table.add_row(*[Text(cell) for cell in row], style=style)
            console.print(table)


def _render_plain(blocks, file):
    for block in blocks:
        kind = block[0]
        if kind == "heading":
            print(f"\n== {block[1]} ==", file=file)
        elif kind == "text":
            print(block[1], file=file)
        elif kind == "matrix":
            print(f"{block[1]} =\n{_matrix_text(block[2])}", file=file)
        else:
            _, title, headers, rows, _ = block
            widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]
            if title:
                print(title, file=file)
            for line in [headers, ["-" * w for w in widths], *rows]:
                print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip(), file=file)
