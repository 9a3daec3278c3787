"""Write generated modules to real files and import them.

Numba's ``cache=True`` needs a real source file (code ``exec``'d from a string has no
cache locator) and a module registered in ``sys.modules`` before it executes, so that
a later process can load the compiled functions. Modules are written atomically
(temporary file + rename) and never rewritten when unchanged: rewriting would change
the file's timestamp and make Numba discard its cache.

The compile cache lives in ``$SYMBP_CACHE_DIR`` or the per-user cache directory
(``platformdirs``), subfolder ``kernels``. A module's name there is
``network_<dtype>_<key>.py``, the key being the SHA-256 of its text, which names the
network's structure key, symbp's version, the template version and the runtime's hash:
a stale module is never loaded. An index (``index/<render key>``) maps a structure +
dtype + generator sources to its module file, so a warm start skips deriving and
rendering, and every spec of one structure (whatever its numbers) shares the module.

Threads and processes may compile and load at once: files are written atomically
under unique temporary names, and :func:`import_module` executes a module once per
process under a lock of its own, handing other threads the module only after it
has executed (``sys.modules`` holds it earlier, while it executes, for Numba).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import sys
import threading
from pathlib import Path
from types import ModuleType

from ..fileio import write_atomic

_PACKAGE = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """Where compiled modules go by default."""
    env = os.environ.get("SYMBP_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "kernels"
    import platformdirs

    return Path(platformdirs.user_cache_dir("symbp")) / "kernels"


def safe_stem(name: str, limit: int = 40) -> str:
    """An ASCII identifier-like file stem from a spec name."""
    stem = "".join(c if c.isascii() and c.isalnum() else "_" for c in name)[:limit].strip("_")
    return stem or "network"


def _generator_hash() -> str:
    """SHA-256 over every source that shapes a generated module: symbp's Python files
    and the trainer template, read the way :mod:`.emit` reads it (from ``symbp/templates``
    in an installed wheel, ``templates/`` in a source checkout)."""
    from .emit import TEMPLATE, _load_template

    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(_PACKAGE.parent)).encode())
        digest.update(path.read_bytes())
    for name in (TEMPLATE, *KERNEL_BLOCKS):  # the blocks it includes, and recurrent modules'
        digest.update(name.encode())
        digest.update(_load_template(name).encode())
    return digest.hexdigest()[:16]


_GENERATOR_HASH: str | None = None
#: The templates of the layer kinds' blocks (``templates/kernels/``), and the passes
#: that ``trainer.py.j2`` imports (the output rows, the optimiser step): every template a
#: generated module is rendered from is part of its index key.
KERNEL_BLOCKS = tuple(
    f"kernels/{name}.py.j2" for name in ("dense", "conv", "pool", "flatten", "recurrent", "passes")
)


def render_key(structure: str, dtype: str) -> str:
    """Key of the index entry for a structure's module (structure key, dtype, generator
    sources)."""
    global _GENERATOR_HASH
    if _GENERATOR_HASH is None:
        _GENERATOR_HASH = _generator_hash()
    return f"{structure}_{dtype}_{_GENERATOR_HASH}"


def lookup(directory: Path, key: str) -> Path | None:
    """The module file recorded for ``key``, if it is still there."""
    entry = directory / "index" / key
    try:
        name = entry.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    path = directory / name
    return path if name and "/" not in name and path.is_file() else None


def record(directory: Path, key: str, path: Path) -> None:
    """Remember that ``key`` renders to ``path`` (best effort)."""
    with contextlib.suppress(OSError):
        write_atomic(directory / "index" / key, path.name + "\n")


def write(text: str, path: Path) -> Path:
    """Write ``text`` to ``path`` atomically, unless the file already holds exactly it."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return path
    except OSError:
        pass
    return write_atomic(path, text)


def text_key(text: str) -> str:
    """The content key of a module text (SHA-256, 16 hex digits).

    The text names the structure key (or the spec hash), symbp's version, the template
    version and the runtime's hash, so a change to any of them gives a new key.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def module_name(path: Path) -> str:
    """The ``sys.modules`` name of a generated module file (from its content)."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return f"symbp_kernel_{digest}"


#: Modules that finished executing, by ``sys.modules`` name; the lock guards the two
#: tables, each module's own lock its execution.
_LOADED: dict[str, ModuleType] = {}
_LOCKS: dict[str, threading.Lock] = {}
_TABLES = threading.Lock()


def import_module(path: Path) -> ModuleType:
    """Import the generated module at ``path`` (once per content per process).

    Safe from any number of threads at once: the first executes the module under the
    module's own lock; the others wait for it and get the executed module. (Reading
    ``sys.modules`` would hand them a module still executing, without its kernels.)
    """
    path = Path(path).resolve()
    name = module_name(path)
    module = _LOADED.get(name)
    if module is not None:
        return module
    with _TABLES:
        lock = _LOCKS.setdefault(name, threading.Lock())
    with lock:
        module = _LOADED.get(name)
        if module is None:
            module = _execute(name, path)
            with _TABLES:
                _LOADED[name] = module
    return module


def _execute(name: str, path: Path) -> ModuleType:
    """Execute the module file ``path`` as ``name``, registered in ``sys.modules`` first
    (Numba's cache locator looks it up there)."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
