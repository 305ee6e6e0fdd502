"""The harness's own file store for a run: a system that takes a citizen's files by link (a URL it fetches) gets
them from here. Each file sits under an unguessable path on a loopback port (or the address the target gives), is
served as it was put, and goes away with the store."""

from __future__ import annotations

import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FileStore:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, public_url: str | None = None) -> None:
        self._files: dict[str, tuple[str, bytes]] = {}
        files = self._files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                found = files.get(self.path.split("?", 1)[0])
                if found is None:
                    self.send_error(404)
                    return
                name, content = found
                self.send_response(200)
                self.send_header("content-type", "application/octet-stream")
                self.send_header("content-length", str(len(content)))
                self.send_header("content-disposition", f"attachment; filename*=UTF-8''{_quoted(name)}")
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args: Any) -> None:  # the run's output is the report, not an access log
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        shown = f"[{host}]" if ":" in host else host
        self.url = (public_url or f"http://{shown}:{self._server.server_address[1]}").rstrip("/")
        self._thread = threading.Thread(target=self._server.serve_forever, name="p111-file-store", daemon=True)
        self._thread.start()

    def put(self, name: str, content: bytes) -> str:
        """The URL the system fetches `content` from."""
        path = f"/p111-files/{secrets.token_urlsafe(16)}"
        self._files[path] = (name, content)
        return self.url + path

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _quoted(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
