"""The hostile corpus (issue 25, done-when): every file of ``tests/hostile/`` through the CLI.

Each file (a spec, a claims file, an exercise spec, a CSV or ``.npz`` data file, a
saved run's ``params.npz``, a text for ``symbp check``; its first line or this table
says what is hostile in it) is copied into a fresh folder and run through the command
of :data:`CASES` as a subprocess capped at 10 s of CPU and 1 GiB of address space
(:mod:`capped`), with a named output. It must end with exit 0 and a valid output (or
exit 1 and a report, for ``verify``), or a non-zero exit with exactly one stderr line
and no traceback; and nothing in the folder may change but the named output (no
``pwned`` file, nothing half-written beside it), nor anything be left in ``TMPDIR``.
FIFOs and the million-digit number are made at test time, not committed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from capped import one_error_line, run_capped, snapshot

import symbp

HOSTILE = Path(__file__).resolve().parent / "hostile"

#: A valid spec for the cases whose hostile file is data, a text or a saved run.
NET = """name: net
layers: [2, 2, 1]
activations: sigmoid
loss: half_sse
optimizer: {name: sgd, learning_rate: 0.5}
params:
  W: [[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6]]]
example: {x: [1, 2], t: [1]}
"""


@dataclass(frozen=True)
class Case:
    """One run: ``args`` with ``{in}`` for the hostile file; ``out`` the named output."""

    args: tuple[str, ...]
    out: str | None = None
    #: Text that must not appear in an output file (nor, for a control character, in
    #: stdout or stderr).
    never: tuple[str, ...] = ()
    #: Text that must not start a line of any output (a live TeX line, a GIFT question).
    never_line: tuple[str, ...] = ()
    #: The input must be refused (exit 2), not accepted.
    refused: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def _spec(*args: str, out: str | None = None, **kw: object) -> Case:
    return Case(tuple(args), out, **kw)  # type: ignore[arg-type]


DERIVE = ("derive", "{in}")
EVAL = ("eval", "{in}")
VERIFY = ("verify", "{in}", "-o", "report.md")
EXERCISES = ("exercises", "{in}", "--no-pdf", "-o", "sheets")
CSV_TRAIN = ("train", "net.yaml", "--data", "{in}", "--target", "y", "--epochs", "1", "-o", "run")
NPZ_TRAIN = ("train", "net.yaml", "--data", "{in}", "--epochs", "1", "-o", "run")
EXPORT = ("export-spec", "{in}", "-o", "exported.yaml")
CHECK = ("check", "{in}", "--spec", "net.yaml", "-o", "annotated.html")
ESC = "\x1b"

CASES: dict[str, Case] = {
    # YAML tags
    "tag_int_1e3.yaml": _spec(*DERIVE, refused=True),
    "tag_bool_1.yaml": _spec(*EVAL),
    "tag_timestamp_junk.yaml": _spec(*DERIVE),
    "tag_float_text.yaml": _spec(*DERIVE),
    "tag_timestamp_valid.yaml": _spec(*EVAL),
    "tag_python_object.yaml": _spec(*DERIVE, refused=True),
    "tag_python_name.yaml": _spec(*DERIVE, refused=True),
    "tag_binary_name.yaml": _spec(*DERIVE),
    "tag_set_layers.yaml": _spec(*DERIVE, refused=True),
    "tag_str_number.yaml": _spec(*EVAL),
    # aliases
    "alias_bomb.yaml": _spec(*DERIVE, refused=True),
    "alias_recursive.yaml": _spec(*DERIVE, refused=True),
    "merge_key_bomb.yaml": _spec(*DERIVE, refused=True),
    # numbers as strings, and out of range
    "number_string_tiny.yaml": _spec(*VERIFY, out="report.md"),
    "number_string_tolerance.yaml": _spec(*VERIFY, out="report.md"),
    "number_string_5000_digits.yaml": _spec(*VERIFY, out="report.md"),
    "number_5000_digit_weight.yaml": _spec(*EVAL, refused=True),
    "number_huge_exponent_lr.yaml": _spec(*EVAL, refused=True),
    "number_strings_params.yaml": _spec(*EVAL, refused=True),
    "number_nan_inf.yaml": _spec(*EVAL, refused=True),
    "number_hex_octal.yaml": _spec(*EVAL, refused=True),
    # sizes and nesting
    "size_huge_layers.yaml": _spec(*DERIVE),
    "size_64_wide_layers.yaml": _spec(*DERIVE),
    # symbp's default budget is 30 s (stated in --help); these ask 8 s, within the cap
    "size_many_examples.yaml": _spec(*EVAL, "--time-limit", "8"),
    "size_epochs_huge.yaml": _spec(*VERIFY, out="report.md"),
    "nest_deep_lists.yaml": _spec(*DERIVE, refused=True),
    "nest_deep_maps.yaml": _spec(*DERIVE, refused=True),
    # names and text that must stay in their context
    "name_newline_input.yaml": _spec(
        "derive",
        "{in}",
        "--latex",
        never_line=("\\input", "\\write18"),
    ),
    "name_dotdot.yaml": _spec(
        "train",
        "{in}",
        "--data",
        "iris",
        "--epochs",
        "1",
        out="runs",
    ),
    "name_escape_sequences.yaml": _spec(*DERIVE, never=(ESC, "\x07")),
    "title_script_claims.yaml": _spec(
        *VERIFY,
        "--format",
        "md",
        out="report.md",
        never=("<script>", "<img src=x"),
    ),
    "title_latex_injection.yaml": _spec(
        "doc",
        "{in}",
        "--format",
        "tex",
        "-o",
        "doc.tex",
        out="doc.tex",
        never_line=("\\input{/etc", "\\write18", "\\end{document}}"),
    ),
    "names_trailing_newline.yaml": _spec(*VERIFY, out="report.md", refused=True),
    # formulas far from zero
    "formula_overflow_exp.yaml": _spec(*EVAL),
    "formula_overflow_power.yaml": _spec(*EVAL),
    "formula_loss_overflow.yaml": _spec(*EVAL),
    "formula_overflow_after_update.yaml": _spec(*EVAL),
    # seeds and initialiser ranges
    "seed_negative.yaml": _spec(*EVAL),
    "seed_huge.yaml": _spec(*EVAL),
    "seed_training_negative.yaml": _spec("eval", "{in}", "--epochs", "1"),
    "init_range_inverted.yaml": _spec(*EVAL),
    "init_std_huge.yaml": _spec(*EVAL),
    # exercise specs
    "exercise_count_huge.yaml": _spec(*EXERCISES, out="sheets", refused=True),
    "exercise_impossible_draws.yaml": _spec(*EXERCISES, "--time-limit", "8", out="sheets"),
    "exercise_name_newline.yaml": _spec(
        *EXERCISES,
        out="sheets",
        never_line=("::injected::", "::x::"),
    ),
    "exercise_bad_ranges.yaml": _spec(*EXERCISES, out="sheets", refused=True),
    "exercise_ask_injection.yaml": _spec(*EXERCISES, out="sheets", never=("<script>",)),
    # claims files
    "claims_step_huge.yaml": _spec(*VERIFY, out="report.md", refused=True),
    "claims_of_markup.yaml": _spec(*VERIFY, out="report.md", never=("<script>",)),
    "claims_many.yaml": _spec(*VERIFY, out="report.md"),
    # data files
    "data_empty.csv": _spec(*CSV_TRAIN, out="run", refused=True),
    "data_header_only.csv": _spec(*CSV_TRAIN, out="run", refused=True),
    "data_nan_inf.csv": _spec(*CSV_TRAIN, out="run", refused=True),
    "data_huge_cell.csv": _spec(*CSV_TRAIN, out="run", refused=True),
    "data_ragged.csv": _spec(*CSV_TRAIN, out="run", refused=True),
    "data_injection_labels.csv": _spec(*CSV_TRAIN, out="run", never=(ESC,)),
    "data_bom_nul.csv": _spec(*CSV_TRAIN, out="run"),
    "data_zero_rows.npz": _spec(*NPZ_TRAIN, out="run", refused=True),
    "data_empty.npz": _spec(*NPZ_TRAIN, out="run", refused=True),
    "data_corrupt.npz": _spec(*NPZ_TRAIN, out="run", refused=True),
    "data_object_array.npz": _spec(*NPZ_TRAIN, out="run", refused=True),
    "data_wrong_shape.npz": _spec(*NPZ_TRAIN, out="run", refused=True),
    "data_nan.npz": _spec(*NPZ_TRAIN, out="run", refused=True),
    "data_header_bomb.npz": _spec(*NPZ_TRAIN, out="run", refused=True),
    # saved runs, hand-edited
    "params_wrong_shape.npz": _spec(*EXPORT, out="exported.yaml", refused=True),
    "params_nan.npz": _spec(*EXPORT, out="exported.yaml", refused=True),
    "params_no_spec.npz": _spec(*EXPORT, out="exported.yaml", refused=True),
    "params_spec_injected.npz": _spec(*EXPORT, out="exported.yaml", refused=True),
    "params_counters_negative.npz": _spec(*EXPORT, out="exported.yaml"),
    "params_string_weights.npz": _spec(*EXPORT, out="exported.yaml", refused=True),
    # texts for symbp check
    "text_script.md": _spec(
        *CHECK,
        out="annotated.html",
        never=("<script>", "<img src=x", ESC),
    ),
    "text_huge_numbers.md": _spec(
        *CHECK,
        out="annotated.html",
    ),
    "text_many_numbers.md": _spec(*CHECK, out="annotated.html"),
    "text_not_utf8.txt": _spec(*CHECK, out="annotated.html"),
    "text_deep_html.md": _spec(*CHECK, out="annotated.html"),
}


def _fifo(folder: Path) -> str:
    os.mkfifo(folder / "spec.fifo")
    return "spec.fifo"


def _million_digits(folder: Path) -> str:
    path = folder / "million.yaml"
    with open(path, "w", encoding="utf-8") as f:
        f.write(NET + 'claims:\n  - {of: loss, step: 0, printed: "0.')
        f.write("1" * 1_000_000)
        f.write('"}\n')
    return path.name


#: Made at test time (never committed): name -> (makes the input in the folder, the case).
MADE: dict[str, tuple[Callable[[Path], str], Case]] = {
    "fifo_as_spec": (_fifo, _spec(*DERIVE, refused=True)),
    "million_digit_printed": (
        _million_digits,
        _spec(
            *VERIFY,
            out="report.md",
        ),
    ),
}


def test_the_corpus_is_over_40_files_each_with_a_case() -> None:
    files = sorted(p.name for p in HOSTILE.iterdir() if p.is_file())
    assert len(files) > 40
    assert files == sorted(CASES)
    for name in files:
        if name.endswith(".yaml"):
            first = (HOSTILE / name).read_text(encoding="utf-8").splitlines()[0]
            assert first.startswith("# hostile: "), name


def _params() -> list[object]:
    out = []
    for name, case in [*CASES.items(), *((k, v[1]) for k, v in MADE.items())]:
        out.append(pytest.param(name, case, id=name))
    return out


def _under(rel: str, out: str | None) -> bool:
    return out is not None and (rel == out or rel.startswith(out + os.sep))


def _outputs(folder: Path, out: str | None) -> list[Path]:
    if out is None or not (folder / out).exists():
        return []
    target = folder / out
    if target.is_dir():
        return [p for p in target.rglob("*") if p.is_file()]
    return [target] if target.is_file() else []


@pytest.mark.parametrize(("name", "case"), _params())
def test_a_hostile_input_ends_in_one_line_or_a_valid_result(
    name: str, case: Case, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "net.yaml").write_text(NET, encoding="utf-8")
    if name in MADE:
        source = MADE[name][0](work)
    else:
        shutil.copyfile(HOSTILE / name, work / name)
        source = name
    args = [a.replace("{in}", source) for a in case.args]
    before = snapshot(work)
    result = run_capped(*args, cwd=work, home=tmp_path / "env")
    after = snapshot(work)

    problem = one_error_line(result, args[0])
    assert problem is None, problem
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    outside = [k for k in changed if not _under(k, case.out)]
    assert not outside, f"changed outside the named output {case.out}: {outside}"
    assert not list((tmp_path / "env" / "tmp").iterdir()), "left behind in TMPDIR"
    if case.refused:
        assert result.returncode == 2, result.stdout[-500:]
        assert not changed, f"a refused input wrote {changed}"
    if result.returncode in (0, 1) and not result.stderr:
        _assert_valid(args[0], case, work, result)
    files = [p.read_text(encoding="utf-8", errors="replace") for p in _outputs(work, case.out)]
    for bad in case.never:  # markup matters in files; control characters on the terminal too
        streams = [result.stdout, result.stderr] if not bad.isprintable() else []
        for text in [*files, *streams]:
            assert bad not in text, f"{bad!r} reached an output"
    for text in [result.stdout, *files]:
        if case.never_line:
            for line in text.splitlines():
                assert not line.lstrip().startswith(case.never_line), line[:200]


def _assert_valid(
    command: str, case: Case, work: Path, result: subprocess.CompletedProcess[str]
) -> None:
    """What a successful run must have produced."""
    if case.out is None:
        assert result.stdout.strip(), "exit 0 without output"
        return
    target = work / case.out
    assert target.exists(), f"exit {result.returncode} but no {case.out}"
    if command == "export-spec":
        spec = symbp.load(target)
        assert spec.W is not None
    elif command == "exercises":
        assert (target / "answers.csv").is_file()
    elif command == "train":
        assert list(target.rglob("params.npz")), "a run without params.npz"
    else:
        assert target.read_text(encoding="utf-8").strip()


def test_a_fifo_named_as_output_stays_a_fifo(tmp_path: Path) -> None:
    """``verify -o FIFO`` writes into the FIFO as a stream (or refuses), never renames over it."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "claims.yaml").write_text(
        NET + 'claims:\n  - {of: "a[2][0]", step: 0, printed: 0.6}\n', encoding="utf-8"
    )
    fifo = work / "report.md"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def drain() -> None:
        fd = os.open(fifo, os.O_RDONLY)
        with os.fdopen(fd, "rb") as stream:
            received.append(stream.read())

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    result = run_capped("verify", "claims.yaml", "-o", "report.md", cwd=work, home=tmp_path / "env")
    if reader.is_alive():  # nothing opened it for writing: unblock the reader
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(5)
    problem = one_error_line(result, "verify")
    assert problem is None, problem
    assert fifo.is_fifo(), "the FIFO was replaced"
    assert sorted(p.name for p in work.iterdir()) == ["claims.yaml", "report.md"]
    if result.returncode in (0, 1):
        assert b"a\\[2\\]\\[0\\]" in received[0]  # Markdown-escaped (symbp.escape.md_escape)
