"""Where chainrule's ``fit`` spends its time per training step, next to the NumPy reference.

    python benchmarks/profile_fit.py [--workload article|wide] [--epochs 1] [--top 25]
                                     [--verbose 0|1] [--plan]

Both train on MNIST under cProfile after one unprofiled warm-up epoch (so that chainrule's step is
already traced and replayed). For each, the functions with the largest own time are listed in
microseconds per training step, with their calls per step: NumPy's C functions show as
``{method ...}`` or ``{built-in ...}`` entries, so the calls chainrule makes that the reference
does not stand out. ``--plan`` also prints the source of chainrule's replayed step. ``--verbose``
is passed to ``fit`` (0 by default: the progress bar's cost is then absent; 1 draws it to this
terminal).
"""

import argparse
import cProfile
import math
import pstats
import time

import numpy_loop
from common import DEFAULT_DATA, WORKLOADS, load_mnist
from keras_program import build_model

import chainrule


def profile(function, steps):
    """Run ``function()`` under cProfile: (seconds, [(µs per step, calls per step, name)])."""
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.runcall(function)
    seconds = time.perf_counter() - began
    rows = []
    for (filename, line, name), (_, calls, own, _, _) in pstats.Stats(profiler).stats.items():
        where = name if filename == "~" else f"{filename.rsplit('/', 2)[-1]}:{line} {name}"
        rows.append((own / steps * 1e6, calls / steps, where))
    rows.sort(reverse=True)
    return seconds, rows


def report(title, seconds, rows, steps, top):
    total = sum(r[0] for r in rows)
    print(
        f"\n## {title}: {seconds:.3f} s under the profiler, {seconds / steps * 1e6:.1f} µs per "
        f"step ({total:.1f} µs of own time per step)\n"
    )
    print(f"{'µs/step':>9} {'calls/step':>10}  function")
    for per_step, calls, where in rows[:top]:
        print(f"{per_step:9.2f} {calls:10.2f}  {where}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="article")
    parser.add_argument("--epochs", type=int, default=1, help="profiled epochs (default 1)")
    parser.add_argument("--top", type=int, default=25, help="functions listed (default 25)")
    parser.add_argument("--verbose", type=int, default=0, help="fit's verbose (default 0)")
    parser.add_argument("--plan", action="store_true", help="print the replayed step's source")
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    args = parser.parse_args()
    config = WORKLOADS[args.workload]
    data = load_mnist(args.data)
    steps = math.ceil(len(data["x_train"]) / config["batch_size"]) * args.epochs

    model = build_model(chainrule.keras, config, seed=0)
    x, y = data["x_train"], data["y_train"]

    def fit(epochs, verbose):
        model.fit(x, y, epochs=epochs, batch_size=config["batch_size"], verbose=verbose)

    fit(1, 0)
    seconds, rows = profile(lambda: fit(args.epochs, args.verbose), steps)
    report(
        f"chainrule fit, {args.workload}, {args.epochs} epoch(s)", seconds, rows, steps, args.top
    )

    def reference():
        numpy_loop.train(
            x,
            y,
            args.epochs,
            hidden=config["hidden"],
            optimizer=config["optimizer"],
            learning_rate=config["learning_rate"],
            batch_size=config["batch_size"],
        )

    seconds, rows = profile(reference, steps)
    report(f"NumPy reference loop, {args.workload}", seconds, rows, steps, args.top)

    if args.plan:
        from chainrule.fast.plan import Plan

        for plan in model._train_plans.plans.values():
            if isinstance(plan, Plan):
                print(f"\n## chainrule's replayed step\n\n{plan.source}")


if __name__ == "__main__":
    main()
