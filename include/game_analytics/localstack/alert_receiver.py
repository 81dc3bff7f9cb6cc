"""The local stack's webhook receiver: the inbox of the pipeline's notifications on a laptop.

Production sends alerts to Slack or e-mail; locally (``make run``, the tests) the notifier's webhook channel POSTs
them here, so what a developer or a test sees is a real HTTP delivery, not a log line of the sender. Each POSTed
JSON body is appended as one line to the inbox file (the receiver's log is the inbox) and answered 200; a body that
is not JSON is answered 400 and not kept. ``GET /`` answers 200 with the number of notifications received (the
launcher's health check). Nothing is de-duplicated here: the inbox shows exactly what arrived.

    python -m game_analytics.localstack.alert_receiver --port 9097 --inbox .state/logs/alert-inbox.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_BODY_BYTES = 1 << 20


class Inbox:
    """An append-only JSON-lines file, one line per notification, written under a lock."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
        self._lock = threading.Lock()

    def append(self, body: object) -> None:
        line = json.dumps(body, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as inbox:
            inbox.write(line)

    def count(self) -> int:
        with self._lock:
            return sum(1 for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip())


def _handler(inbox: Inbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
            self._answer(200, {"received": inbox.count(), "inbox": str(inbox.path)})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._answer(413, {"error": f"body over {MAX_BODY_BYTES} bytes"})
                return
            try:
                body = json.loads(self.rfile.read(length) or b"null")
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                self._answer(400, {"error": f"not JSON: {exc}"})
                return
            inbox.append(body)
            self.log_message("notification %s", body.get("notification_id") if isinstance(body, dict) else "?")
            self._answer(200, {"ok": True})

    return Handler


def make_server(host: str, port: int, inbox_path: Path) -> ThreadingHTTPServer:
    """A receiver bound to ``host:port`` (port 0: any free one, see ``server.server_address``); not started."""
    server = ThreadingHTTPServer((host, port), _handler(Inbox(inbox_path)))
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--inbox", type=Path, required=True, help="the JSON-lines file every notification goes to")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, args.inbox)
    print(f"alert receiver on {args.host}:{server.server_address[1]}, inbox {args.inbox}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
