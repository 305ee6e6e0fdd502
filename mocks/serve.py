"""Runs the counterparts (and the reference system) on real loopback ports with uvicorn, from the same code."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where it serves: the embedded default, which only wires these modules, never needs it
    import uvicorn


@dataclass
class ServedApp:
    name: str
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


def serve_in_thread(
    name: str, app: Any, host: str = "127.0.0.1", port: int = 0, *, timeout: float = 10.0, **options: Any
) -> ServedApp:
    """Starts `app` on host:port (0 = any free port) in a daemon thread and waits until it listens. `options` go to
    uvicorn.Config (ssl_certfile and ssl_keyfile serve https://)."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, **{"log_level": "warning", "lifespan": "off", **options})
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"p111-{name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{name} could not listen on {host}:{port}")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    scheme = "https" if options.get("ssl_certfile") else "http"
    return ServedApp(name, f"{scheme}://{shown_host}:{bound}", server, thread)


def free_port() -> int:
    """A loopback port nobody listens on now, for a counterpart or a system started next."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

