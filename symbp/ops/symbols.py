"""The scalar symbols every operator formula is written in.

All are real: an activation is a formula in ``X``; a loss term is a formula in
``Y`` (one network output) and ``T`` (its target); ``A`` stands for an
activation's output ``f(x)`` when a derivative is written in terms of it.
"""

import sympy as sp

X = sp.Symbol("x", real=True)
Y = sp.Symbol("y", real=True)
T = sp.Symbol("t", real=True)
A = sp.Symbol("a", real=True)
