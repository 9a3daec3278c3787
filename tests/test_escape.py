"""One escaper per output context (:mod:`symbp.escape`), and every writer using its own.

The table gives each escaper the same hostile strings (a newline, ``%``, ``\\``,
braces, ``<script>``, ``]]>``, GIFT's specials, ESC sequences, a bidi override,
NUL, a C1 CSI, formula starts) and asserts the exact output. The tests after it
run the writers end to end: ``derive --latex``, ``gift.txt``, ``moodle.xml``,
``answers.csv``, ``verify --format md``, the terminal, and ``names:``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from symbp import escape as esc
from symbp.cli import main
from symbp.train.rundir import sensitivity_csv

NEWLINE = "a\nb"
PERCENT = "50% off"
INPUT = "\\input{x}"
SCRIPT = "<script>"
CDATA = "]]>"
GIFT = "~=#{}:"
CLEAR = "\x1b[2J"
TITLE = "\x1b]0;t\x07"
BIDI = "a\u202eb\u2066c"
NUL = "a\x00b"
CSI = "\x9b2J"
FORMULA = "=1+2"
MINUS = "-0.25"
RICH = "[bold]x[/]"

CASES: list[tuple[Callable[[str], str], str, str]] = [
    # LaTeX text: typeset literally, on one line
    (esc.tex_escape, NEWLINE, "a b"),
    (esc.tex_escape, PERCENT, r"50\% off"),
    (esc.tex_escape, INPUT, r"\textbackslash{}input\{x\}"),
    (esc.tex_escape, SCRIPT, r"\textless{}script\textgreater{}"),
    (esc.tex_escape, CDATA, r"]]\textgreater{}"),
    (esc.tex_escape, GIFT, r"\textasciitilde{}=\#\{\}:"),
    (esc.tex_escape, CLEAR, r"\textbackslash{}x1b[2J"),
    (esc.tex_escape, BIDI, r"a\textbackslash{}u202eb\textbackslash{}u2066c"),
    (esc.tex_escape, NUL, r"a\textbackslash{}x00b"),
    # LaTeX comment: one line, the text otherwise as it reads
    (esc.tex_comment, NEWLINE, "a b"),
    (esc.tex_comment, "x\r\\input{y}\u2028\\write18{z}", r"x \input{y} \write18{z}"),
    (esc.tex_comment, PERCENT, "50% off"),
    (esc.tex_comment, INPUT, INPUT),
    (esc.tex_comment, CLEAR, r"\x1b[2J"),
    (esc.tex_comment, BIDI, r"a\u202eb\u2066c"),
    # Markdown: one line, no raw HTML, punctuation escaped
    (esc.md_escape, NEWLINE, "a b"),
    (esc.md_escape, INPUT, r"\\input\{x\}"),
    (esc.md_escape, SCRIPT, "&lt;script&gt;"),
    (esc.md_escape, '<img src=x onerror="a()">', "&lt;img src=x onerror=&#34;a()&#34;&gt;"),
    (esc.md_escape, CDATA, r"\]\]&gt;"),
    (esc.md_escape, GIFT, r"\~=\#\{\}:"),
    (esc.md_escape, CLEAR, r"\\x1b\[2J"),
    (esc.md_escape, BIDI, r"a\\u202eb\\u2066c"),
    (esc.md_code, NEWLINE, "`a b`"),
    (esc.md_code, INPUT, "`\\input{x}`"),
    (esc.md_code, SCRIPT, "&lt;script&gt;"),
    (esc.md_code, TITLE, "`\\x1b]0;t\\x07`"),
    # HTML: text or attribute; newline and tab kept
    (esc.html_escape, NEWLINE, "a\nb"),
    (esc.html_escape, SCRIPT, "&lt;script&gt;"),
    (esc.html_escape, "\"a\" 'b' & c", "&#34;a&#34; &#39;b&#39; &amp; c"),
    (esc.html_escape, CDATA, "]]&gt;"),
    (esc.html_escape, TITLE, r"\x1b]0;t\x07"),
    (esc.html_escape, BIDI, r"a\u202eb\u2066c"),
    (esc.html_escape, CSI, r"\x9b2J"),
    # GIFT: one line, specials escaped
    (esc.gift_escape, "x\n\n::evil::Q{=1}", r"x  \:\:evil\:\:Q\{\=1\}"),
    (esc.gift_escape, GIFT, r"\~\=\#\{\}\:"),
    (esc.gift_escape, INPUT, r"\\input\{x\}"),
    (esc.gift_escape, CLEAR, r"\\x1b[2J"),
    (esc.gift_escape, FORMULA, r"\=1+2"),
    # Moodle XML (ElementTree escapes the markup): controls out, newline and tab kept
    (esc.xml_text, CDATA, "]]>"),
    (esc.xml_text, "a\n\tb", "a\n\tb"),
    (esc.xml_text, NUL, r"a\x00b"),
    (esc.xml_text, CLEAR, r"\x1b[2J"),
    (esc.xml_text, BIDI, r"a\u202eb\u2066c"),
    # CSV: formulas defused, numbers kept, one line
    (esc.csv_cell, FORMULA, "'=1+2"),
    (esc.csv_cell, "+1", "+1"),
    (esc.csv_cell, "+A1", "'+A1"),
    (esc.csv_cell, "@SUM(A1)", "'@SUM(A1)"),
    (esc.csv_cell, "-x", "'-x"),
    (esc.csv_cell, MINUS, MINUS),
    (esc.csv_cell, "-1e-3", "-1e-3"),
    (esc.csv_cell, "\t=1", "' =1"),
    (esc.csv_cell, NEWLINE, "a b"),
    (esc.csv_cell, CLEAR, r"\x1b[2J"),
    # terminal: no escape sequence, one line
    (esc.terminal_text, CLEAR, r"\x1b[2J"),
    (esc.terminal_text, TITLE, r"\x1b]0;t\x07"),
    (esc.terminal_text, CSI, r"\x9b2J"),
    (esc.terminal_text, BIDI, r"a\u202eb\u2066c"),
    (esc.terminal_text, "a\r\nb\bc\x7f", r"a  b\x08c\x7f"),
    (esc.terminal_text, NUL, r"a\x00b"),
    (esc.terminal_text, SCRIPT, SCRIPT),
    (esc.rich_markup, RICH, r"\[bold]x\[/]"),
    (esc.rich_markup, CLEAR, r"\x1b[2J"),  # not a tag: rich shows it as it is
    (esc.rich_markup, "abc\\", "abc\\\\"),  # a trailing \ cannot escape the closing tag
    # matplotlib: no mathtext
    (esc.plot_text, "$\\x$ " + NEWLINE, r"\$\x\$ a b"),
]


@pytest.mark.parametrize(
    ("escaper", "text", "expected"),
    CASES,
    ids=[f"{f.__name__}-{i}" for i, (f, _, _) in enumerate(CASES)],
)
def test_each_context_escapes_hostile_text(
    escaper: Callable[[str], str], text: str, expected: str
) -> None:
    assert escaper(text) == expected


def test_terminal_report_keeps_its_lines_and_nothing_else() -> None:
    assert esc.terminal_text("a\n\tb\x1b[2J\r", lines=True) == "a\n\tb\\x1b[2J "


def test_csv_numbers_are_written_as_they_are() -> None:
    from fractions import Fraction

    assert [esc.csv_cell(v) for v in (-3, -0.5, Fraction(-1, 4), True)] == [
        "-3",
        "-0.5",
        "-1/4",
        "True",
    ]


def test_json_text_escapes_what_json_leaves_raw() -> None:
    payload = {"name": "a\u202eb\x85c\x1bd\u2028"}
    text = esc.json_text(json.dumps(payload, ensure_ascii=False))
    assert text == '{"name": "a\\u202eb\\u0085c\\u001bd\\u2028"}'
    assert json.loads(text) == payload


def test_no_control_character_survives_any_escaper() -> None:
    """Every control the module names, through every escaper: nothing raw comes out."""
    controls = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))
    controls += "\u061c\u200e\u200f\u2028\u2029" + "".join(map(chr, range(0x202A, 0x202F)))
    controls += "".join(map(chr, range(0x2066, 0x206A)))
    one_line = [esc.tex_escape, esc.tex_comment, esc.md_escape, esc.md_code, esc.gift_escape]
    one_line += [esc.csv_cell, esc.terminal_text, esc.rich_markup, esc.plot_text]
    for escaper in one_line:
        out = escaper("x" + controls + "y")
        assert esc.CONTROL.search(out) is None, escaper.__name__
        assert len(out.splitlines()) == 1, escaper.__name__
    for escaper in (esc.html_escape, esc.xml_text):
        out = escaper("x" + controls + "y")
        assert set(esc.CONTROL.findall(out)) == {"\n", "\t"}, escaper.__name__


# --- the writers --------------------------------------------------------------------

HOSTILE_NAME = "net\n\\input{x}\n\\write18{rm -rf x}\r\\input{y}\n\n::evil::Q {=1}\n"
SPEC = {
    "layers": [2, 2, 1],
    "activations": "sigmoid",
    "loss": "half_sse",
    "optimizer": {"name": "sgd", "learning_rate": 0.5},
    "params": {"W": [[[0.1, -0.2], [0.4, 0.3]], [[0.5, -0.6]]], "b": [[0.1, -0.1], [0.2]]},
    "example": {"x": [0.5, 0.8], "t": [1]},
}


def _spec(tmp_path: Path, **fields: object) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({**SPEC, **fields}), encoding="utf-8")
    return path


def test_derive_latex_has_no_live_line_from_the_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["derive", str(_spec(tmp_path, name=HOSTILE_NAME)), "--latex"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()  # every line break Python knows, \r and U+2028 included
    live = [line for line in lines if not line.lstrip().startswith("%")]
    live = [line.split("%", 1)[0] for line in live]  # the math lines' trailing comments
    assert live and not [line for line in live if "\\input" in line or "\\write18" in line]
    assert lines[0] == r"% == Network net \input{x} \write18{rm -rf x} \input{y}  ::evil::Q {=1}"
    assert out.count("\\input") == 2


def _gift_items(text: str) -> tuple[int, int]:
    """(categories, questions) as Moodle's GIFT import splits them: at blank lines."""
    categories = questions = 0
    for chunk in re.split(r"\n\s*\n", text):
        body = "\n".join(ln for ln in chunk.splitlines() if not ln.lstrip().startswith("//"))
        if not body.strip():
            continue
        if body.lstrip().startswith("$CATEGORY:"):
            categories += 1
        else:
            questions += 1
    return categories, questions


@pytest.fixture(scope="module")
def hostile_exercises(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    spec = _spec(folder, name=HOSTILE_NAME + "\x1b[2J/\u202e")
    out = folder / "out"
    args = ["exercises", str(spec), "--no-pdf", "-o", str(out), "--count", "3", "--seed", "5"]
    assert main([*args, "--ask", "a[2][0]", "--ask", "grad_W[1][0][0]"]) == 0
    return out


def test_gift_gets_no_extra_question_from_the_name(hostile_exercises: Path) -> None:
    text = (hostile_exercises / "gift.txt").read_text(encoding="utf-8")
    assert _gift_items(text) == (3, 3 * 2)
    assert esc.CONTROL.search(text.replace("\n", "")) is None
    first = text.splitlines()[0]
    assert first.startswith(r"// symbp exercises of net \\input\{x\} \\write18\{rm -rf x\}")


def test_moodle_xml_parses_and_carries_no_control(hostile_exercises: Path) -> None:
    text = (hostile_exercises / "moodle.xml").read_text(encoding="utf-8")
    quiz = ET.fromstring(text)  # NUL or ESC raw would make it ill-formed
    categories = [c.findtext("category/text") for c in quiz.iter("question")]
    names = [c for c in categories if c is not None]
    assert len(names) == 3
    assert names[0] == (
        "$course$/top/symbp/net \\input{x} \\write18{rm -rf x} \\input{y}  ::evil::Q {=1} "
        "\\x1b[2J_\\u202e/" + names[0].rsplit("/", 1)[1]
    )
    assert esc.CONTROL.search(text.replace("\n", "")) is None


def test_answers_csv_has_no_formula_and_no_control(hostile_exercises: Path) -> None:
    text = (hostile_exercises / "answers.csv").read_text(encoding="utf-8")
    assert len(text.splitlines()) == 1 + 3 * 2
    assert esc.CONTROL.search(text.replace("\n", "")) is None


def test_sensitivity_csv_defuses_formula_feature_names() -> None:
    text = sensitivity_csv(
        ['=HYPERLINK("x")', "-x", "ok"], np.array([1.0, 2.0, 3.0]), np.ones((1, 3)), ["@y"]
    )
    assert text.splitlines() == [
        "feature,mean_abs_dy_dx,dy_@y",
        '"\'=HYPERLINK(""x"")",1.0,1.0',
        "'-x,2.0,1.0",
        "ok,3.0,1.0",
    ]


def test_verify_markdown_escapes_the_title(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    title = "<script>alert(1)</script> <img src=x onerror=alert(2)>\n# heading"
    claims = [{"of": "loss", "printed": 0.9, "note": "<b>bold</b>"}]  # a mismatch: its note shows
    spec = _spec(tmp_path, name="net", title=title, claims=claims)
    out = tmp_path / "report.md"
    assert main(["verify", str(spec), "--format", "md", "-o", str(out)]) == 1
    md = out.read_text(encoding="utf-8")
    assert md.splitlines()[0] == (
        "# symbp verify: &lt;script&gt;alert(1)&lt;/script&gt; "
        "&lt;img src=x onerror=alert(2)&gt; \\# heading"
    )
    assert "<" not in md and "&lt;b&gt;bold&lt;/b&gt;" in md
    capsys.readouterr()
    assert main(["verify", str(spec), "--format", "md"]) == 1
    assert capsys.readouterr().out == md  # the same report on standard output


@pytest.mark.parametrize("name", ["\x1b]0;title\x07", "\x1b[2J", "\x9b2J\u202e"])
def test_terminal_output_has_no_escape_byte(tmp_path: Path, name: str) -> None:
    """derive, eval and verify on a real stdout; the error line on a real stderr."""
    spec = _spec(tmp_path, name=name, title=name, claims=[{"of": "loss", "printed": 0.1}])
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**SPEC, "names": {name: "loss"}}), encoding="utf-8")
    runs = [
        ["derive", str(spec)],
        ["derive", str(spec), "--latex"],
        ["verify", str(spec)],
        ["verify", str(spec), "--json"],
        ["derive", str(bad)],
    ]
    for argv in runs:
        done = subprocess.run(
            [sys.executable, "-m", "symbp", *argv], capture_output=True, timeout=120
        )
        out = done.stdout + done.stderr
        assert done.returncode in (0, 1, 2), (argv, out)
        text = out.decode("utf-8")
        assert esc.CONTROL.search(text.replace("\n", "")) is None, (argv, text)
        assert b"\x1b" not in out and b"\x07" not in out
    assert done.returncode == 2 and len(done.stderr.decode().splitlines()) == 1


@pytest.mark.parametrize("name", ["w5\n", "w5\r", "\nw5", "w5\x00", "w\u202e5"])
def test_names_refuse_a_trailing_newline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    spec = tmp_path / "names.yaml"
    spec.write_text(yaml.safe_dump({**SPEC, "names": {name: "W[1][0][0]"}}), encoding="utf-8")
    assert main(["derive", str(spec)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith("symbp derive: error: ") and "names" in err


@pytest.mark.parametrize("fmt", ["tex", "html", "md"])
def test_documents_carry_no_control_character(tmp_path: Path, fmt: str) -> None:
    """``symbp doc``: the templates' escaping reaches every plain string, controls included."""
    hostile = "T\x1b[2J\u202e\x00 <script>"
    spec = _spec(tmp_path, name="net\x1b]0;x\x07", title=hostile, source=hostile)
    out = tmp_path / f"doc.{fmt}"
    assert main(["doc", str(spec), "--format", fmt, "-o", str(out), "--quiet"]) == 0
    text = out.read_text(encoding="utf-8")
    assert set(esc.CONTROL.findall(text)) <= {"\n", "\t"}
    assert "<script>" not in text
    shown = {"tex": r"T\textbackslash{}x1b[2J", "html": r"T\x1b[2J", "md": r"T\\x1b\[2J"}
    assert shown[fmt] in text


def test_yaml_header_comment_reads_back() -> None:
    """A spec's name in an exported spec's comment: one line, and YAML still reads the file."""
    from symbp.exercises.yamltext import dump

    text = dump({"name": "a\x1bb\u202e"}, header=["net\x1b[2J\n\\input{x}\u2028"])
    assert text == '# net\\x1b[2J \\input{x} \nname: "a\\u001bb\\u202e"\n'
    assert yaml.safe_load(text) == {"name": "a\x1bb\u202e"}


def test_identifiers_refuse_a_trailing_newline() -> None:
    """``\\Z``, not ``$``: a student ID or a plain YAML key may not end in a newline."""
    from symbp.errors import DataError
    from symbp.exercises.roster import check_id
    from symbp.exercises.yamltext import dump

    assert check_id("s01", "roster") == "s01"
    with pytest.raises(DataError, match=r"roster: expected a student ID .* found 's01\\n'"):
        check_id("s01\n", "roster")
    assert dump({"key\n": 1, "key": 2}) == '"key\\n": 1\nkey: 2\n'
