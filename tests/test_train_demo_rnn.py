"""``symbp demo``'s recurrent step (:mod:`symbp.train.demo_rnn`): the noisy-sine windows,
the prediction plot, the step skipped with the stage's reason while the generated trainer
refuses recurrent nets, and (once it takes them) the trained net's test error and files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from rich.console import Console

from symbp.train import demo_rnn
from symbp.train.demo import DemoLog, _summary, demo_files
from symbp.train.plots import sequence_predictions

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_windows_predict_the_next_value_of_the_seeded_series() -> None:
    data = demo_rnn.sine_data()
    assert data.X_train.shape == (794, 20, 1) and data.X_test.shape == (29, 20, 1)
    rng = np.random.default_rng(0)
    i = np.arange(3000)
    expected = np.sin(2 * np.pi * i / 25) + 0.1 * rng.standard_normal(3000)
    assert np.array_equal(data.series, expected)
    # training window w starts at 3w; test window k at 2400 + 20k: inputs s_i.., targets s_i+1..
    assert np.array_equal(data.X_train[5, :, 0], expected[15:35])
    assert np.array_equal(data.Y_train[5, :, 0], expected[16:36])
    assert data.X_train[-1, 0, 0] == expected[3 * 793] and 3 * 793 + 20 < 2400
    assert np.array_equal(data.test_starts, 2400 + 20 * np.arange(29))
    assert np.array_equal(data.X_test[:, :, 0].ravel(), expected[2400:2980])
    assert np.array_equal(data.Y_test[:, :, 0].ravel(), expected[2401:2981])
    diff = expected[2401:2981] - expected[2400:2980]
    assert data.persistence_mse() == pytest.approx(float(np.mean(diff**2)), rel=1e-15)


def test_the_spec_carries_pytorch_default_init_in_its_params() -> None:
    spec = demo_rnn.sine_rnn_spec()
    W, U, b = (np.array(spec["params"][k][0]) for k in ("W", "U", "b"))
    V, c = np.array(spec["params"]["W"][1]), np.array(spec["params"]["b"][1])
    assert (W.shape, U.shape, b.shape, V.shape, c.shape) == (
        (32, 1),
        (32, 32),
        (32,),
        (1, 32),
        (1,),
    )
    rng = np.random.default_rng(0)
    bound = 1 / np.sqrt(32)
    assert np.array_equal(W, rng.uniform(-bound, bound, (32, 1)))
    assert np.array_equal(U, rng.uniform(-bound, bound, (32, 32)))
    assert spec["params"]["U"][1] is None
    assert {k: v for k, v in spec.items() if k != "params"} == demo_rnn.SINE_RNN


def test_the_prediction_plot_is_a_png_of_the_stated_size() -> None:
    x = np.arange(1, 41)
    s = np.sin(x / 3.0)
    predicted = np.where(x % 20 == 1, np.nan, s + 0.05)
    png = sequence_predictions(x, s, predicted, "a $title$", starts=[1, 21], clean=s)
    assert png.startswith(PNG)
    assert imread(io.BytesIO(png)).shape == (440, 1056, 4)  # 9.6 x 4.0 in at 110 dpi
    assert sequence_predictions(x, s, predicted, "a $title$", starts=[1, 21], clean=s) == png


def test_the_demo_names_the_rnn_files() -> None:
    names = demo_files()
    assert "sine_rnn/predictions.png" in names and "sine_rnn/predictions.csv" in names


def test_the_demo_trains_the_rnn_and_plots_its_predictions(tmp_path: Path) -> None:
    """Issue 29, item 8: the generated trainer trains the Elman net below the target test
    MSE (well below persistence), and the files hold the predictions it scored."""
    console = Console(file=io.StringIO())
    mse, summary = demo_rnn.train_sine_rnn(tmp_path, progress=True, console=console)
    data = demo_rnn.sine_data()
    assert mse <= demo_rnn.RNN_TARGET_MSE < data.persistence_mse()
    assert f"test MSE {mse:.4f} over 29 windows" in summary
    assert "sine_rnn epoch 30/30" in console.file.getvalue()  # type: ignore[attr-defined]
    png = (tmp_path / "predictions.png").read_bytes()
    assert png.startswith(PNG) and imread(io.BytesIO(png)).shape == (440, 1056, 4)
    rows = (tmp_path / "predictions.csv").read_text().splitlines()
    assert rows[0] == "index,observed,clean,predicted" and len(rows) == 1 + 29 * 20
    table = np.array([[float(v) for v in row.split(",")] for row in rows[1:]])
    assert np.array_equal(table[:, 0], np.arange(2401, 2981))
    assert np.array_equal(table[:, 1], data.series[2401:2981])
    assert float(np.mean((table[:, 3] - table[:, 1]) ** 2)) == pytest.approx(mse, rel=1e-12)


def test_the_summary_states_the_rnn_error_against_its_target() -> None:
    log = DemoLog()
    log.add("train sine RNN", "trained")
    reached = _summary(log, Path("out"), 0.97, 1.0, 0.98, 0.0247)
    assert "\nsine RNN test MSE: 0.0247 (reached the 0.03 target)\n" in reached
    missed = _summary(log, Path("out"), 0.97, 1.0, 0.98, 0.0312)
    assert "\nsine RNN test MSE: 0.0312 (MISSED the 0.03 target)\n" in missed
    assert "sine RNN" not in _summary(log, Path("out"), 0.97, 1.0, 0.98).replace(
        "train sine RNN", ""
    )
