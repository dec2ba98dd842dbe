"""The in-kernel runtime: the agent's hooks, reports and cheap runtime facts.

Imports :mod:`kernel_agent.core`, the standard library and IPython; never
:mod:`kernel_agent.features`.
"""
