"""The TeX engine as a child process that never outlives symbp, and work folders that
never outlive it for long.

The engine runs in its own session (process group), so a timeout, Ctrl-C or SIGTERM
(:mod:`symbp.outputs.signals`) kills it with everything it started. ``kill -9`` of
symbp cannot be caught, so on Linux the group is led by a small guard
(:data:`GUARD`, a Python process started with ``-I -S``: the standard library only)
that asks the kernel for a signal when its parent dies (``PR_SET_PDEATHSIG``) and
then kills its whole group, the engine and the engine's children included. The
guard starts the engine, waits for it and exits with its status.

Work folders are named ``symbp-tex-<pid>-…``; one left behind by a killed process
(whose pid is no longer alive) is removed by the next PDF build of the same user
(:func:`sweep_stale_work_folders`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

#: The guard process (module doc): argv = [parent pid, engine, engine arguments ...].
GUARD = """\
import ctypes, os, signal, subprocess, sys
def stop(signum, frame):
    os.killpg(os.getpgrp(), signal.SIGKILL)
signal.signal(signal.SIGTERM, stop)
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):  # the parent died before prctl
    stop(0, None)
code = subprocess.Popen(sys.argv[2:]).wait()
sys.exit(code if code >= 0 else 128 - code)
"""

#: The prefix of a work folder: ``symbp-tex-<pid>-``.
PREFIX = "symbp-tex-"
_WORK_FOLDER = re.compile(re.escape(PREFIX) + r"(\d+)-[A-Za-z0-9_]+\Z")


class EngineTimeout(Exception):
    """The engine ran longer than its timeout and was killed with its group."""


def guarded(command: list[str]) -> list[str]:
    """``command`` run under :data:`GUARD` where the kernel offers a parent-death
    signal (Linux), else as it is."""
    if not sys.platform.startswith("linux"):
        return command
    return [sys.executable, "-I", "-S", "-c", GUARD, str(os.getpid()), *command]


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill ``process`` and everything it started (its own process group), and reap it."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows: no process groups
            process.kill()
    except ProcessLookupError:
        pass
    process.communicate()


def run_engine(
    command: list[str], work: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[bytes]:
    """Run ``command`` in ``work`` as the leader of its own session (module doc);
    :class:`EngineTimeout` after ``timeout`` seconds."""
    process = subprocess.Popen(
        guarded(command),
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        stdout, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        raise EngineTimeout from None
    except BaseException:  # Ctrl-C, SIGTERM, the time budget: no orphan engine
        kill_group(process)
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process of that number
    return True


def sweep_stale_work_folders(root: str | Path | None = None) -> list[Path]:
    """Remove the work folders under ``root`` (the temporary folder) that this user's
    killed symbp processes left behind; returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(root or tempfile.gettempdir()))
    except OSError:
        return removed
    for entry in entries:
        match = _WORK_FOLDER.fullmatch(entry.name)
        if match is None or int(match.group(1)) == os.getpid():
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not entry.is_dir(follow_symlinks=False) or info.st_uid != os.getuid():
                continue
        except OSError:
            continue
        if not _alive(int(match.group(1))):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(Path(entry.path))
    return removed


def work_folder() -> tempfile.TemporaryDirectory[str]:
    """A fresh work folder ``symbp-tex-<pid>-…``, after sweeping stale ones."""
    sweep_stale_work_folders()
    return tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-")


__all__ = ["GUARD", "EngineTimeout", "guarded", "run_engine", "sweep_stale_work_folders"]
