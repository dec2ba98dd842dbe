"""User features in the notebook: the state API, slicing, ``%flow``, ``%%memoize``.

They build on :mod:`kernel_agent.runtime` and :mod:`kernel_agent.core`; nothing
below imports them (the package's :func:`kernel_agent.load_ipython_extension`
registers the magics).
"""
