"""The pure dataflow core: what a cell's code reads and writes, the graph, the plan.

The server imports these modules too (``server_ext`` plans cascades with
:mod:`.planning`, predicts with :mod:`.analysis`). They import only the
standard library and each other: never :mod:`kernel_agent.runtime`,
:mod:`kernel_agent.features` or IPython. :mod:`.namespace` and
:mod:`.identities` read a namespace mapping that analysis may be given, but
need no kernel.
"""
