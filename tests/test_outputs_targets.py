"""Where outputs go (issue 25, item 1): ``-o`` a pipe, a device, a socket, a folder or a
link, and output folders that hold a user's files (:mod:`symbp.outputs`).

Every case checks real file-system effects: the bytes of the user's files, the kind
of node left at the path (``os.lstat``), the bytes that came through a pipe.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import threading
import tty
from pathlib import Path

import pytest

from symbp.cli import main
from symbp.errors import SymbpError
from symbp.fileio import write_atomic
from symbp.outputs import MANIFEST, OutputFolder, check_complete, confined, path_part

ROOT = Path(__file__).resolve().parent.parent
KOECH = ROOT / "examples" / "koech_3_4_1.yaml"
SPEC = """\
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


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "ex.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def _exercises(spec: Path, out: Path, count: int) -> int:
    return main(["exercises", str(spec), "--no-pdf", "--count", str(count), "-o", str(out)])


# -- exercises -o DIR ------------------------------------------------------------------
def test_a_users_answers_csv_and_other_files_are_left_byte_for_byte(
    spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "class"
    (out / "sub").mkdir(parents=True)
    (out / "answers.csv").write_bytes(b"student,grade\nann,A\n")
    (out / "notes.txt").write_bytes(b"my notes\x00\xff")
    (out / "sub" / "data.bin").write_bytes(bytes(range(256)))
    before = _tree(out)
    assert _exercises(spec_file, out, 2) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{out} holds files symbp did not write" in err
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["class", "ex.yaml"]  # no temp folder


def test_in_its_own_folder_symbp_replaces_only_its_files(
    spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "class"
    assert _exercises(spec_file, out, 3) == 0
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["complete"] is True and manifest["command"] == "exercises"
    assert sorted(manifest["files"]) == [
        "answers.csv", "gift.txt", "moodle.xml", "moodle_calculated.xml", "teacher_report.txt",
        "variants/s01.yaml", "variants/s02.yaml", "variants/s03.yaml",
    ]  # fmt: skip
    (out / "grades.xlsx").write_bytes(b"user's grades")
    (out / "variants" / "mine.txt").write_bytes(b"user's note")
    assert _exercises(spec_file, out, 2) == 0  # fewer students: s03 was symbp's, so it goes
    assert (out / "grades.xlsx").read_bytes() == b"user's grades"
    assert (out / "variants" / "mine.txt").read_bytes() == b"user's note"
    assert sorted(p.name for p in (out / "variants").iterdir()) == [
        "mine.txt",
        "s01.yaml",
        "s02.yaml",
    ]
    assert "variants/s03.yaml" not in json.loads((out / MANIFEST).read_text())["files"]
    # a user's file where symbp would write: refused, nothing written
    (out / "variants" / "s03.yaml").write_bytes(b"user's own s03")
    before = _tree(out)
    capsys.readouterr()
    assert _exercises(spec_file, out, 3) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "s03.yaml exists and symbp did not write it" in err
    assert _tree(out) == before


def test_a_hand_edited_manifest_cannot_point_outside_the_folder(
    spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "class"
    assert _exercises(spec_file, out, 1) == 0
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"keep me")
    data = json.loads((out / MANIFEST).read_text())
    data["files"]["../victim.txt"] = "exercises"
    (out / MANIFEST).write_text(json.dumps(data))
    before = _tree(out)
    assert _exercises(spec_file, out, 1) == 2
    assert "lists a path outside the folder ('../victim.txt')" in capsys.readouterr().err
    assert victim.read_bytes() == b"keep me" and _tree(out) == before


def test_an_empty_existing_folder_is_used_and_a_file_as_out_is_refused(
    spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _exercises(spec_file, empty, 1) == 0
    assert sorted(_tree(empty)) == [
        MANIFEST,
        "answers.csv",
        "gift.txt",
        "moodle.xml",
        "moodle_calculated.xml",
        "teacher_report.txt",
        "variants/s01.yaml",
    ]
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    capsys.readouterr()
    assert _exercises(spec_file, fifo, 1) == 2
    assert "expected a folder, found a pipe (FIFO)" in capsys.readouterr().err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


# -- -o FILE: pipes, devices, sockets, folders, links ------------------------------------
def _doc(out: Path | str) -> int:
    return main(["doc", str(KOECH), "--format", "md", "-o", str(out)])


@pytest.fixture(scope="module")
def koech_md(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("doc") / "k.md"
    assert _doc(path) == 0
    return path.read_bytes()


def test_out_a_fifo_streams_into_it_and_leaves_a_fifo(tmp_path: Path, koech_md: bytes) -> None:
    fifo = tmp_path / "doc.md"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as f:
            received.append(f.read())

    thread = threading.Thread(target=reader)
    thread.start()
    assert _doc(fifo) == 0
    thread.join(30)
    assert received == [koech_md] and len(koech_md) > 1000
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.md"]  # no temporary file left


def test_out_a_character_device_is_written_into_not_replaced(koech_md: bytes) -> None:
    master, slave = os.openpty()  # a terminal we own: a real character device, safe to write
    try:
        tty.setraw(slave)  # no newline translation
        name = os.ttyname(slave)
        node = os.lstat(name)
        received = bytearray()

        def reader() -> None:
            while len(received) < len(koech_md):
                received.extend(os.read(master, 65536))

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        assert _doc(name) == 0
        thread.join(30)
        assert bytes(received) == koech_md
        after = os.lstat(name)
        assert stat.S_ISCHR(after.st_mode) and after.st_rdev == node.st_rdev
    finally:
        os.close(slave)
        os.close(master)


def test_out_a_socket_or_a_folder_is_refused_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        assert _doc(path) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot write there: it is a socket" in err
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        server.close()
    folder = tmp_path / "folder"
    (folder / "x").mkdir(parents=True)
    assert _doc(folder) == 2
    assert "cannot write there: it is a folder" in capsys.readouterr().err
    assert [p.name for p in folder.iterdir()] == ["x"]


def test_out_a_link_replaces_the_file_it_names_and_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    write_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"


# -- folders from the Python side ------------------------------------------------------
def test_a_locked_folder_refuses_a_second_writer(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = OutputFolder(out, "train").begin(["a.txt"])
    try:
        with pytest.raises(SymbpError, match="is being written by another symbp command"):
            OutputFolder(out, "train").begin(["a.txt"])
        with pytest.raises(SymbpError, match="incomplete run folder: the symbp train that wrote"):
            check_complete(out)
        first.write({"a.txt": "A"})
        first.finish()
    finally:
        first.close()
    check_complete(out)  # complete now: no error
    second = OutputFolder(out, "train").begin(["b.txt"])
    second.write({"b.txt": "B"})
    second.finish()
    assert sorted(_tree(out)) == [MANIFEST, "b.txt"]  # train's stale a.txt removed


def test_names_from_a_spec_stay_inside_their_folder(tmp_path: Path) -> None:
    assert path_part("../escape") == "escape"
    assert path_part("a/../../b\nc") == "a_.._.._b_c"
    assert path_part("..") == "run" and path_part("") == "run" and path_part("~") == "run"
    assert len(path_part("x" * 500)) == 80
    assert confined(tmp_path / "runs" / "a", tmp_path / "runs") == tmp_path / "runs" / "a"
    with pytest.raises(SymbpError, match="would lie outside"):
        confined(tmp_path / "runs" / ".." / "a", tmp_path / "runs")


def test_demo_and_examples_leave_a_users_files_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "summary.txt").write_bytes(b"my summary")
    assert main(["demo", "-o", str(mine)]) == 2  # refused before any work
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{mine} holds files symbp did not write" in err
    assert _tree(mine) == {"summary.txt": b"my summary"}
    (mine / "koech_3_4_1.yaml").write_bytes(b"name: my edited copy\n")
    assert main(["examples", "koech_3_4_1", "-o", str(mine)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "koech_3_4_1.yaml exists and differs from the shipped" in err
    assert _tree(mine) == {
        "summary.txt": b"my summary",
        "koech_3_4_1.yaml": b"name: my edited copy\n",
    }
    (mine / "koech_3_4_1.yaml").unlink()
    assert main(["examples", "koech_3_4_1", "-o", str(mine)]) == 0  # beside the user's file
    assert (mine / "koech_3_4_1.yaml").read_bytes() == KOECH.read_bytes()
    assert (mine / "summary.txt").read_bytes() == b"my summary"


def test_compile_never_replaces_a_users_python_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = tmp_path / "koech_3_4_1.py"
    mine.write_bytes(b"print('mine')\n")
    assert main(["compile", str(KOECH), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1 and "koech_3_4_1.py exists and is not a module symbp generated" in err
    )
    assert mine.read_bytes() == b"print('mine')\n"
    mine.unlink()
    assert main(["compile", str(KOECH), "-o", "-"]) == 0
    module = capsys.readouterr().out.encode()
    assert module.startswith(b"# Generated by symbp ")
    mine.write_bytes(module.replace(b"Numba trainer", b"an older trainer"))
    assert main(["compile", str(KOECH), "-o", str(tmp_path)]) == 0  # symbp's own: replaced
    assert mine.read_bytes() == module


FAILING_ENGINE = """#!/bin/sh
echo 'This is pdfTeX (a stand-in)' > document.log
echo './document.tex:4: Undefined control sequence.' >> document.log
exit 1
"""


def test_the_tex_and_log_beside_a_pdf_never_replace_a_users_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from symbp.render.pdf import TexFailed, build_pdf

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))  # no TeX engine
    (tmp_path / "paper.tex").write_bytes(b"\\documentclass{article} my paper")
    (tmp_path / "paper.log").write_bytes(b"my log")
    assert main(["doc", str(KOECH), "--format", "pdf", "-o", str(tmp_path / "paper.pdf")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"did not write {tmp_path / 'paper.tex'} either" in err
    engine = bin_dir / "pdflatex"
    engine.write_text(FAILING_ENGINE)
    engine.chmod(0o755)
    with pytest.raises(TexFailed) as info:
        build_pdf("% Generated by symbp\n\\undefined\n", tmp_path / "paper.pdf")
    assert str(info.value) == (
        "LaTeX failed at the source (not kept: a file is in the way):4: Undefined control "
        "sequence. (log not kept: a file is in the way)"
    )
    assert (tmp_path / "paper.tex").read_bytes() == b"\\documentclass{article} my paper"
    assert (tmp_path / "paper.log").read_bytes() == b"my log"
    assert not (tmp_path / "paper.pdf").exists()
    # symbp's own side files (beginning with its header, a TeX log's) are replaced
    (tmp_path / "paper.tex").write_text("% Generated by symbp, an older one")
    (tmp_path / "paper.log").write_text("This is pdfTeX, an older log")
    with pytest.raises(TexFailed, match=f"at {tmp_path / 'paper.tex'}:4: "):
        build_pdf("% Generated by symbp\n\\undefined\n", tmp_path / "paper.pdf")
    assert (tmp_path / "paper.tex").read_text() == "% Generated by symbp\n\\undefined\n"
    assert (tmp_path / "paper.log").read_text().startswith("This is pdfTeX (a stand-in)")


def test_doc_without_out_never_replaces_a_users_file_of_its_default_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    default = tmp_path / "koech-3-4-1.md"  # <spec name>.<format> in the current folder
    default.write_bytes(b"# my own notes\n")
    assert main(["doc", str(KOECH), "--format", "md", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "koech-3-4-1.md exists and symbp did not write it" in err
    assert default.read_bytes() == b"# my own notes\n"
    # symbp's own earlier document of that name is replaced, as with -o
    default.unlink()
    assert main(["doc", str(KOECH), "--format", "md", "-q"]) == 0
    ours = default.read_bytes()
    assert ours.startswith(b"<!-- Generated by symbp ")
    default.write_bytes(ours.replace(b"3-4-1 network", b"an older network"))
    assert main(["doc", str(KOECH), "--format", "md", "-q"]) == 0
    assert default.read_bytes() == ours


def test_doc_pdf_without_out_knows_its_own_pdf_by_its_creator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    if shutil.which("pdflatex") is None:
        pytest.skip("TeX Live (pdflatex) is needed to build the PDF")
    monkeypatch.chdir(tmp_path)
    default = tmp_path / "koech-3-4-1.pdf"
    default.write_bytes(b"%PDF-1.5 a user's own PDF\n%%EOF\n")
    args = ["doc", str(KOECH), "--format", "pdf", "--style", "handout", "-q"]
    assert main(args) == 2
    assert "koech-3-4-1.pdf exists and symbp did not write it" in capsys.readouterr().err
    assert default.read_bytes() == b"%PDF-1.5 a user's own PDF\n%%EOF\n"
    default.unlink()
    assert main(args) == 0
    first = default.read_bytes()
    assert main(args) == 0  # symbp's own PDF (its creator says so) is replaced
    assert default.read_bytes() == first  # reproducible, byte for byte
