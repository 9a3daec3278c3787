"""Maps the two top-level data folders into the wheel; everything else is in pyproject.toml.

The code packages are discovered by ``[tool.setuptools.packages.find]`` (``symbp``,
``symbp.*``). The templates and the shipped examples live at the top of the checkout
(``templates/``, ``examples/``, as the layout of the house asks) and ship inside the
wheel as the packages ``symbp.templates`` and ``symbp.examples``, read through
:mod:`importlib.resources`. Discovery cannot find a package whose folder lies outside
its parent's, so ``build_py`` adds these two to what it found.
"""

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_PACKAGES = {"symbp.templates": "templates", "symbp.examples": "examples"}


class BuildWithDataPackages(build_py):
    """``build_py`` that also builds :data:`DATA_PACKAGES` (with their package data)."""

    def finalize_options(self) -> None:
        dist = self.distribution
        dist.packages = sorted({*(dist.packages or ()), *DATA_PACKAGES})
        dist.package_dir = {**(dist.package_dir or {}), **DATA_PACKAGES}
        super().finalize_options()


setup(cmdclass={"build_py": BuildWithDataPackages})
