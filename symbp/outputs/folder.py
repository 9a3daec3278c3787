"""Output folders: symbp writes into a folder only what it can call its own.

Every folder symbp writes several files into (``exercises -o``, ``train -o``, the
run folders under ``runs/``, ``demo``) holds :data:`MANIFEST`, a JSON file that
lists each file symbp wrote there (path relative to the folder → the command that
wrote it) and whether the last write finished (``"complete"``). The rules:

- A folder that does not exist is created by symbp and so is its own. A set of
  files written at once (:func:`write_folder`) is assembled in a temporary sibling
  folder and renamed into place: nothing is there unless everything is.
- An existing folder is never emptied, removed or renamed. symbp writes into it
  only when it is empty or holds a manifest (a folder of files symbp did not
  write, such as an older output, is refused with one line).
- In a folder with a manifest, a file symbp is about to write may replace only a
  regular file the manifest lists. Any other file, folder or link in its way makes
  symbp refuse with one line *before* it writes anything; files in no one's way
  (a user's notes added later) are left byte for byte.
- ``replace=True``: files the same command wrote there before and does not write
  this time are removed (only those: the manifest's entries, never anything else).
- While symbp writes (for ``train``: from before the first epoch to the last file)
  the folder is locked (``flock`` of the folder, released by the kernel even on
  ``kill -9``; a second writer refuses with one line) and the manifest says
  ``"complete": false``. It says ``true`` only once the last file is in place, so a
  killed command leaves the folder marked incomplete; :func:`check_complete` (used
  by :func:`symbp.load_trainer`) says so in one line.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import TracebackType

from ..errors import SymbpError
from ..fileio import kind_of

#: The manifest's file name (in the output folder).
MANIFEST = ".symbp-manifest.json"
_MAX_MANIFEST_BYTES = 1 << 22


@dataclass
class Manifest:
    """What symbp wrote in a folder: relative path → command, and whether it finished."""

    files: dict[str, str] = field(default_factory=dict)
    complete: bool = True
    command: str = ""

    def text(self) -> str:
        data = {"written_by": "symbp", "command": self.command, "complete": self.complete}
        return json.dumps({**data, "files": dict(sorted(self.files.items()))}, indent=1) + "\n"


def _safe_rel(rel: str) -> bool:
    """A relative path inside the folder: no ``..``, no root, no backslash or NUL."""
    parts = PurePosixPath(rel).parts
    return (
        bool(parts)
        and not rel.startswith("/")
        and "\\" not in rel
        and "\x00" not in rel
        and all(p not in ("", ".", "..") for p in parts)
        and rel != MANIFEST
    )


def read_manifest(folder: Path, *, field: str = "--out") -> Manifest | None:
    """The manifest of ``folder`` (``None`` where there is none); a one-line error for a
    file of that name that is not one (nothing is written then)."""
    from ..fileio import read_limited

    path = folder / MANIFEST
    if not os.path.lexists(path):
        return None
    problem = "not a symbp manifest"
    try:
        data = json.loads(read_limited(path, _MAX_MANIFEST_BYTES).decode("utf-8"))
        files = data["files"] if isinstance(data, dict) else None
        if (
            isinstance(files, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in files.items())
            and isinstance(data.get("complete"), bool)
        ):
            bad = next((k for k in files if not _safe_rel(k)), None)
            if bad is None:
                return Manifest(dict(files), data["complete"], str(data.get("command", "")))
            problem = f"it lists a path outside the folder ({bad[:80]!r})"
    except (SymbpError, ValueError, KeyError):
        pass
    raise SymbpError(
        f"{path} is {problem}; symbp writes only into folders it can read as its own: "
        "move that file away or choose another folder",
        field=field,
    )


def check_complete(folder: str | Path, *, what: str = "run folder") -> None:
    """A one-line error when ``folder``'s manifest says its last write did not finish."""
    manifest = read_manifest(Path(folder), field="path")
    if manifest is not None and not manifest.complete:
        raise SymbpError(
            f"{folder}: incomplete {what}: the symbp {manifest.command or 'command'} that wrote "
            f"it was stopped before the end ({MANIFEST} says complete: false); run it again",
        )


class OutputFolder:
    """An output folder written under the rules of this module.

    ``check(names)`` refuses (one line) when a file in the way is not symbp's;
    ``begin(names)`` also creates the folder, locks it and marks it incomplete;
    ``write(files)`` writes each file atomically; ``finish()`` removes the command's
    stale files, marks the folder complete and unlocks it. As a context manager,
    ``begin`` is the caller's and the exit unlocks (without ``finish`` the folder
    stays marked incomplete).
    """

    def __init__(self, path: str | Path, command: str, *, field: str = "--out") -> None:
        self.path = Path(path)
        self.command = command
        self.field = field
        self.previous: Manifest | None = None
        self._names: set[str] = set()
        self._fd: int | None = None
        self._created = False
        self._writing = False

    # -- checks -------------------------------------------------------------------------
    def _refuse(self, message: str) -> SymbpError:
        return SymbpError(f"{message}; nothing was written", field=self.field)

    def _folder_ok(self) -> bool:
        """Whether the folder exists (a one-line error for something else there)."""
        if not os.path.lexists(self.path):
            return False
        try:
            mode = os.stat(self.path).st_mode
        except OSError:
            raise self._refuse(f"{self.path} is a broken link") from None
        kind = kind_of(mode)
        if kind != "a folder":
            raise self._refuse(f"{self.path}: expected a folder, found {kind or 'a file'}")
        return True

    def check(self, names: Iterable[str]) -> Manifest | None:
        """Refuse when any of ``names`` (relative paths) would replace what symbp did
        not write; returns the folder's manifest."""
        names = sorted(set(names))
        if not self._folder_ok():
            return None
        manifest = read_manifest(self.path, field=self.field)
        if manifest is None and any(os.scandir(self.path)):
            raise self._refuse(
                f"{self.path} holds files symbp did not write (it has no {MANIFEST}): "
                "choose a new or empty folder"
            )
        own = manifest.files if manifest is not None else {}
        for rel in names:
            if not _safe_rel(rel):  # pragma: no cover - symbp's own names
                raise ValueError(f"not a relative path inside the folder: {rel!r}")
            where = self.path
            for part in PurePosixPath(rel).parts[:-1]:
                where = where / part
                if os.path.lexists(where) and (where.is_symlink() or not where.is_dir()):
                    raise self._refuse(f"{where} is in the way (symbp needs a folder there)")
            target = self.path / rel
            if not os.path.lexists(target):
                continue
            if rel not in own:
                raise self._refuse(
                    f"{target} exists and symbp did not write it (it is not in {MANIFEST}): "
                    "move it away or choose another folder"
                )
            if target.is_symlink() or not target.is_file():
                raise self._refuse(f"{target} is no longer the file symbp wrote there")
        return manifest

    # -- writing ------------------------------------------------------------------------
    def _lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no flock (Windows): no lock
            return
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise self._refuse(
                f"{self.path} is being written by another symbp command (it is locked): "
                "wait for it to finish or choose another folder"
            ) from None
        self._fd = fd

    def check_unlocked(self) -> None:
        """Refuse (one line) when another command holds the folder's lock now."""
        if os.path.isdir(self.path):
            self._lock()
            self.close()

    def _write_manifest(self, manifest: Manifest) -> None:
        from ..fileio import write_atomic

        write_atomic(self.path / MANIFEST, manifest.text())

    def begin(self, names: Iterable[str]) -> OutputFolder:
        """Create, lock and mark incomplete the folder that ``names`` will be written to."""
        self._names = set(names)
        self.check(self._names)
        self._created = not os.path.lexists(self.path)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock()
            self.previous = self.check(self._names)  # again, under the lock
            files = dict(self.previous.files) if self.previous else {}
            files.update({rel: self.command for rel in self._names})
            self._write_manifest(Manifest(files, complete=False, command=self.command))
        except BaseException:
            self.close()
            raise
        return self

    def write(self, files: Mapping[str, str | bytes]) -> list[Path]:
        """Write each of ``files`` (relative path → content; named to :meth:`begin`)."""
        from ..fileio import write_atomic

        self._writing = True
        extra = set(files) - self._names
        if extra:  # pragma: no cover - a caller's mistake
            raise ValueError(f"not named to begin(): {sorted(extra)}")
        return [write_atomic(self.path / rel, files[rel]) for rel in files]

    def finish(self, *, replace: bool = True) -> None:
        """Remove the command's stale files (``replace``), list the files now there,
        mark complete, unlock."""
        files = dict(self.previous.files) if self.previous else {}
        if replace:
            for rel, command in sorted(files.items()):
                if command != self.command or rel in self._names:
                    continue
                _remove_own(self.path, rel)
                del files[rel]
        for rel in self._names:  # the manifest lists what is there (a PDF not built is not)
            if os.path.lexists(self.path / rel):
                files[rel] = self.command
            else:
                files.pop(rel, None)
        self._write_manifest(Manifest(files, complete=True, command=self.command))
        self.close()

    def rollback(self) -> None:
        """Undo :meth:`begin` while nothing else was written: the earlier manifest back
        (or none, and the folder removed if symbp created it and it is empty). Once
        :meth:`write` has begun, only unlock: the folder stays marked incomplete."""
        try:
            if self._writing:
                return
            if self.previous is not None:
                self._write_manifest(self.previous)
            else:
                (self.path / MANIFEST).unlink(missing_ok=True)
                if self._created:
                    with contextlib.suppress(OSError):
                        self.path.rmdir()
        finally:
            self.close()

    def close(self) -> None:
        """Release the lock (the manifest stays as it is)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _remove_own(folder: Path, rel: str) -> None:
    """Remove ``folder/rel`` (a regular file symbp wrote) and the folders it empties."""
    target = folder / rel
    if target.is_symlink() or not target.is_file():
        return
    target.unlink()
    parent = target.parent
    while parent != folder:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_folder(
    out: str | Path,
    files: Mapping[str, str | bytes],
    command: str,
    *,
    replace: bool = True,
    field: str = "--out",
) -> Path:
    """Write ``files`` (relative path → content) into the folder ``out`` under the rules
    of this module: all at once into a new folder, else file by file beside what is
    there (refusing first when anything in the way is not symbp's)."""
    out = Path(out)
    folder = OutputFolder(out, command, field=field)
    folder.check(files)
    if not os.path.lexists(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            for rel, content in sorted(files.items()):
                path = tmp / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    path.write_bytes(content)
                else:
                    path.write_text(content, encoding="utf-8", newline="\n")
            manifest = Manifest({rel: command for rel in files}, complete=True, command=command)
            (tmp / MANIFEST).write_text(manifest.text(), encoding="utf-8")
            os.chmod(tmp, 0o777 & ~_umask())
            try:
                os.rename(tmp, out)  # fails if another writer made ``out`` meanwhile
            except OSError:
                raise folder._refuse(f"{out} appeared while symbp was writing it") from None
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return out
    folder.begin(files)
    try:
        folder.write(files)
        folder.finish(replace=replace)
    finally:
        folder.close()
    return out
