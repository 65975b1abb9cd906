"""A real HTTP server on loopback, serving a folder, for the tests of remote repositories."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files and folder listings without logging every request."""

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory: str, handler: type[http.server.SimpleHTTPRequestHandler] = QuietHandler) -> Iterator[str]:
    """Serve ``directory`` with ``handler`` on a free loopback port; yields ``host:port``."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=directory))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
