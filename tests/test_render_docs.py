"""The committed documents in docs/ are exactly what the code renders now (no drift).

Regenerate them with ``python -m symbp.regenerate``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

from symbp.regenerate import example_specs
from symbp.render import shipped_outputs

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shipped() -> dict[str, str | bytes]:
    return shipped_outputs(example_specs(ROOT))


def test_every_example_ships_tex_html_md(shipped: dict[str, str | bytes]) -> None:
    stems = {p.stem for p in example_specs(ROOT)}
    assert stems, "no shipped examples"
    assert set(shipped) == {
        f"docs/{s}{style}.{ext}"
        for s in stems
        for style in ("", "_handout")
        for ext in ("tex", "html", "md")
    }


def test_committed_docs_match_the_code(shipped: dict[str, str | bytes]) -> None:
    drifted = []
    for rel, content in sorted(shipped.items()):
        path = ROOT / rel
        data = content.encode() if isinstance(content, str) else content
        if not path.exists() or path.read_bytes() != data:
            drifted.append(rel)
    assert not drifted, f"regenerate with `python -m symbp.regenerate`: {drifted}"


def test_rendering_is_deterministic(shipped: dict[str, str | bytes]) -> None:
    again = shipped_outputs(example_specs(ROOT)[:2])
    for rel, content in again.items():
        assert shipped[rel] == content


def test_no_absolute_paths_dates_or_network(shipped: dict[str, str | bytes]) -> None:
    for rel, content in shipped.items():
        text = content if isinstance(content, str) else content.decode()
        assert str(ROOT) not in text and "/tmp/" not in text and "/home/" not in text, rel
        assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), rel
        if rel.endswith(".html"):
            assert "<script" not in text.lower()
            assert not re.search(r"\b(src|href)\s*=", text), rel
            # Nothing is fetched: no external stylesheets, fonts or images.
            assert "@import" not in text and not re.search(r"url\((?!#)", text), rel
            assert "<link" not in text and "<img" not in text, rel


class _Balance(HTMLParser):
    VOID: ClassVar[set[str]] = {
        "meta",
        "br",
        "img",
        "hr",
        "input",
        "link",
        "mspace",
        "path",
        "line",
        "circle",
    }

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[type-arg]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:  # type: ignore[type-arg]
        pass

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()


def test_html_is_balanced(shipped: dict[str, str | bytes]) -> None:
    for rel, content in shipped.items():
        if not rel.endswith(".html"):
            continue
        parser = _Balance()
        parser.feed(str(content))
        assert not parser.errors[:3], rel
        assert parser.stack == [], rel
        assert str(content).startswith("<!DOCTYPE html>")


def test_markdown_math_delimiters_pair_up(shipped: dict[str, str | bytes]) -> None:
    for rel, content in shipped.items():
        if not rel.endswith(".md"):
            continue
        text = str(content)
        assert text.count("$$") % 2 == 0, rel
        for line in text.splitlines():
            if line.startswith("|"):
                inline = line.replace(r"\$", "")
                assert inline.count("$") % 2 == 0, line
