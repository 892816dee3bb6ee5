"""TensorBoard: the losses and metrics, weight histograms and the model's configuration as
TensorBoard event files, written with the tensorboard package's own writer (no TensorFlow)."""

import os
import time
import warnings
from types import SimpleNamespace

import numpy as np

from .callback import Callback

INSTALL = 'pip install "chainrule[tensorboard]"'
HISTOGRAM_BINS = 30


class TensorBoard(Callback):
    """Write event files for TensorBoard (``tensorboard --logdir=logs``), as Keras 3 does.

    Into ``log_dir/train`` go, at the end of each epoch (the step is the epoch, from 0), the
    training logs as ``epoch_loss``, ``epoch_accuracy``, ... and the optimizer's
    ``epoch_learning_rate``; into ``log_dir/validation`` the ``val_`` logs under the same names
    (``val_loss`` -> ``epoch_loss``), so that TensorBoard draws train and validation as two runs
    of one chart. With ``update_freq`` "batch" or N, the training logs of every Nth batch go to
    ``log_dir/train`` too, as ``batch_loss``, ... (the step counts batches from 1 across epochs;
    the values are the running means ``fit`` reports). Every ``histogram_freq`` epochs each
    layer's weights are written as histograms ``sequential/dense/kernel/histogram``, ...
    (tagged by the weight's path, as Keras 3 tags them).

    Keras also writes ``evaluation_<metric>_vs_iterations`` from ``on_test_end``; chainrule's
    ``fit`` validates without the test hooks, so those are not written.

    The graph: with ``write_graph``, the model's configuration (``model.to_json()``) is written
    once as the summary ``keras``, which TensorBoard's Graphs tab draws as the conceptual graph,
    as Keras writes it. The op graph Keras adds under TensorFlow comes from a traced
    ``tf.function``; chainrule records no such graph, so none is written.

    Needs the ``tensorboard`` package (``pip install "chainrule[tensorboard]"``), not TensorFlow.

    Args:
        log_dir: the folder for the event files (its ``train`` and ``validation`` subfolders).
        histogram_freq: write weight histograms every this many epochs (0: never).
        write_graph: write the model's configuration for the Graphs tab.
        write_images: accepted; weights as images are not written (a warning says so).
        write_steps_per_second: also write ``epoch_steps_per_second`` and, with batch-level
            logging, ``batch_steps_per_second``.
        update_freq: "epoch", "batch" (every batch) or an integer N (every Nth batch).
        profile_batch: must be 0; profiling needs TensorFlow or JAX, as in Keras's NumPy
            backend.
        embeddings_freq, embeddings_metadata: accepted; embeddings are not written (a warning
            says so when ``embeddings_freq`` is not 0).

    Raises:
        ImportError: the tensorboard package is not installed; the message says how to install it.
        ValueError: ``update_freq`` neither "epoch", "batch" nor a positive integer,
            ``histogram_freq`` negative, or ``profile_batch`` not 0.

    Example::

        model.fit(x, y, epochs=5, validation_split=0.2, callbacks=[TensorBoard("logs")])
        # then: tensorboard --logdir=logs
    """

    primary_only = True  # with several processes training, only process 0 writes events

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        self._tb = _tensorboard()
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (
            isinstance(update_freq, bool) or not isinstance(update_freq, int) or update_freq < 1
        ):
            raise ValueError(
                f'TensorBoard: update_freq must be "epoch", "batch" or a positive integer (every '
                f"that many batches); got {update_freq!r}"
            )
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int):
            raise ValueError(
                f"TensorBoard: histogram_freq must be a non-negative integer; got "
                f"{histogram_freq!r}"
            )
        if histogram_freq < 0:
            raise ValueError(
                f"TensorBoard: histogram_freq must be a non-negative integer; got {histogram_freq}"
            )
        if profile_batch:
            raise ValueError(
                f"TensorBoard: profiling is not available in chainrule (as in Keras's NumPy "
                f"backend); got profile_batch={profile_batch!r} (must be 0)"
            )
        for name, asked in (("write_images", write_images), ("embeddings_freq", embeddings_freq)):
            if asked:
                warnings.warn(
                    f"TensorBoard: {name}={asked!r} is not supported; the losses, metrics, "
                    f"histograms and graph are written without it.",
                    UserWarning,
                    stacklevel=2,
                )
        self.log_dir = str(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = update_freq
        self.profile_batch = profile_batch
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._writers = {}
        self._global_train_batch = 0
        self._batch_start = self._epoch_start = 0.0
        self._epoch_first_batch = 0

    # ----- the writers -------------------------------------------------------------------------
    def _writer(self, run):
        """The event file writer of ``log_dir/run``, created when first written to."""
        if run not in self._writers:
            self._writers[run] = self._tb.EventFileWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def _write(self, run, step, values):
        """One event holding the ``Summary.Value`` protos ``values`` at ``step``."""
        summary = self._tb.summary_pb2.Summary(value=values)
        event = self._tb.event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
        self._writer(run).add_event(event)

    def _scalars(self, run, step, scalars):
        value = self._tb.summary_pb2.Summary.Value
        self._write(
            run, step, [value(tag=tag, simple_value=float(v)) for tag, v in scalars.items()]
        )

    def _close(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # ----- the hooks ---------------------------------------------------------------------------
    def set_model(self, model):
        super().set_model(model)
        self._close()  # a new fit writes new event files, as Keras's set_model resets them

    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        if self.write_graph:
            self._write_model_config()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._epoch_first_batch = self._global_train_batch

    def on_train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if self.update_freq == "epoch" or step % self.update_freq:
            return
        scalars = {f"batch_{name}": value for name, value in (logs or {}).items()}
        if self.write_steps_per_second:
            scalars["batch_steps_per_second"] = 1 / max(
                time.perf_counter() - self._batch_start, 1e-9
            )
        self._scalars("train", step, scalars)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {f"epoch_{k}": v for k, v in logs.items() if not k.startswith("val_")}
        validation = {f"epoch_{k[4:]}": v for k, v in logs.items() if k.startswith("val_")}
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            train["epoch_learning_rate"] = float(optimizer.learning_rate)
        if self.write_steps_per_second:
            steps = self._global_train_batch - self._epoch_first_batch
            seconds = max(time.perf_counter() - self._epoch_start, 1e-9)
            train["epoch_steps_per_second"] = steps / seconds
        self._scalars("train", epoch, train)
        if validation:
            self._scalars("validation", epoch, validation)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_histograms(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        self._close()

    # ----- histograms and the graph ------------------------------------------------------------
    def _write_histograms(self, epoch):
        values = []
        for layer in self.model.layers:
            for weight in layer.weights:
                tag = f"{weight.path or weight.name}/histogram".replace(":", "_")
                values.append(
                    self._tb.summary_pb2.Summary.Value(tag=tag, histo=self._histogram(weight.data))
                )
        if values:
            self._write("train", epoch, values)

    def _histogram(self, array):
        """The values of ``array`` as a HistogramProto: HISTOGRAM_BINS equal buckets from the
        least value to the greatest (``bucket_limit`` holds each bucket's right edge)."""
        values = np.asarray(array, dtype=np.float64).ravel()
        if values.size == 0:
            return self._tb.summary_pb2.HistogramProto()
        low, high = float(values.min()), float(values.max())
        if low == high:  # one value: one bucket around it
            low, high = low - 0.5, high + 0.5
        counts, edges = np.histogram(values, bins=HISTOGRAM_BINS, range=(low, high))
        return self._tb.summary_pb2.HistogramProto(
            min=float(values.min()),
            max=float(values.max()),
            num=float(values.size),
            sum=float(values.sum()),
            sum_squares=float(values @ values),
            bucket_limit=[float(edge) for edge in edges[1:]],
            bucket=[float(count) for count in counts],
        )

    def _write_model_config(self):
        """The model's configuration as the string summary ``keras`` of the plugin
        ``graph_keras_model`` (Keras's ``keras_model_summary``) at step 0; a model that cannot
        be written as JSON (a subclassed one) is skipped, as Keras skips it."""
        try:
            config = self.model.to_json()
        except Exception as err:  # as Keras: a model that cannot be serialized is not fatal
            warnings.warn(f"TensorBoard: the model's graph is not written: {err}", stacklevel=3)
            return
        tb = self._tb
        metadata = tb.summary_pb2.SummaryMetadata(
            plugin_data=tb.summary_pb2.SummaryMetadata.PluginData(
                plugin_name="graph_keras_model", content=b"1"
            )
        )
        tensor = tb.tensor_pb2.TensorProto(
            dtype=tb.types_pb2.DT_STRING,
            tensor_shape=tb.tensor_shape_pb2.TensorShapeProto(),
            string_val=[config.encode("utf-8")],
        )
        value = tb.summary_pb2.Summary.Value(tag="keras", metadata=metadata, tensor=tensor)
        self._write("train", 0, [value])


def _tensorboard():
    """The parts of the tensorboard package the callback writes with, imported on first use."""
    try:
        from tensorboard.compat.proto import (
            event_pb2,
            summary_pb2,
            tensor_pb2,
            tensor_shape_pb2,
            types_pb2,
        )
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as err:
        raise ImportError(
            f"keras.callbacks.TensorBoard writes its event files with the tensorboard package, "
            f"which is not installed: {INSTALL}"
        ) from err
    return SimpleNamespace(
        EventFileWriter=EventFileWriter,
        event_pb2=event_pb2,
        summary_pb2=summary_pb2,
        tensor_pb2=tensor_pb2,
        tensor_shape_pb2=tensor_shape_pb2,
        types_pb2=types_pb2,
    )
