"""Students: IDs from a roster CSV (``--students``), or ``s01``, ``s02``, ... by count.

A roster is a CSV file with a header row holding an ID column (``id``,
``student_id``, ``student`` or ``matriculation``, any case) and optionally a
``name`` column. IDs name files and quiz questions, so they must be 1 to 40
letters, digits, ``.``, ``-`` or ``_`` (starting with a letter or digit), and
unique. Names are printed on the sheets only (escaped there); they may not hold
control characters and at most 80 characters.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError, quote

ID_COLUMNS = ("id", "student_id", "student", "matriculation")
NAME_COLUMNS = ("name", "student_name")
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}\Z")
MAX_NAME = 80
MAX_STUDENTS = 1000


@dataclass(frozen=True)
class Student:
    """One student: ``id`` (safe for file names, XML and LaTeX) and an optional ``name``."""

    id: str
    name: str | None = None


def check_id(value: str, where: str) -> str:
    """``value`` if it is a valid student ID; else a :class:`DataError` naming ``where``."""
    if not ID_PATTERN.match(value):
        raise DataError(
            f"{where}: expected a student ID of 1 to 40 letters, digits, '.', '-' or '_' "
            f"(starting with a letter or digit), found {quote(value)}"
        )
    return value


def numbered(count: int) -> tuple[Student, ...]:
    """``s01`` ... (``s001`` ... from 100 students on)."""
    width = max(2, len(str(count)))
    return tuple(Student(f"s{i:0{width}d}") for i in range(1, count + 1))


def read_roster(path: str | Path) -> tuple[Student, ...]:
    """The students of the roster CSV at ``path`` (see the module docstring)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError("file not found", field="students", file=name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read the roster: {exc}", field="students", file=name) from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise DataError("the roster is empty; expected a header row with an id column", file=name)
    header = [h.strip().lower() for h in rows[0]]
    id_col = next((header.index(c) for c in ID_COLUMNS if c in header), None)
    if id_col is None:
        raise DataError(
            f"no ID column in the header {quote(rows[0])}; "
            f"expected one named {', '.join(ID_COLUMNS)}",
            field="students",
            file=name,
        )
    name_col = next((header.index(c) for c in NAME_COLUMNS if c in header), None)
    students: list[Student] = []
    seen: set[str] = set()
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{name}:{line}: id"
        sid = check_id(row[id_col].strip() if id_col < len(row) else "", where)
        if sid in seen:
            raise DataError(f"{where}: student ID {quote(sid)} appears twice; IDs must be unique")
        seen.add(sid)
        full = row[name_col].strip() if name_col is not None and name_col < len(row) else ""
        if len(full) > MAX_NAME or any(ord(ch) < 32 or ord(ch) == 127 for ch in full):
            raise DataError(
                f"{name}:{line}: name: expected at most {MAX_NAME} printable characters, "
                f"found {quote(full[:40])}"
            )
        students.append(Student(sid, full or None))
    if not students:
        raise DataError("the roster lists no students", field="students", file=name)
    if len(students) > MAX_STUDENTS:
        raise DataError(
            f"the roster lists {len(students)} students; at most {MAX_STUDENTS}", file=name
        )
    return tuple(students)
