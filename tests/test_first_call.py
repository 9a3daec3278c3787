"""A kernel's first call in a process (:mod:`symbp.codegen.first_call`): processes that
start the same new module at once compile it once; the others load it from Numba's
on-disk cache. Modules outside symbp's compile cache take no lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import symbp
from symbp.codegen.first_call import lock_path

#: A small net, compiled in each test's own empty caches.
SPEC = {
    "name": "first-call",
    "layers": [3, 5, 2],
    "activations": ["tanh", "identity"],
    "loss": "mse",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "init": {"name": "xavier_uniform", "seed": 4},
}

#: Holds the module's lock (as a process compiling it would), prints ``locked``, and on
#: ``go`` from stdin compiles the kernel into Numba's cache by a call that takes no
#: lock (``gradients``), then releases the lock.
HOLDER = r"""
import fcntl, json, os, sys
import numpy as np
import symbp
from symbp.codegen.first_call import lock_path
trainer = symbp.compile(json.loads(sys.argv[1]))
fd = os.open(lock_path(trainer.module.train), os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
assert sys.stdin.readline().strip() == "go"
m = trainer.module
p = np.zeros(m.N_PARAMS)
m.gradients(p, np.zeros_like(p), m.workspace(), np.zeros((1, 3)), np.zeros((1, 2)))
assert m.train.stats.cache_misses, "the holder compiled the kernel"
fcntl.flock(fd, fcntl.LOCK_UN)
"""

#: Fits (the kernel's first call goes through :func:`compiling`) and prints how the
#: kernel came: compiled here (misses) or loaded from the cache (hits).
FITTER = r"""
import json, sys
import numpy as np
import symbp
trainer = symbp.compile(json.loads(sys.argv[1]))
print("ready", flush=True)
trainer.fit(np.ones((4, 3)), np.zeros((4, 2)), epochs=1, batch_size=2)
stats = trainer.module.train.stats
print(json.dumps([sum(stats.cache_misses.values()), sum(stats.cache_hits.values())]))
"""


def test_a_process_waits_for_anothers_compile_and_loads_it(tmp_path: Path) -> None:
    import json

    env = {
        **os.environ,
        "SYMBP_CACHE_DIR": str(tmp_path / "symbp"),
        "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
    }
    env.pop("NUMBA_DISABLE_JIT", None)
    spec = json.dumps(SPEC)
    pipe = {"stdout": subprocess.PIPE, "text": True, "env": env}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, spec], stdin=subprocess.PIPE, **pipe)
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "locked"
    fitter = subprocess.Popen([sys.executable, "-c", FITTER, spec], **pipe)
    assert fitter.stdout is not None
    # The fitter is about to call the kernel: without the lock it would compile it now,
    # before the holder has even started its compile.
    assert fitter.stdout.readline().strip() == "ready"
    holder.stdin.write("go\n")
    holder.stdin.close()
    assert holder.wait(timeout=300) == 0
    misses, hits = json.loads(fitter.stdout.read().strip().splitlines()[-1])
    assert fitter.wait(timeout=300) == 0
    assert (misses, hits) == (0, 1)  # loaded the holder's compile, compiled nothing


def test_only_modules_in_the_compile_cache_take_a_lock(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SYMBP_CACHE_DIR", str(tmp_path / "cache"))
    cached = symbp.compile(SPEC)
    path = lock_path(cached.module.train)
    assert path is not None
    assert path.parent == Path(cached.module.__file__).parent
    assert path.name == Path(cached.module.__file__).with_suffix(".lock").name
    cached.fit(np.ones((2, 3)), np.zeros((2, 2)), epochs=1)
    assert path.is_file()  # left in place: removing it would split the lock
    own = symbp.compile(SPEC, out_dir=tmp_path / "mine")
    assert lock_path(own.module.train) is None
    own.fit(np.ones((2, 3)), np.zeros((2, 2)), epochs=1)
    assert not list((tmp_path / "mine").glob("*.lock"))
