"""A stock kernel websocket that only turns off Nagle's algorithm.

jupyter_server leaves Nagle on for the kernel websocket; with a Python client
on loopback that stalls small replies ~40 ms (DESIGN §5, Latency). The
cascade mixin turns it off, so comparing it with the shipped stock server
would credit the extension with a TCP fix. The "stock" baseline of the
round-trip workloads therefore runs this class: stock behaviour, no stall.
"""

from __future__ import annotations

import asyncio

from jupyter_server.services.kernels.connection.channels import (
    ZMQChannelsWebsocketConnection,
)


class NoDelayConnection(ZMQChannelsWebsocketConnection):
    """ZMQChannelsWebsocketConnection with ``TCP_NODELAY`` on its websocket."""

    def connect(self) -> asyncio.Future[None] | None:  # type: ignore[override]
        # (jupyter_server declares it async in the base class, sync here)
        self.websocket_handler.set_nodelay(True)
        return super().connect()
