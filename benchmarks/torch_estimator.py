"""A scikit-learn classifier around a PyTorch eager MLP, for :mod:`grid_search`.

One hidden ReLU layer, softmax cross-entropy, He-uniform initial weights (PyTorch's
``kaiming_uniform_`` with ReLU's gain), shuffled minibatches, SGD (no momentum) or Adam;
the network and loop a PyTorch user writes, timed as it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class TorchMLP(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    def __init__(
        self,
        solver: str = "sgd",
        lr: float = 0.01,
        hidden: int = 64,
        beta1: float = 0.9,
        epochs: int = 20,
        batch_size: int = 32,
    ) -> None:
        self.solver = solver
        self.lr = lr
        self.hidden = hidden
        self.beta1 = beta1
        self.epochs = epochs
        self.batch_size = batch_size

    def fit(self, X: np.ndarray, y: np.ndarray) -> TorchMLP:
        import torch

        torch.manual_seed(0)
        torch.set_num_threads(1)
        self.classes_, labels = np.unique(y, return_inverse=True)
        model = torch.nn.Sequential(
            torch.nn.Linear(X.shape[1], self.hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(self.hidden, len(self.classes_)),
        ).double()
        for layer in (model[0], model[2]):
            torch.nn.init.kaiming_uniform_(layer.weight, nonlinearity="relu")
            torch.nn.init.zeros_(layer.bias)
        opt: Any = (
            torch.optim.SGD(model.parameters(), lr=self.lr)
            if self.solver == "sgd"
            else torch.optim.Adam(model.parameters(), lr=self.lr, betas=(self.beta1, 0.999))
        )
        loss_fn = torch.nn.CrossEntropyLoss()
        Xt = torch.tensor(X, dtype=torch.float64)
        yt = torch.tensor(labels, dtype=torch.long)
        gen = torch.Generator().manual_seed(0)
        for _ in range(self.epochs):
            order = torch.randperm(len(Xt), generator=gen)
            for start in range(0, len(Xt), self.batch_size):
                rows = order[start : start + self.batch_size]
                opt.zero_grad()
                loss = loss_fn(model(Xt[rows]), yt[rows])
                loss.backward()
                opt.step()
        self.model_ = model
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            scores = self.model_(torch.tensor(X, dtype=torch.float64))
        return self.classes_[scores.argmax(dim=1).numpy()]
