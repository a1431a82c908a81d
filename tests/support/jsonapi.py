"""A real HTTP server on 127.0.0.1 for JSON APIs: records every request, answers through a callback.

Stands in for the APIs no test can run here (Kibana's import API, the Elasticsearch security
API of the bundled cluster). ``statuses`` are played first (e.g. 503, 503: "not ready yet"),
then ``answer(request)`` gives ``(status, payload)``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


Answer = Callable[[Request], tuple[int, Any]]


class JsonApiServer:
    def __init__(self, answer: Answer | None = None, statuses: list[int] | None = None):
        self.requests: list[Request] = []
        self.statuses = list(statuses or [])
        self.answer = answer or (lambda request: (200, {}))
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path, dict(self.headers), self.rfile.read(length) if length else b"")
                outer.requests.append(request)
                status, payload = (outer.statuses.pop(0), {"message": "not ready"}) if outer.statuses else outer.answer(request)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "JsonApiServer":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
