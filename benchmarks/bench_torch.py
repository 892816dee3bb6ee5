"""PyTorch (CPU): the idiomatic loop, with index slicing and no DataLoader.

The model is nn.Sequential of Linear and ReLU layers ending in logits, trained on
``F.cross_entropy`` (softmax + cross-entropy in one op, as PyTorch users write it) with
``torch.optim.SGD`` or ``torch.optim.Adam`` at their defaults but the workload's learning rate.
The kernels start from the same glorot uniform draw as the NumPy reference's.
"""

import time

_began = time.perf_counter()  # the framework's import, first in a fresh interpreter
import torch

IMPORT_SECONDS = time.perf_counter() - _began

import numpy as np
import numpy_loop
from common import CLASSES, PIXELS, EpochClock, load_mnist, parse_args, write_result
from torch import nn
from torch_epoch import train_epoch

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


def build_model(hidden, seed):
    """Linear/ReLU stack with the NumPy reference's initial weights (W is stored transposed)."""
    params = numpy_loop.init_params(np.random.default_rng(seed), (PIXELS, *hidden, CLASSES))
    layers = []
    for kernel, bias in zip(params[0::2], params[1::2]):
        linear = nn.Linear(*kernel.shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(kernel.T))
            linear.bias.copy_(torch.from_numpy(bias))
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def main():
    args = parse_args(__doc__)
    config = args.config
    data = load_mnist(args.data)
    torch.manual_seed(args.seed)
    x, labels = torch.from_numpy(data["x_train"]), torch.from_numpy(data["labels_train"])
    model = build_model(config["hidden"], args.seed)
    optimizer = OPTIMIZERS[config["optimizer"]](model.parameters(), lr=config["learning_rate"])
    clock = EpochClock()
    for _ in range(config["epochs"]):
        clock.start()
        loss, train_accuracy = train_epoch(model, optimizer, x, labels, config["batch_size"])
        clock.stop()
    with torch.no_grad():
        predicted = model(torch.from_numpy(data["x_test"])).argmax(1).numpy()
    accuracy = np.mean(predicted == data["labels_test"])
    logs = {"loss": loss, "accuracy": train_accuracy}
    backend = {
        "blas": "mkl" if torch.backends.mkl.is_available() else "not mkl",
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "intra_op_threads": torch.get_num_threads(),
        "inter_op_threads": torch.get_num_interop_threads(),
    }
    write_result(
        args,
        "pytorch",
        torch.__version__,
        IMPORT_SECONDS,
        clock,
        len(data["x_train"]),
        accuracy,
        logs,
        backend,
    )


if __name__ == "__main__":
    main()
