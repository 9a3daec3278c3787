"""Build a PDF from LaTeX source with a real TeX engine (pdflatex), safely.

- Shell escape is always off (``-no-shell-escape``), and TeX may read and write
  only files under its working folder (``openin_any=p``, ``openout_any=p``).
- The run happens in a fresh temporary folder; the PDF is moved into place
  atomically. The engine leads its own process group, killed with everything in
  it on a timeout, Ctrl-C or SIGTERM; the temporary folder is removed then too.
  pdflatex runs until cross-references settle (at most 3 times).
- The PDF is reproducible: no creation date, an empty trailer ID
  (``SOURCE_DATE_EPOCH=0``, ``\\pdfinfoomitdate``, ``\\pdftrailerid{}``).
- Without a TeX engine, the ``.tex`` is written next to the requested PDF and
  :class:`TexMissing` says how to install TeX Live. A LaTeX error raises
  :class:`TexFailed` with the TeX error line and the path of the kept ``.log``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ..budget import paused
from ..errors import SymbpError
from ..fileio import write_atomic

#: The engine looked up on PATH.
ENGINE = "pdflatex"
MAX_RUNS = 3
TIMEOUT_S = 300
INSTALL_HINT = (
    "install TeX Live (Debian/Ubuntu: sudo apt-get install texlive-latex-base "
    "texlive-latex-recommended texlive-pictures; macOS: MacTeX; Windows: TeX Live or MiKTeX)"
)
_RERUN = re.compile(r"Rerun to get|Label\(s\) may have changed|Table widths have changed")


class TexMissing(SymbpError):
    """No TeX engine: the ``.tex`` was written, the PDF was not."""


class TexFailed(SymbpError):
    """The TeX engine stopped with an error (one line: the error and the log's path)."""


def find_engine(engine: str | None = None) -> str | None:
    """The path of ``engine`` (default :data:`ENGINE`) on ``PATH``, or ``None``."""
    return shutil.which(engine or ENGINE)


def _environment(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SOURCE_DATE_EPOCH": "0",
            "FORCE_SOURCE_DATE": "1",
            "openin_any": "p",
            "openout_any": "p",
            "shell_escape": "f",
            "TEXMFOUTPUT": str(workdir),
        }
    )
    return env


def first_error(log: str) -> tuple[int | None, str]:
    """The line number (of the ``.tex``) and message of the first TeX error in ``log``."""
    lines = log.splitlines()
    for n, line in enumerate(lines):
        found = re.match(r"^(?:\./)?[^:\s]+\.tex:(\d+): (.*)$", line)
        if found:
            return int(found.group(1)), found.group(2).strip()
        if line.startswith("! "):
            number = next(
                (int(m.group(1)) for c in lines[n + 1 : n + 8] if (m := re.match(r"^l\.(\d+)", c))),
                None,
            )
            return number, line[2:].strip()
    return None, "no error message in the log"


_OVERFULL = re.compile(r"^Overfull \\[hv]box \(([\d.]+)pt too (?:wide|high)\)(.*)$", re.M)


def overfull_boxes(log: str) -> list[tuple[float, str]]:
    """Every overfull box a TeX log reports, as ``(points, where)``.

    For example ``(12.3, "in paragraph at lines 80--81")``.
    """
    return [(float(m.group(1)), m.group(2).strip()) for m in _OVERFULL.finditer(log)]


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill ``process`` and everything it started (its own process group), and reap it."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows: no process groups
            process.kill()
    except ProcessLookupError:
        pass
    process.communicate()


def run_engine(command: list[str], work: Path, exe: str) -> subprocess.CompletedProcess[bytes]:
    """Run the TeX engine in ``work`` as the leader of its own process group
    (``start_new_session``), so that a timeout, Ctrl-C or SIGTERM
    (:mod:`symbp.outputs.signals`) kills it and anything it started."""
    process = subprocess.Popen(
        command,
        cwd=work,
        env=_environment(work),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        stdout, _ = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise TexFailed(f"{exe} ran longer than {TIMEOUT_S} s and was stopped") from None
    except BaseException:  # Ctrl-C, SIGTERM, the time budget: no orphan engine
        _kill_group(process)
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout)


def build_pdf(
    source: str,
    out: Path,
    *,
    engine: str | None = None,
    log_out: Path | None = None,
    inputs: Mapping[str, bytes] | None = None,
) -> Path:
    """Compile LaTeX ``source`` to the PDF ``out`` (see the module docstring).

    ``log_out``, if given, receives the TeX log of the last run (for checks such
    as :func:`overfull_boxes`). ``inputs`` are files (plain names such as
    ``part1.pdf``) put next to the source in the work folder, e.g. PDFs that
    ``pdfpages`` includes.
    """
    out = Path(out)
    for name in inputs or {}:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name) or name.startswith("document."):
            raise ValueError(f"inputs: expected a plain file name, found {name!r}")
    tex_path = out.with_suffix(".tex")
    exe = find_engine(engine)
    if exe is None:
        write_atomic(tex_path, source)
        raise TexMissing(
            f"no TeX engine ({engine or ENGINE}) found on PATH; wrote {tex_path} instead of the "
            f"PDF; to build PDFs, {INSTALL_HINT}"
        )
    with tempfile.TemporaryDirectory(prefix="symbp-tex-") as tmp:
        work = Path(tmp)
        (work / "document.tex").write_text(source, encoding="utf-8")
        for name, data in (inputs or {}).items():
            (work / name).write_bytes(data)
        command = [
            exe,
            "-no-shell-escape",
            "-interaction=nonstopmode",
            "-halt-on-error",
            "-file-line-error",
            "document.tex",
        ]
        for _ in range(MAX_RUNS):
            with paused():  # the engine has its own timeout
                result = run_engine(command, work, exe)
            log_file = work / "document.log"
            log = (
                log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
            )
            if result.returncode != 0 or not (work / "document.pdf").exists():
                kept_log = out.with_suffix(".log")
                write_atomic(kept_log, log or result.stdout.decode("utf-8", "replace"))
                write_atomic(tex_path, source)
                number, message = first_error(log)
                where = f"{tex_path}:{number}" if number else str(tex_path)
                raise TexFailed(f"LaTeX failed at {where}: {message} (log: {kept_log})")
            if not _RERUN.search(log):
                break
        if log_out is not None:
            write_atomic(Path(log_out), log)
        return write_atomic(out, (work / "document.pdf").read_bytes())
