"""Callbacks: code that ``fit`` calls at fixed points, with Keras's hook names and order.

on_train_begin
  on_epoch_begin(epoch)
    on_train_batch_begin(batch) ... on_train_batch_end(batch, logs)   (each step)
    [on_test_begin ... on_test_end]                                    (validation)
  on_epoch_end(epoch, logs)          logs: loss, metrics, val_loss, val_metrics
on_train_end(logs)

``evaluate`` calls on_test_begin, on_test_batch_begin/end and on_test_end; ``predict`` calls
on_predict_begin, on_predict_batch_begin/end (logs: {"outputs": the batch's outputs}) and
on_predict_end. Every hook gets ``logs`` as a dict (empty where Keras passes none), its numbers
as Python floats.

By family: :mod:`.callback` (the base class and the list ``fit`` calls), :mod:`.history`
(History, the progress bar), :mod:`.early_stopping`, :mod:`.learning_rate`, :mod:`.logging`
(CSV, your own functions), :mod:`.checkpoint` (saving as training goes),
:mod:`.gradient_flow`, :mod:`.tensorboard` (event files for TensorBoard) and :mod:`.ema`
(evaluating with the optimizer's moving averages).
"""

from .callback import Callback, CallbackList
from .checkpoint import BackupAndRestore, ModelCheckpoint
from .early_stopping import EarlyStopping, TerminateOnNaN
from .ema import SwapEMAWeights
from .gradient_flow import GradientFlow
from .history import History, ProgbarLogger
from .learning_rate import LearningRateScheduler, ReduceLROnPlateau
from .logging import CSVLogger, LambdaCallback
from .tensorboard import TensorBoard

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "GradientFlow",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "SwapEMAWeights",
    "TensorBoard",
    "TerminateOnNaN",
]
