"""Shared fixtures: a real jupyter_server with the extension, and real kernels."""

from __future__ import annotations

pytest_plugins = ["pytest_jupyter.jupyter_server"]
