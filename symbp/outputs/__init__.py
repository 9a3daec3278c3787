"""Where symbp's outputs go, and what it may replace there.

- :mod:`.target`: one output path (``-o FILE``): a regular file is replaced
  atomically, a pipe or a character device is written into as a stream, anything
  else is refused (:func:`symbp.fileio.write_atomic` applies it to every write).
- :mod:`.folder`: an output folder (``exercises -o``, ``train -o``, the demo): a
  manifest of what symbp wrote there, a lock while it writes, and a "complete" mark
  set only at the end; nothing symbp did not write is replaced or removed.
- :mod:`.names`: path parts taken from a spec, sanitised and confined.
- :mod:`.signals`: SIGTERM as an exception, so every ``finally`` runs (temporary
  folders removed, the TeX engine's process group stopped).
"""

from __future__ import annotations

from .folder import MANIFEST, OutputFolder, check_complete, write_folder
from .names import confined, path_part
from .target import write_stream_target

__all__ = [
    "MANIFEST",
    "OutputFolder",
    "check_complete",
    "confined",
    "path_part",
    "write_folder",
    "write_stream_target",
]
