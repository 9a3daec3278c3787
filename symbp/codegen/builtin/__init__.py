"""Generated modules shipped in the package (``python -m symbp.regenerate`` writes them):
the pieces of the built-in records for the piecewise kernel (:mod:`symbp.codegen.pieces`)."""
