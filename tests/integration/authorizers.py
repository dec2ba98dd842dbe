"""An authorizer for tests: signed-in users may do anything except touch kernels."""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.authorizer import Authorizer


class DenyKernels(Authorizer):
    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource != "kernels"


class DenyExecute(Authorizer):
    """A user who may look at kernels but not run code in them."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return action != "execute"


class OwnerOnly(Authorizer):
    """JupyterHub's single-user rule, in small: only the server's owner gets in.

    The test server's token user is a random name, so every request comes from
    "another user" here, as when someone else's token reaches /user/<name>/.
    """

    owner = "the-owner"

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return getattr(user, "username", None) == self.owner
