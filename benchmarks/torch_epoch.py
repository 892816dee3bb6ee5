"""One epoch of PyTorch's idiomatic training loop, shared by the PyTorch benchmarks.

Imported only inside the PyTorch virtual environment (it needs torch).
"""

import torch
import torch.nn.functional as F


def train_epoch(model, optimizer, x, labels, batch_size):
    """One pass over (x, labels) in a fresh random order, with index slicing (no DataLoader) and
    cross-entropy on logits. Returns (mean loss, accuracy) over the epoch."""
    n = len(x)
    total_loss = correct = 0.0
    order = torch.randperm(n)
    for start in range(0, n, batch_size):
        index = order[start : start + batch_size]
        xb, yb = x[index], labels[index]
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total_loss += loss.item() * len(index)
        correct += (logits.argmax(1) == yb).sum().item()
    return total_loss / n, correct / n
