"""What happens around a generated kernel's first call in a process (its compile, or its
load from Numba's on-disk cache).

- **One process compiles, the others load.** Processes that start the same new module at
  once (``GridSearchCV(n_jobs=2)``, a pool of workers) would each compile it. A kernel
  of a module in symbp's compile cache (:func:`.loader.cache_dir`) therefore takes an
  exclusive lock on the file ``<module>.lock`` next to it (``fcntl.flock``) for its
  first call: the first process compiles and Numba writes the result to its cache; the
  next one, let in after it, finds the compiled kernel there and loads it. The wait is
  bounded (:data:`LOCK_WAIT_S`; then the process compiles on its own, as without the
  lock); the lock is released by the kernel even when a process dies; the lock file is
  never removed (removing it would let two processes hold "the" lock at once). Modules
  elsewhere (``symbp compile -o`` outputs, ``generated/``) take no lock: symbp writes
  no file into a user's directory. Where ``fcntl`` is missing (Windows), no lock.
- **No garbage collection while Numba compiles.** Numba's compiler makes hundreds of
  thousands of short-lived objects, and each collection of the oldest generation walks
  every object in the process (SymPy's too): 0.2-0.4 s of a 1.6-2.0 s W2 compile on the
  benchmark machine. What garbage the compiler leaves is collected when the collector
  runs again. Threads may enter at once: only the one that paused it restarts it.

A compiled kernel, and one that is plain Python (``NUMBA_DISABLE_JIT``), runs as it is.
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .loader import cache_dir

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: The longest a process waits for another one's compile of the same module, seconds
#: (a recurrent module compiles in about 20 s on a 2-core machine).
LOCK_WAIT_S = 120.0
#: How often a waiting process tries the lock again, seconds.
_POLL_S = 0.02


@contextlib.contextmanager
def compiling(kernel: Any) -> Iterator[None]:
    """Around ``kernel``'s call: while it has no compiled signature in this process,
    the module's lock (module docstring) and the collector paused."""
    if getattr(kernel, "signatures", None) != []:
        yield
        return
    with _module_lock(kernel), _collector_paused():
        yield


def lock_path(kernel: Any) -> Path | None:
    """The lock file of ``kernel``'s module, or ``None`` where it takes no lock."""
    source = getattr(getattr(kernel, "py_func", None), "__code__", None)
    if fcntl is None or source is None:
        return None
    path = Path(source.co_filename).resolve()
    if not path.is_relative_to(cache_dir().resolve()):
        return None
    return path.with_suffix(".lock")


@contextlib.contextmanager
def _module_lock(kernel: Any) -> Iterator[None]:
    path = lock_path(kernel)
    try:
        fd = -1 if path is None else os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # a cache directory we cannot write: compile without the lock
        fd = -1
    if fd < 0:
        yield
        return
    try:
        held = _acquire(fd)
        try:
            yield
        finally:
            if held:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int) -> bool:
    """Whether the exclusive lock on ``fd`` was taken within :data:`LOCK_WAIT_S`."""
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_S)
        except OSError:  # a file system without locks
            return False


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
