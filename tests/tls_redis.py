"""A redis-server of a test's own that speaks only TLS and knows an ACL user with a password.

Started only where the installed redis-server was built with TLS (`tls_supported`);
tests that need it skip elsewhere and say why. Certificates come from the
development PKI code (`mesh.dev_tls`), made fresh in the test's directory.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import redis

from mesh.dev_tls import DevPki, ensure_dev_pki
from mesh.redis_server import find_redis_server, free_port


def tls_supported() -> bool:
    """Whether the installed redis-server accepts --tls-port (built with BUILD_TLS)."""
    try:
        binary = find_redis_server()
    except FileNotFoundError:
        return False
    # Options are read in order and the first unknown one is named: a build without TLS
    # stops at tls-port, one with TLS at the made-up option after it (and starts nothing).
    probe = subprocess.run(
        [binary, "--tls-port", "0", "--jobmesh-probe", "x"],
        capture_output=True, text=True, timeout=10, check=False,
    )
    return "jobmesh-probe" in probe.stdout + probe.stderr


@dataclass
class TlsRedis:
    """redis-server on a TLS-only port that requires client certificates and an ACL user."""

    directory: Path
    user: str
    password: str
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    @property
    def pki(self) -> DevPki:
        return DevPki(self.directory / "pki")

    def url(self, *, with_files: bool = True) -> str:
        """rediss:// with the ACL user and password, and (by default) the CA and client cert as query."""
        base = f"rediss://{self.user}:{self.password}@127.0.0.1:{self.port}/0"
        if not with_files:
            return base
        pki = self.pki
        files = {"ssl_ca_certs": pki.ca, "ssl_certfile": pki.client_cert, "ssl_keyfile": pki.client_key}
        query = urlencode(files)
        return f"{base}?{query}"

    def start(self) -> TlsRedis:
        ensure_dev_pki(self.directory / "pki")
        self.port = free_port()
        data = self.directory / "data"
        data.mkdir(exist_ok=True)
        acl = self.directory / "users.acl"
        # the default user is off: every connection must name the ACL user and its password
        acl.write_text(f"user default off\nuser {self.user} on >{self.password} ~* &* +@all\n")
        self.proc = subprocess.Popen(
            [
                find_redis_server(), "--port", "0", "--tls-port", str(self.port), "--bind", "127.0.0.1",
                "--tls-cert-file", str(self.pki.server_cert), "--tls-key-file", str(self.pki.server_key),
                "--tls-ca-cert-file", str(self.pki.ca), "--tls-auth-clients", "yes",
                "--aclfile", str(acl), "--dir", str(data), "--save", "", "--appendonly", "no",
                "--logfile", str(data / "redis.log"),
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}; see {data}/redis.log")
            try:
                if redis.Redis.from_url(self.url(), socket_connect_timeout=0.5).ping():
                    return self
            except redis.RedisError:
                time.sleep(0.05)
        raise TimeoutError(f"TLS redis-server on {self.port} did not answer")

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
