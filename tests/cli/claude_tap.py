"""A recording pass-through HTTP proxy placed between the Claude Code CLI and the gateway.

The gateway's access log does not show request headers, query strings or `GET /v1/models`; the tap
records exactly what the CLI sent (method, path with query, headers, body) and what the gateway
answered (status, headers, body), then relays the answer unchanged. Responses are relayed chunk by
chunk as they arrive, so SSE streams stay streams; a dropped gateway connection drops the client's.

    with TapProxy(gw.base_url) as tap:
        runner.run(tap.base_url, ...)
        tap.exchanges  # [{"method","path","headers","body","status","response_headers","response_body"}]
"""
from __future__ import annotations

import http.client
import http.server
import json
import socketserver
import threading
import urllib.parse

_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection",
        "content-length", "host"}


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class TapProxy:
    def __init__(self, target_base_url: str):
        parsed = urllib.parse.urlparse(target_base_url)
        self.target_host = parsed.hostname
        self.target_port = parsed.port
        self.exchanges: list[dict] = []
        self._lock = threading.Lock()
        tap = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                entry = {"method": self.command, "path": self.path, "headers": headers,
                         "body": _decode(raw), "status": None, "response_headers": {}, "response_body": ""}
                with tap._lock:
                    tap.exchanges.append(entry)
                conn = http.client.HTTPConnection(tap.target_host, tap.target_port, timeout=120)
                try:
                    fwd = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                    fwd["Host"] = f"{tap.target_host}:{tap.target_port}"
                    if self.command not in ("GET", "HEAD") or raw:
                        fwd["Content-Length"] = str(len(raw))
                    conn.request(self.command, self.path, body=raw or None, headers=fwd)
                    resp = conn.getresponse()
                    entry["status"] = resp.status
                    entry["response_headers"] = {k.lower(): v for k, v in resp.getheaders()}
                    self.send_response(resp.status)
                    for k, v in resp.getheaders():
                        if k.lower() not in _HOP:
                            self.send_header(k, v)
                    if self.command == "HEAD":
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_header("Transfer-Encoding", "chunked")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    body = bytearray()
                    try:
                        while True:
                            piece = resp.read1(65536)
                            if not piece:
                                break
                            body.extend(piece)
                            entry["response_body"] = _decode(bytes(body))
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                            self.wfile.flush()
                    except http.client.IncompleteRead:
                        # the gateway dropped the connection: drop the client's too (no terminating chunk)
                        entry["response_cut"] = True
                        return
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (ConnectionError, OSError, http.client.HTTPException) as exc:
                    # either side went away mid-exchange: record it; the client's connection is closed below
                    entry["error"] = repr(exc)
                finally:
                    conn.close()
                    self.close_connection = True

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _handle

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[dict]:
        with self._lock:
            return [e for e in self.exchanges if e["path"].split("?")[0] == path_prefix
                    and (method is None or e["method"] == method)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "TapProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _decode(raw: bytes):
    if not raw:
        return ""
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text
