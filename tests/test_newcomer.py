"""The newcomer's path: shipped examples by name, a spec from standard input, the
README's commands and CI agreeing, extras the docs name, no workspace path in shipped
text, the demo's wording for the misprint it finds, and ``exercises``' progress.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import symbp
from symbp.cli import main
from symbp.errors import SpecError
from symbp.exercises import make_exercises
from symbp.exercises.progress import DRAWING, SILENT, progress_bar
from symbp.shipped import names
from symbp.spec.sizing import spec_source
from symbp.spec.source import read_stdin
from symbp.train.demo import verify_outcome
from symbp.verify import verify
from symbp.verify.compare import MISMATCH

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "koech_3_4_1.yaml"
#: The optional extras' top-level modules (``pyproject.toml``'s optional dependencies).
EXTRA_MODULES = ("torch", "onnx", "onnxruntime", "jax", "dask")

EXERCISE_SPEC = """\
name: ex-2-2-1
layers: [2, 2, 1]
activations: sigmoid
loss: half_sse
optimizer: {name: sgd, learning_rate: 0.5}
params:
  W: [[[0.1, -0.2], [0.4, 0.3]], [[0.5, -0.6]]]
  b: [[0.1, -0.1], [0.2]]
example: {x: [0.5, 0.8], t: [1]}
"""


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


# --- shipped examples by name ------------------------------------------------------------


def test_a_shipped_example_loads_by_name(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no file of that name here
    by_path = symbp.load(EXAMPLE)
    for name in ("koech_3_4_1", "koech_3_4_1.yaml"):
        spec = symbp.load(name)
        assert spec.data == by_path.data
        assert spec.hash == by_path.hash
        assert spec.path == "koech_3_4_1.yaml"  # its name, never where it is installed


def test_an_existing_file_wins_over_the_example(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    mine = "name: mine\nlayers: [1, 1]\nactivations: identity\nloss: half_sse\n"
    Path("koech_3_4_1").write_text(mine, encoding="utf-8")
    Path("koech_3_4_1.yaml").write_text(mine.replace("mine", "mine-yaml"), encoding="utf-8")
    assert symbp.load("koech_3_4_1").name == "mine"
    assert symbp.load("koech_3_4_1.yaml").name == "mine-yaml"
    assert symbp.load("koech_3_4_1").layers == (1, 1)


def test_neither_file_nor_example_is_one_line_with_near_names(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["eval", "koech_341"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "symbp eval: error: koech_341: file not found, and no shipped example has that name "
        "(nearest: koech_3_4_1, koech_3_4_1_figure, koech_3_4_1_claims)\n"
    )
    assert main(["derive", "zzzz"]) == 2
    assert capsys.readouterr().err == (
        "symbp derive: error: zzzz: file not found, and no shipped example has that name "
        "(`symbp examples` lists them)\n"
    )


def test_a_path_with_folders_never_names_an_example(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError, match=r"^sub/koech_3_4_1: file not found$"):
        symbp.load("sub/koech_3_4_1")


def test_doc_by_name_writes_the_same_document(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["doc", "koech_3_4_1", "-o", "by_name.html", "-q"]) == 0
    assert main(["doc", str(EXAMPLE), "-o", "by_path.html", "-q"]) == 0
    assert capsys.readouterr() == ("", "")
    by_name = (tmp_path / "by_name.html").read_bytes()
    assert by_name == (tmp_path / "by_path.html").read_bytes()
    assert b"koech_3_4_1.yaml" in by_name and str(ROOT).encode() not in by_name


# --- a spec from standard input ----------------------------------------------------------


def test_eval_reads_the_spec_from_stdin(monkeypatch, capsys) -> None:
    assert main(["eval", str(EXAMPLE), "--steps", "2"]) == 0
    from_file = capsys.readouterr().out
    _stdin(monkeypatch, EXAMPLE.read_bytes())
    assert main(["eval", "-", "--steps", "2"]) == 0
    assert capsys.readouterr().out == from_file
    assert "│ 0.0835993 │ 0.520888 │" in from_file  # ŷ after 0 updates


def test_stdin_through_a_real_pipe() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "symbp", "eval", "-", "--json"],
        input=EXAMPLE.read_bytes(),
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    steps = json.loads(done.stdout)["steps"]
    assert [s["step"] for s in steps] == [0, 1]
    assert steps[0]["a"][-1] == [pytest.approx(0.5208876705997051, abs=1e-15)]  # ŷ = 0.521
    assert steps[1]["a"][-1] == [pytest.approx(0.6478281530953907, abs=1e-15)]  # ŷ = 0.648


def test_stdin_is_read_once_for_every_look_at_the_spec(monkeypatch) -> None:
    _stdin(monkeypatch, b"layers: [2, 1]\nactivations: sigmoid\nloss: bce\n")
    data, _, file = spec_source("-")  # train looks at the spec's sizes first ...
    spec = symbp.load("-")  # ... then loads it
    assert data["layers"] == [2, 1] and file == "<stdin>"
    assert spec.layers == (2, 1)
    assert spec.name == "stdin" and spec.path == "<stdin>"


def test_stdin_errors_name_stdin(monkeypatch, capsys) -> None:
    _stdin(monkeypatch, b"layers: [2, x]\n")
    assert main(["eval", "-"]) == 2
    assert capsys.readouterr().err == (
        "symbp eval: error: <stdin>:1: layers[1]: expected a whole number, found 'x'\n"
    )
    _stdin(monkeypatch, b"")
    assert main(["eval", "-"]) == 2
    assert "<stdin>: the file is empty" in capsys.readouterr().err


def test_stdin_is_bounded_like_a_file(monkeypatch) -> None:
    _stdin(monkeypatch, b"#" * 101)
    with pytest.raises(SpecError, match=r"^<stdin>: standard input holds more than 100 bytes"):
        read_stdin(max_bytes=100)
    _stdin(monkeypatch, b"#" * 100)
    assert read_stdin(max_bytes=100) == b"#" * 100


def test_a_terminal_as_stdin_is_refused(monkeypatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    with pytest.raises(SpecError, match=r"standard input is a terminal; pipe a spec into it"):
        symbp.load("-")


# --- the demo's wording ------------------------------------------------------------------


def test_the_demo_calls_the_explained_mismatch_a_misprint_found() -> None:
    report = verify("koech_3_4_1_claims")
    text, ok = verify_outcome(report)
    assert ok
    assert text == (
        "koech-3-4-1-claims: 13 claims: 12 confirmed, 0 truncated, 1 mismatch (1 explained)"
        " — misprint found (explained); see the report"
    )
    assert "FAIL" not in text


def test_the_demo_fails_a_mismatch_nothing_explains() -> None:
    report = verify("koech_3_4_1_claims")
    bare = tuple(
        dataclasses.replace(r, findings=()) if r.verdict == MISMATCH else r for r in report.results
    )
    text, ok = verify_outcome(dataclasses.replace(report, results=bare))
    assert not ok
    assert text.endswith("— FAIL; 1 mismatch(es) not explained (see the report)")


def test_the_demo_says_so_when_every_claim_holds() -> None:
    text, ok = verify_outcome(verify("seed000_forward_claims"))
    assert ok and text.endswith(" — all claims hold")


# --- shipped text, docs, extras and CI ----------------------------------------------------

_WORKSPACE = re.compile(r"(?<![\w.:/])/(?:work|home|root|tmp|Users|mnt)/")


def _shipped_texts() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder in ("generated", "docs", "examples"):
        files += [
            p
            for p in sorted((ROOT / folder).rglob("*"))
            if p.is_file()
            and p.suffix in {".py", ".md", ".html", ".tex", ".yaml", ".csv", ".txt", ".xml"}
        ]
    return files


def test_shipped_text_names_no_workspace_path() -> None:
    files = _shipped_texts()
    assert len(files) > 60
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert str(ROOT) not in text, path
        found = _WORKSPACE.search(text)
        assert found is None, f"{path}: {text[max(0, found.start() - 40) : found.end() + 40]!r}"


def _pyproject() -> dict:
    tomllib = pytest.importorskip("tomllib", reason="tomllib is in Python 3.11+")
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_extra_the_docs_name_exists() -> None:
    extras = set(_pyproject()["project"]["optional-dependencies"])
    assert {"test", "torch", "onnx", "jax", "dask"} <= extras
    sources = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    sources += sorted((ROOT / "symbp").rglob("*.py")) + sorted((ROOT / "tests").glob("*.py"))
    named = {
        (m.group(1), path.name)
        for path in sources
        for m in re.finditer(r"symbp\[(\w+)\]", path.read_text(encoding="utf-8"))
    }
    assert ("dask", "guide-train.md") in named
    assert {extra for extra, _ in named} <= extras, named


def test_onnx_and_dask_extras_install_what_they_say() -> None:
    extras = _pyproject()["project"]["optional-dependencies"]
    assert extras["onnx"] == ["onnx", "onnxruntime"]
    assert extras["dask"] == ["dask[distributed]"]


def test_mypy_needs_no_extra_installed() -> None:
    ignored = {
        module
        for override in _pyproject()["tool"]["mypy"]["overrides"]
        if override.get("ignore_missing_imports")
        for module in override["module"]
    }
    for module in EXTRA_MODULES:
        assert {module, f"{module}.*"} <= ignored, module


def test_tests_of_extras_skip_with_a_reason_and_are_marked() -> None:
    call = re.compile(r"importorskip\(\s*\"(\w+)[\w.]*\"([^)]*)\)")
    seen = set()
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        for m in call.finditer(text):
            if m.group(1) not in EXTRA_MODULES:
                continue
            seen.add(m.group(1))
            assert "reason=" in m.group(2), f"{path.name}: {m.group()}"
            assert "pytest.mark.extras" in text, f"{path.name} runs {m.group(1)} unmarked"
    assert {"torch", "dask"} <= seen


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    lines = block.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("# 2."))
    return lines[at + 1]


def test_readme_test_command_updates_apt_and_installs_only_what_is_used() -> None:
    command = _readme_test_command()
    assert command.startswith("apt-get update && apt-get install -y ")
    packages = command.split("apt-get install -y ", 1)[1].split(" && ", 1)[0].split()
    assert packages == [
        "texlive-latex-base",
        "texlive-latex-recommended",
        "texlive-pictures",
        "poppler-utils",
    ]
    assert command.endswith(" && python -m pip install -e '.[test]' && python -m pytest -n 2")
    for path in [*sorted((ROOT / "symbp").rglob("*.py")), ROOT / ".ci" / "run"]:
        assert "latexmk" not in path.read_text(encoding="utf-8"), path


def test_ci_runs_the_readme_test_command_bare_then_the_extras() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = _readme_test_command()
    pip_and_pytest = command.split(" && ", 2)[2]
    assert "\n" + pip_and_pytest + "\n" in ci
    apt = command.split("apt-get install -y ", 1)[1].split(" && ", 1)[0].split()
    ci_apt = re.search(r"apt-get install -y -qq ([^>]*)>", ci)
    assert ci_apt is not None and ci_apt.group(1).replace("\\", " ").split() == apt
    bare = ci.index(pip_and_pytest)
    assert ci.index("python3 -m venv") < bare < ci.index("pip install -q torch==2.13.0 onnx")
    assert ci.index("pip install -q torch==2.13.0") < ci.index("python -m pytest -n 2 -m extras")
    assert (ROOT / ".ci" / "wheel-smoke").is_file()


# --- exercises' progress ------------------------------------------------------------------


class Recorder:
    """A Progress that writes down what it hears."""

    def __init__(self) -> None:
        self.events: list[tuple[str, int]] = []

    def stage(self, name: str, total: int) -> None:
        self.events.append((name, total))

    def advance(self) -> None:
        self.events.append(("advance", 1))


def test_exercises_report_each_variant_drawn(tmp_path: Path) -> None:
    spec = tmp_path / "ex.yaml"
    spec.write_text(EXERCISE_SPEC, encoding="utf-8")
    heard = Recorder()
    make_exercises(spec, tmp_path / "out", count=3, seed=1, pdf=False, progress=heard)
    assert heard.events == [(DRAWING, 3), ("advance", 1), ("advance", 1), ("advance", 1)]


def test_the_bar_draws_on_a_terminal_only(tmp_path: Path) -> None:
    from rich.console import Console

    spec = tmp_path / "ex.yaml"
    spec.write_text(EXERCISE_SPEC, encoding="utf-8")
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    with progress_bar(console=terminal) as bar:
        assert bar is not SILENT
        make_exercises(spec, tmp_path / "a", count=4, seed=1, pdf=False, progress=bar)
    assert re.search(r"drawing variants.*4/4", screen.getvalue())
    for enabled, console in ((False, terminal), (True, Console(file=io.StringIO()))):
        with progress_bar(enabled=enabled, console=console) as bar:
            assert bar is SILENT  # --quiet, or not a terminal


def test_exercises_command_is_quiet_when_not_a_terminal(tmp_path: Path, capsys) -> None:
    spec = tmp_path / "ex.yaml"
    spec.write_text(EXERCISE_SPEC, encoding="utf-8")
    assert (
        main(["exercises", str(spec), "--count", "2", "--no-pdf", "-o", str(tmp_path / "o")]) == 0
    )
    out, err = capsys.readouterr()
    assert err == ""
    assert out == f"wrote {tmp_path / 'o'}: 2 variants, 5 questions each (no PDFs)\n"


def test_every_shipped_example_name_loads() -> None:
    assert "koech_3_4_1" in names()
    for name in names():
        assert symbp.load(name).path == f"{name}.yaml"
