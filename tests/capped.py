"""Running ``symbp`` as a capped subprocess, and snapshots of a folder (test helper).

:func:`run_capped` runs ``python -m symbp.cli ARGS`` under ``RLIMIT_CPU`` (10 s) and
``RLIMIT_AS`` (1 GiB), set in ``preexec_fn``, with a wall-clock timeout as a backstop
for a machine under load, standard input closed, and ``HOME``, ``TMPDIR`` and
``SYMBP_CACHE_DIR`` pointed into a folder of the test's own (so a command can write
nowhere else unnoticed; matplotlib keeps the user's font cache). :func:`snapshot`
records every entry under a folder (kind, mode, size, content hash) so a test can
compare before and after.
"""

from __future__ import annotations

import hashlib
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

CPU_S = 10
MEMORY = 2**30
WALL_S = 90
_MPL_DIR = str(Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "matplotlib")


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_S, CPU_S))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_capped(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``symbp ARGS`` in ``cwd`` within the caps; ``home`` holds HOME, TMPDIR and the cache."""
    for sub in ("home", "tmp", "cache"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "HOME": str(home / "home"),
        "TMPDIR": str(home / "tmp"),
        "SYMBP_CACHE_DIR": str(home / "cache"),
        # matplotlib's own font cache, so that no "building the font cache" line appears
        "MPLCONFIGDIR": os.environ.get("MPLCONFIGDIR", _MPL_DIR),
        "NUMBA_CACHE_DIR": str(home / "cache" / "numba"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "symbp.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=WALL_S,
        preexec_fn=_limits,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def snapshot(root: Path) -> dict[str, tuple[str, int, int, str]]:
    """``relative path -> (kind, mode, size, sha256)`` of everything under ``root``.

    A FIFO, device or socket is recorded by kind and mode only (never opened).
    """
    out: dict[str, tuple[str, int, int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            info = path.lstat()
            rel = str(path.relative_to(root))
            mode = stat.S_IMODE(info.st_mode)
            if stat.S_ISREG(info.st_mode):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                out[rel] = ("file", mode, info.st_size, digest)
            elif stat.S_ISDIR(info.st_mode):
                out[rel] = ("dir", mode, 0, "")
            elif stat.S_ISLNK(info.st_mode):
                out[rel] = ("link", mode, 0, os.readlink(path))
            elif stat.S_ISFIFO(info.st_mode):
                out[rel] = ("fifo", mode, 0, "")
            else:
                out[rel] = ("other", mode, 0, "")
    return out


def one_error_line(result: subprocess.CompletedProcess[str], command: str) -> str | None:
    """Why ``result`` is not an exit 0 or a one-line error of ``symbp COMMAND`` (or ``None``)."""
    if "Traceback" in result.stderr:
        return f"traceback: {result.stderr[-1500:]}"
    if result.returncode == 0:
        return None
    if result.returncode not in (1, 2):
        return f"exit {result.returncode}: {result.stderr[-1500:]}"
    lines = result.stderr.splitlines()
    if result.returncode == 1 and not lines:
        return None  # a check failed (verify's claims): the report is the result
    if len(lines) != 1 or not result.stderr.endswith("\n"):
        return f"expected one stderr line, found {len(lines)}: {result.stderr[-1500:]}"
    if not lines[0].startswith(f"symbp {command}: "):
        return f"expected 'symbp {command}: ...', found {lines[0][:200]!r}"
    return None
