"""What the records say about computing their values overflow-free.

- :class:`softplus` ``log(1 + exp(x))``: a SymPy function class that the code printer
  writes in its stable form (sigmoid's ``log a = -softplus(-z)``);
- :data:`LOG_NORMALISER` stands for ``log Σ_k g(z_k)``, the logarithm of a normalised
  activation's denominator over its layer (softmax's log-sum-exp), which the kernels
  compute with the maximum subtracted first;
- :data:`LOG_Y` stands for ``log y`` in a loss's term written against the logarithm of
  its output (:meth:`symbp.ops.losses.Loss.stable_term`).
"""

from __future__ import annotations

import sympy as sp


class softplus(sp.Function):  # a SymPy function class, printed in its stable form
    """``log(1 + exp(x))``, printed in its overflow-free form."""

    nargs = 1

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return sp.log(1 + sp.exp(self.args[0]))._eval_evalf(prec)

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return 1 / (1 + sp.exp(-self.args[0]))


#: ``log Σ_k g(z_k)`` over the layer of a normalised activation (softmax: log-sum-exp).
LOG_NORMALISER = sp.Symbol("log_normaliser", real=True)
#: ``log y``, where a loss's term is written against the logarithm of its output.
LOG_Y = sp.Symbol("log_y", real=True)
