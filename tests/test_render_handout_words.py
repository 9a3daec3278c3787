"""Handouts speak to students (issue 31, item 5, for documents).

A handout names things as the textbooks do (``w²₁₁``, ``δ¹₁``, "leaky ReLU",
"gradient descent"): no 0-based spec names (``delta[1][0]``, ``W[l-1][j-1][k-1]``),
no verdicts of symbp's own checks ("confirmed", ✓/✗), no command lines
(``symbp doc --style full``), no spec spellings (``leaky_relu``, ``sgd``). The
verdicts stay in the teacher's full document.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import symbp
from symbp.render import render_document

ROOT = Path(__file__).resolve().parent.parent

#: What a student-facing text must not contain (pattern, what it is).
INTERNAL = (
    (
        re.compile(r"\b(?:a|z|W|b|delta|grad_W|grad_b|x)\[[\dl][^\]]*\](?:\[[^\]]*\])*"),
        "a spec name",
    ),
    (re.compile(r"\bconfirmed\b|\bmismatch\b", re.I), "a verdict"),
    (re.compile(r"\\symbp(?:ok|bad|other)\{\}|[✓✗]"), "a verdict mark"),
    (re.compile(r"\bsymbp (?:doc|eval|verify|exercises)\b|-(?:\{\})?-style"), "a command line"),
    (
        re.compile(
            r"\bleaky[_ ]relu\b|\brelu\b|\bsgd\b|\bhalf[_ ]sse\b|\bcross[_ ]entropy\b|\bbce\b"
        ),
        "a spec spelling",
    ),
)


def internal_words(text: str) -> list[str]:
    """The pieces of ``text`` a student should not read (LaTeX preamble excluded)."""
    if r"\begin{document}" in text:
        text = text[text.index(r"\begin{document}") :]
    text = re.sub(r"<!--.*?-->|<style>.*?</style>", " ", text, flags=re.S)
    return [f"{what}: {m.group(0)}" for pattern, what in INTERNAL for m in pattern.finditer(text)]


def test_the_check_finds_what_issue_31_found() -> None:
    key = (
        r"\begin{document} \texttt{delta[1][0]} & 0 & \symbpok{} confirmed "
        r"every step is worked in the answer key (\texttt{symbp doc -{}-style full}) "
        "activation leaky_relu, optimiser sgd, (W[l-1][j-1][k-1] in the spec)"
    )
    kinds = {found.split(":")[0] for found in internal_words(key)}
    assert kinds == {
        "a spec name",
        "a verdict",
        "a verdict mark",
        "a command line",
        "a spec spelling",
    }
    assert not internal_words(r"\begin{document} $w^{2}_{11}$, $\delta^{1}_{1}$, leaky ReLU")


def test_shipped_handouts_use_student_facing_words_only(shipped_documents: dict[str, str]) -> None:
    bad = {
        rel: found
        for rel, source in shipped_documents.items()
        if "_handout." in rel and (found := internal_words(source))
    }
    assert not bad, bad


@pytest.mark.parametrize("fmt", ["tex", "md", "html"])
def test_a_handout_of_claims_has_no_verdicts(tmp_path: Path, fmt: str) -> None:
    """``symbp doc --style handout`` of a verification file: no self-check in the handout,
    while the full document (the teacher's) keeps it."""
    spec = ROOT / "examples" / "koech_3_4_1_claims.yaml"
    handout = symbp.document(spec, format=fmt, style="handout", out=tmp_path / f"h.{fmt}")
    text = handout.read_text(encoding="utf-8")
    assert not internal_words(text), internal_words(text)
    assert "Checked numbers" not in text
    full = symbp.document(spec, format=fmt, out=tmp_path / f"f.{fmt}").read_text(encoding="utf-8")
    assert "Checked numbers" in full and "confirmed" in full


def test_activation_names_in_words() -> None:
    spec = {
        "name": "leaky",
        "layers": [2, 2, 1],
        "activations": [{"name": "leaky_relu", "alpha": 0.1}, "relu"],
        "loss": "mse",
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "init": {"name": "xavier_uniform", "seed": 1},
        "example": {"x": [0.5, -1.0], "t": [1]},
    }
    for style in ("full", "handout"):
        text = render_document(spec, format="md", style=style)
        assert "leaky ReLU" in text and "ReLU)" in text, style
        assert "gradient descent" in text
        assert not [w for w in internal_words(text) if "spec spelling" in w], style


def test_no_document_spells_a_kind_as_the_spec_does(shipped_documents: dict[str, str]) -> None:
    """The teacher's full documents too: "Loss binary cross-entropy", not "Loss bce"."""
    bad = {}
    for rel, source in shipped_documents.items():
        found = [w for w in internal_words(source) if w.startswith("a spec spelling")]
        if found:
            bad[rel] = found
    assert not bad, bad
