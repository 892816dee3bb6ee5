"""The speed, behind one seam: what makes ``fit``, ``evaluate`` and ``predict`` fast without
changing what they compute.

- :mod:`.plan` traces a training step once and replays it as straight-line Python;
  :mod:`.train_step` decides per input shape when a plan may be trusted (for the forward passes
  of ``evaluate`` and ``predict`` too), and runs ``fit``'s usual step with its parts called
  directly (:class:`.train_step.DirectStep`).
- :mod:`.threads` cuts a batch over the cores; :mod:`.process` sets the allocator and the
  floating-point mode of the training thread.
- :mod:`.kernels` holds faster implementations of named primitives (convolutions and poolings cut
  over threads; the tiled convolution a plan rewrites a conv + max-pool block into), installed
  only while a training call runs.
- :mod:`.updates` holds the optimizers' cache-blocked update loops.
- :mod:`.gather` gathers a shuffled pass's batches a chunk ahead, on a core the step leaves
  free.

All of it is chosen in :func:`training_runtime`, but for the thread count of a training loop
written by hand (:func:`.runtime.tape_opened`, :func:`batch_runtime`); :func:`set_enabled` (or
``CHAINRULE_FAST=0``) turns all of it off. Nothing below this package imports it.
"""

from .runtime import (
    active,
    batch_gathering,
    batch_runtime,
    disabled,
    enabled,
    set_enabled,
    training_runtime,
    update_loop,
)
from .train_step import DirectStep, InferencePlans, TrainStepPlans
