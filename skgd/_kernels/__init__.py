"""Compiled code: the loops that walk the data, and what they need to run fast.

- :mod:`~skgd._kernels.passes`: the objective, its gradient and row norms
  in one pass;
- :mod:`~skgd._kernels.stochastic`: online and mini-batch epochs;
- :mod:`~skgd._kernels.saga`: SAGA epochs;
- :mod:`~skgd._kernels.sdca`: dual coordinate ascent passes;
- :mod:`~skgd._kernels.quasi_newton`: the L-BFGS two-loop recursion, and
  on small data the whole iteration and the intercept's settling;
- :mod:`~skgd._kernels.line_search`: the strong-Wolfe bracket both the
  Python search and the whole iteration walk;
- :mod:`~skgd._kernels.smooth_gap`: the duality gap of the binary log-loss
  and squared error, for the whole-iteration path;
- :mod:`~skgd._kernels.inlined_losses`: the scalar losses a kernel inlines;
- :mod:`~skgd._kernels.common`: compile options and inlined helpers;
- :mod:`~skgd._kernels.signatures`: the types of the loss and update-rule
  functions the kernels take;
- :mod:`~skgd._kernels.lazy`: compilation at first use, with the on-disk
  cache;
- :mod:`~skgd._kernels.prefetch`: software prefetch of shuffled rows;
- :mod:`~skgd._kernels.threads`: row blocks in threads, and work in the
  background.

The bottom layer: it imports nothing else of skgd.
"""
