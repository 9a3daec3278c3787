"""The cell records' PyTorch layout: where each block of ``b`` goes in ``bias_ih`` and
``bias_hh``, and back (used by ``state_dict``, ``to_torch`` and ``verify --against torch``)."""

from __future__ import annotations

import numpy as np
import pytest

from symbp.layers.cells import CELLS, ELMAN, GRU, LSTM


def test_gru_keeps_the_candidate_recurrent_bias_apart() -> None:
    n = 2
    b = np.arange(1.0, 9.0)  # blocks r, z, n, hn of 2 units
    ih, hh = GRU.torch_biases(b, n)
    np.testing.assert_array_equal(ih, [1, 2, 3, 4, 5, 6])
    np.testing.assert_array_equal(hh, [0, 0, 0, 0, 7, 8])
    # PyTorch's biases split any way: the r and z blocks add, n and hn stay apart.
    back = GRU.from_torch_biases(
        np.array([1.0, 2, 3, 4, 5, 6]), np.array([10.0, 20, 30, 40, 7, 8]), n
    )
    np.testing.assert_array_equal(back, [11, 22, 33, 44, 5, 6, 7, 8])


@pytest.mark.parametrize("cell", [ELMAN, LSTM], ids=lambda c: c.name)
def test_one_bias_cells_sum_pytorchs_two(cell) -> None:  # type: ignore[no-untyped-def]
    n = 3
    size = len(cell.gates) * n
    b = np.linspace(-1.0, 1.0, size)
    ih, hh = cell.torch_biases(b, n)
    np.testing.assert_array_equal(ih, b)
    np.testing.assert_array_equal(hh, np.zeros(size))
    ih2, hh2 = np.arange(size, dtype=float), np.full(size, 0.5)
    np.testing.assert_array_equal(cell.from_torch_biases(ih2, hh2, n), ih2 + 0.5)


@pytest.mark.parametrize("name", sorted(CELLS))
def test_round_trip(name: str) -> None:
    cell = CELLS[name]
    n = 4
    b = np.random.default_rng(1).normal(size=len(cell.biases) * n)
    np.testing.assert_array_equal(cell.from_torch_biases(*cell.torch_biases(b, n), n), b)


def test_only_the_elman_cell_takes_a_nonlinearity() -> None:
    assert ELMAN.torch_options("relu") == {"nonlinearity": "relu"}
    assert GRU.torch_options("tanh") == {} and LSTM.torch_options("tanh") == {}
    assert ELMAN.torch_nonlinearities == ("tanh", "relu") and GRU.torch_nonlinearities == ()
