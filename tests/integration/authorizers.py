"""An authorizer for tests: signed-in users may do anything except touch kernels."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.authorizer import Authorizer


class DenyKernels(Authorizer):
    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource != "kernels"
