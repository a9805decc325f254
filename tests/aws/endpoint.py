"""A local AWS endpoint for the handoff tests: moto in server mode as its own process, and a
recording proxy in front of it that can throttle or hold calls.

The proxy is how the tests see what the station sends (each request's operation and body, on
the wire) independently of what moto accepts, and how faults are injected: a 429
ThrottlingException on every Nth call, or a call forwarded to moto whose answer is held back
(the cloud did it, the station has not heard) while the test kills the station.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

#: AWS IoT's REST routes, as (method, path pattern) -> operation name (the ones the station uses).
ROUTES = (
    ("GET", r"^/registrationcode$", "GetRegistrationCode"),
    ("POST", r"^/cacertificate$", "RegisterCACertificate"),
    ("GET", r"^/cacertificates$", "ListCACertificates"),
    ("GET", r"^/cacertificate/[^/]+$", "DescribeCACertificate"),
    ("POST", r"^/certificate/register$", "RegisterCertificate"),
    ("POST", r"^/certificate/register-no-ca$", "RegisterCertificateWithoutCA"),
    ("GET", r"^/certificates/[^/]+$", "DescribeCertificate"),
    ("PUT", r"^/certificates/[^/]+$", "UpdateCertificate"),
    ("GET", r"^/certificates-by-ca/[^/]+$", "ListCertificatesByCA"),
    ("GET", r"^/certificates$", "ListCertificates"),
    ("POST", r"^/things/[^/]+$", "CreateThing"),
    ("PUT", r"^/things/[^/]+/principals$", "AttachThingPrincipal"),
    ("GET", r"^/things/[^/]+/principals$", "ListThingPrincipals"),
    ("PUT", r"^/target-policies/[^/]+$", "AttachPolicy"),
)


def operation(method: str, path: str) -> str:
    for want, pattern, name in ROUTES:
        if method == want and re.match(pattern, path):
            return name
    return f"{method} {path}"


@dataclass
class Call:
    at: float
    operation: str
    path: str
    query: dict[str, str]
    body: bytes
    status: int = 0
    throttled: bool = False
    response: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body or b"{}")

    def answer(self) -> Any:
        return json.loads(self.response or b"{}")


@dataclass
class Faults:
    """What the proxy does to calls: throttle every Nth (counting every call), and hold the
    answer to the Nth call of one operation until ``release`` is set."""

    throttle_every: int = 0
    hold_operation: str | None = None
    hold_nth: int = 0
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class Proxy:
    """A recording, fault-injecting HTTP proxy to moto on 127.0.0.1."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.calls: list[Call] = []
        self.faults = Faults()
        self._lock = threading.Lock()
        self._count = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.faults.release.set()
        self._server.shutdown()
        self._server.server_close()

    def of(self, name: str, *, ok: bool = True) -> list[Call]:
        """The calls of one operation (only those moto answered with 2xx, by default)."""
        with self._lock:
            return [
                c for c in self.calls if c.operation == name and (not ok or 200 <= c.status < 300)
            ]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urlsplit(self.path)
                query = dict(parse_qsl(url.query))
                call = Call(
                    time.monotonic(), operation(self.command, url.path), url.path, query, body
                )
                with proxy._lock:
                    proxy.calls.append(call)
                    proxy._count += 1
                    n = proxy._count
                    nth_of_op = sum(1 for c in proxy.calls if c.operation == call.operation)
                faults = proxy.faults
                if faults.throttle_every and n % faults.throttle_every == 0:
                    call.status, call.throttled = 429, True
                    self._reply(
                        429,
                        b'{"message":"Rate exceeded"}',
                        [("x-amzn-ErrorType", "ThrottlingException")],
                    )
                    return
                status, headers, data = proxy._forward(self.command, self.path, self.headers, body)
                call.status, call.response = status, data
                if call.operation == faults.hold_operation and nth_of_op == faults.hold_nth:
                    faults.held.set()
                    faults.release.wait(60)
                self._reply(status, data, headers)

            def _reply(self, status: int, data: bytes, headers: list[tuple[str, str]]) -> None:
                try:
                    self.send_response(status)
                    for k, v in headers:
                        if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the station was killed while its call was held

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        return Handler

    def _forward(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=30
        )
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
            conn.request(method, path, body=body, headers=sent)
            resp = conn.getresponse()
            return resp.status, resp.getheaders(), resp.read()
        finally:
            conn.close()


#: moto's server, with AWS IoT certificate ids as AWS computes them (the SHA-256 of the DER;
#: moto's default hashes the PEM). That setting has no HTTP switch, so it is set at start.
LAUNCH = """
import sys
from moto.core.config import default_user_config
from moto.server import main
default_user_config["iot"] = {"use_valid_cert": True}
sys.exit(main(sys.argv[1:]))
"""


class MotoServer:
    """moto in server mode, its own process on 127.0.0.1 (an ephemeral port)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, "-H", "127.0.0.1", "-p", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        for line in self.process.stderr:  # werkzeug says where it listens, once it does
            found = re.search(r"Running on (http://127\.0\.0\.1:\d+)", line)
            if found:
                self.url = found.group(1)
                break
        else:
            raise RuntimeError(f"moto server exited ({self.process.wait()}) before listening")
        threading.Thread(target=self.process.stderr.read, daemon=True).start()  # keep draining

    def post(self, path: str, payload: Any = None) -> None:
        url = urlsplit(self.url)
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
        try:
            conn.request(
                "POST",
                path,
                body=json.dumps(payload or {}),
                headers={"Content-Type": "application/json"},
            )
            resp = conn.getresponse()
            resp.read()
            assert 200 <= resp.status < 300, (path, resp.status)
        finally:
            conn.close()

    def reset(self) -> None:
        """Forget every account's resources."""
        self.post("/moto-api/reset")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
