"""A throwaway PostgreSQL server from Debian's packages, for the factory store's tests.

initdb refuses to run as root (and CI runs as root): then the cluster belongs to ``nobody``
and the server runs as ``nobody``. It listens on a Unix socket in its own private directory
only (no TCP port to collide with anything), trusts local connections, and skips fsync (the
tests check what the store does, not the disk's durability).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

SUPERUSER = "postgres"


def find_bin(name: str) -> str:
    """A PostgreSQL server program: Debian keeps them in /usr/lib/postgresql/N/bin."""
    versions = Path("/usr/lib/postgresql").glob(f"*/bin/{name}")
    found = sorted(versions, key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if found:
        return str(found[-1])
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise RuntimeError(
        f"no PostgreSQL {name}: `make test` installs the server (apt-get install postgresql)"
    )


class PgServer:
    """One cluster in a temp folder; :meth:`start` and :meth:`stop` may repeat."""

    def __init__(self, *, durable: bool = False, tls: tuple[bytes, bytes] | None = None) -> None:
        self.durable = durable  # fsync and synchronous commits on (for measurements)
        self.tls = tls  # (certificate PEM, key PEM): TLS on a 127.0.0.1 port as well
        self.port = 5432
        self.root = Path(tempfile.mkdtemp(prefix="station-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.sockets.mkdir()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "nobody"
            owner = pwd.getpwnam(self.user)
            for path in (self.root, self.sockets):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self.process: subprocess.Popen[bytes] | None = None
        self._network: list[str] = ["-c", "listen_addresses="]
        if tls is not None:
            self._network = self._tls_files(*tls)
        self._run(
            [find_bin("initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
             "--no-sync", "-E", "UTF8", "--locale=C"]
        )  # fmt: skip

    def _run(self, argv: list[str]) -> None:
        subprocess.run(argv, check=True, capture_output=True, user=self.user, cwd=self.root)

    def url(self, dbname: str = "postgres") -> str:
        if self.tls is not None:  # over TCP: the Unix socket is not listened on
            return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}?sslmode=disable"
        return f"postgresql:///{dbname}?host={self.sockets}&user={SUPERUSER}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [find_bin("postgres"), "-D", str(self.data), "-k", str(self.sockets),
             "-c", "max_connections=50", *self._network, *self._fast],
            user=self.user, cwd=self.root,
            stdout=subprocess.DEVNULL, stderr=(self.root / "server.log").open("ab"),
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.root / "server.log").read_text(errors="replace")
                    raise RuntimeError(f"PostgreSQL did not start:\n{log}") from None
                time.sleep(0.05)  # polling a server that is starting, with a deadline

    def _tls_files(self, cert: bytes, key: bytes) -> list[str]:
        """Write the server's certificate and key (0600, the server's user); the options that
        turn TLS on, on a free 127.0.0.1 port."""
        paths = {"server.crt": cert, "server.key": key}
        for name, data in paths.items():
            path = self.root / name
            path.write_bytes(data)
            path.chmod(0o600)
            if self.user is not None:
                owner = pwd.getpwnam(self.user)
                os.chown(path, owner.pw_uid, owner.pw_gid)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        return ["-c", "listen_addresses=127.0.0.1", "-p", str(self.port), "-c", "ssl=on",
                "-c", f"ssl_cert_file={self.root / 'server.crt'}",
                "-c", f"ssl_key_file={self.root / 'server.key'}"]  # fmt: skip

    @property
    def _fast(self) -> list[str]:
        if self.durable:
            return []
        return ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]

    def stop(self) -> None:
        """Stop the server at once (fast shutdown: open connections are cut)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGINT)  # SIGTERM would wait for every client
            self.process.wait(timeout=30)
            self.process = None

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url(name)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
