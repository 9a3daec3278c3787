"""Run folders and killed commands (issue 25, item 1), with real processes.

``symbp train`` runs in a child process that a test stops with SIGTERM or
``kill -9`` mid-run; ``symbp doc --format pdf`` runs with a stand-in TeX engine
(a shell script that starts a grandchild and sleeps) so that the moment of the
signal is certain. Process tables are read from ``/proc``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import symbp
from symbp.cli import main
from symbp.errors import SymbpError
from symbp.outputs import MANIFEST

IRIS = {
    "name": "../escape",
    "layers": [4, 6, 3],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "init": {"name": "xavier_uniform", "seed": 1},
    "training": {"epochs": 3, "batch_size": 8, "shuffle": True, "seed": 0},
}
SYMBP = [sys.executable, "-m", "symbp"]
pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "iris.yaml"
    path.write_text(yaml.safe_dump(IRIS), encoding="utf-8")
    return path


def _manifest(folder: Path) -> dict | None:  # type: ignore[type-arg]
    try:
        return json.loads((folder / MANIFEST).read_text())  # type: ignore[no-any-return]
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _wait(predicate, seconds: float = 240.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _processes() -> dict[int, tuple[str, int, int]]:
    """pid → (command name, parent pid, session id) of every live process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z":  # zombies are dead
            table[int(entry.name)] = (name, int(fields[1]), int(fields[3]))
    return table


def test_a_spec_named_dot_dot_escape_trains_into_a_folder_under_runs(
    spec_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["train", str(spec_file), "--data", "iris", "--quiet"]) == 0
    assert main(["train", str(spec_file), "--data", "iris", "--quiet"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]  # nothing beside work/
    assert sorted(p.name for p in work.iterdir()) == ["runs"]
    assert sorted(p.name for p in (work / "runs").iterdir()) == ["escape-iris", "escape-iris-2"]
    for run in ("escape-iris", "escape-iris-2"):
        manifest = _manifest(work / "runs" / run)
        assert manifest is not None and manifest["complete"] is True
        assert "params.npz" in manifest["files"]


def test_two_trains_into_one_folder_and_a_killed_train(
    spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.Popen(
        [*SYMBP, "train", str(spec_file), "--data", "iris", "-o", str(out), "--quiet",
         "--epochs", "100000000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        _wait(lambda: (_manifest(out) or {}).get("complete") is False)
        second = subprocess.run(
            [*SYMBP, "train", str(spec_file), "--data", "iris", "-o", str(out), "--quiet"],
            capture_output=True, text=True, timeout=240, env=env,
        )  # fmt: skip
        assert second.returncode == 2
        assert second.stderr.count("\n") == 1
        assert f"{out} is being written by another symbp command (it is locked)" in second.stderr
        assert first.poll() is None  # the first run is still training, undisturbed
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 128 + signal.SIGTERM
    assert err.decode().strip().splitlines()[-1] == "symbp train: stopped by SIGTERM"
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST]  # nothing half-written
    assert _manifest(out) == {
        "written_by": "symbp", "command": "train", "complete": False,
        "files": {n: "train" for n in (
            "accuracy.png", "feature_sensitivity.png", "gradient_norms.png", "loss.png",
            "metrics.csv", "metrics.json", "params.npz", "sensitivity.csv",
        )},
    }  # fmt: skip
    with pytest.raises(SymbpError, match="incomplete run folder: the symbp train that wrote it"):
        symbp.load_trainer(out)
    (out / "params.npz").write_bytes(b"not reached")  # as if killed while writing the files
    assert main(["export-spec", str(out), "-o", str(tmp_path / "spec.yaml")]) == 2
    assert not (tmp_path / "spec.yaml").exists()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        f"symbp export-spec: error: {out}: incomplete run folder: the symbp train that wrote it "
        "was stopped before the end"
    )
    # a later run says so, replaces symbp's files and marks the folder complete
    later = subprocess.run(
        [*SYMBP, "train", str(spec_file), "--data", "iris", "-o", str(out), "--quiet"],
        capture_output=True, text=True, timeout=240, env=env,
    )  # fmt: skip
    assert later.returncode == 0
    assert f"note: {out} holds an incomplete run" in later.stderr
    assert (_manifest(out) or {})["complete"] is True
    assert symbp.load_trainer(out).spec.name == "../escape"


def test_kill_9_mid_run_leaves_the_folder_marked_incomplete_and_unlocked(
    spec_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    first = subprocess.Popen(
        [*SYMBP, "train", str(spec_file), "--data", "iris", "-o", str(out), "--quiet",
         "--epochs", "100000000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait(lambda: (_manifest(out) or {}).get("complete") is False)
    finally:
        first.kill()
        first.wait()
    assert first.returncode == -signal.SIGKILL
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST]
    with pytest.raises(SymbpError, match="incomplete run folder"):
        symbp.load_trainer(out)
    # the kernel released the lock with the process: a new run may take the folder
    assert main(["train", str(spec_file), "--data", "iris", "-o", str(out), "--quiet"]) == 0
    assert (_manifest(out) or {})["complete"] is True


ENGINE = """#!/bin/sh
sleep 300 &
echo "$!" > "{pids}/sleep.pid"
echo "$$" > "{pids}/engine.pid"
wait
"""


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stopped_pdf_build_leaves_no_engine_and_no_temporary_folder(
    tmp_path: Path, signum: int, code: int
) -> None:
    bin_dir, pids, tmp = tmp_path / "bin", tmp_path / "pids", tmp_path / "tmp"
    for folder in (bin_dir, pids, tmp):
        folder.mkdir()
    engine = bin_dir / "pdflatex"
    engine.write_text(ENGINE.format(pids=pids))
    engine.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "TMPDIR": str(tmp)}
    spec = Path(__file__).resolve().parent.parent / "examples" / "koech_3_4_1.yaml"
    out = tmp_path / "doc.pdf"
    doc = subprocess.Popen(
        [*SYMBP, "doc", str(spec), "--format", "pdf", "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        _wait(lambda: (pids / "sleep.pid").exists() and (pids / "engine.pid").exists())
        engine_pid = int((pids / "engine.pid").read_text())
        sleep_pid = int((pids / "sleep.pid").read_text())
        session = _engine_session(doc.pid, engine_pid, sleep_pid)
        assert any(tmp.iterdir())  # the work folder exists while the engine runs
        doc.send_signal(signum)
        _, err = doc.communicate(timeout=60)
    finally:
        if doc.poll() is None:
            doc.kill()
            doc.wait()
    assert doc.returncode == code
    assert err.decode().count("\n") == 1
    table = _processes()
    assert engine_pid not in table and sleep_pid not in table
    assert not [pid for pid, (_, _, sid) in table.items() if sid == session]
    assert list(tmp.iterdir()) == []  # the temporary work folder is gone
    assert not out.exists() and not out.with_suffix(".tex").exists()


def _engine_session(symbp_pid: int, engine_pid: int, sleep_pid: int) -> int:
    """The session the engine runs in: led by symbp's child (on Linux the guard of
    :mod:`symbp.render.engine`, whose child the engine is), the engine's own child in it."""
    table = _processes()
    session = table[engine_pid][2]
    assert table[session][1] == symbp_pid  # symbp's child ...
    assert table[session][2] == session  # ... leads its own session
    assert engine_pid == session or table[engine_pid][1] == session
    assert table[sleep_pid][2] == session  # the engine's own child is in it too
    return session


def test_kill_9_of_a_pdf_build_leaves_no_engine_and_the_next_build_sweeps_its_folder(
    tmp_path: Path,
) -> None:
    bin_dir, pids, tmp = tmp_path / "bin", tmp_path / "pids", tmp_path / "tmp"
    for folder in (bin_dir, pids, tmp):
        folder.mkdir()
    engine = bin_dir / "pdflatex"
    engine.write_text(ENGINE.format(pids=pids))
    engine.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "TMPDIR": str(tmp)}
    spec = Path(__file__).resolve().parent.parent / "examples" / "koech_3_4_1.yaml"
    command = [*SYMBP, "doc", str(spec), "--format", "pdf", "-o", str(tmp_path / "doc.pdf")]
    doc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        _wait(lambda: (pids / "sleep.pid").exists() and (pids / "engine.pid").exists())
        engine_pid = int((pids / "engine.pid").read_text())
        sleep_pid = int((pids / "sleep.pid").read_text())
        session = _engine_session(doc.pid, engine_pid, sleep_pid)
    finally:
        doc.kill()
        doc.wait()
    assert doc.returncode == -signal.SIGKILL
    # the kernel tells the guard, which kills the engine's whole group
    _wait(lambda: not [p for p, (_, _, sid) in _processes().items() if sid == session], 30)
    left = [p.name for p in tmp.iterdir()]
    assert len(left) == 1 and left[0].startswith(f"symbp-tex-{doc.pid}-")
    # the next build (its engine fails at once) removes the dead process's folder
    engine.write_text("#!/bin/sh\nexit 1\n")
    again = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240)
    assert again.returncode != 0 and again.stderr.count("\n") == 1
    assert list(tmp.iterdir()) == []
