"""The symbolic model: the single source of truth for documents and kernels.

- :mod:`.notation` names every symbol (shared by LaTeX and code);
- :mod:`.generic` derives the layer-generic formulas (index form, delta recursion);
- :mod:`.explicit` builds one symbol per parameter and each gradient's chain of factors;
- :mod:`.evaluate` evaluates the generic formulas exactly on a spec's numbers.

Nothing here knows about documents, kernels, files or the terminal.
"""
