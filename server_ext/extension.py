"""Wiring the extension into a running jupyter_server."""

from __future__ import annotations

from typing import Any

from tornado.ioloop import IOLoop

from . import agent_link
from .config import Cascade
from .controls import control_handlers
from .events import event_handlers
from .handlers import handlers
from .openapi import openapi_handlers
from .pages import page_handlers
from .proxy import CascadeConnectionMixin, compose_connection_class
from .runs import run_handlers
from .service import CONTENTS_SCHEMA, KERNEL_ACTIONS_SCHEMA, CascadeService


def _install_connection_class(serverapp: Any) -> None:
    """Compose our mixin onto whatever connection class is configured (DESIGN §5)."""
    settings = serverapp.web_app.settings
    base = settings.get("kernel_websocket_connection_class") or (
        serverapp.kernel_websocket_connection_class
    )
    composed = compose_connection_class(base)
    settings["kernel_websocket_connection_class"] = composed
    serverapp.kernel_websocket_connection_class = composed


def _check_connection_class(serverapp: Any) -> None:
    """Extensions loading after us may replace the class: put ours back on top."""
    current = serverapp.web_app.settings.get("kernel_websocket_connection_class")
    if current is None or not issubclass(current, CascadeConnectionMixin):
        serverapp.log.warning(
            "cascade: kernel_websocket_connection_class was replaced by %r; composing onto it",
            current,
        )
        _install_connection_class(serverapp)


def load(serverapp: Any) -> None:
    config = Cascade(parent=serverapp)
    service = CascadeService(serverapp, config, serverapp.log)
    web_app = serverapp.web_app
    web_app.settings["cascade"] = service
    _install_connection_class(serverapp)
    web_app.add_handlers(".*$", handlers(web_app.settings["base_url"]))
    web_app.add_handlers(".*$", control_handlers(web_app.settings["base_url"]))
    web_app.add_handlers(".*$", event_handlers(web_app.settings["base_url"]))
    web_app.add_handlers(".*$", page_handlers(web_app.settings["base_url"]))
    web_app.add_handlers(".*$", run_handlers(web_app.settings["base_url"]))
    web_app.add_handlers(".*$", openapi_handlers(web_app.settings["base_url"]))
    serverapp.contents_manager.register_pre_save_hook(service.pre_save_hook)
    serverapp.contents_manager.register_post_save_hook(service.post_save_hook)
    serverapp.event_logger.add_listener(
        schema_id=KERNEL_ACTIONS_SCHEMA, listener=service.on_kernel_action
    )
    serverapp.event_logger.add_listener(
        schema_id=CONTENTS_SCHEMA, listener=service.on_contents_action
    )
    IOLoop.current().add_callback(_check_connection_class, serverapp)
    # packed now, while the server starts: the first kernel's agent would pack it
    # inside the event loop (~15 ms at a kernel's start)
    IOLoop.current().add_callback(agent_link.bootstrap_source)
    IOLoop.current().add_callback(service.freezer.after_start)
    serverapp.log.info(
        "cascade: reactive execution on (mode=%s, direction=%s)", config.mode, config.direction
    )
