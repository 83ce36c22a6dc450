"""Debian's nginx on 127.0.0.1, as an ordinary process of the test (``nginx -p DIR -c FILE -g
'daemon off;'``), serving a server block as it is shipped, with its ports, certificate and
upstreams swapped for the test's own."""

from __future__ import annotations

import datetime
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services.common import free_port, missing_service

NGINX = "/usr/sbin/nginx"


@dataclass(frozen=True)
class Nginx:
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (cryptography, there through asyncssh)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365 * 30))
        .sign(key, hashes.SHA256())
    )
    cert, private = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert, private


@contextmanager
def nginx(server_block: str, folder: Path, replace: dict[str, str]) -> Iterator[Nginx]:
    """Serve ``server_block`` (a file of deploy/), each key of ``replace`` swapped for its
    value and its TLS port, certificate and key for the test's own."""
    if not Path(NGINX).exists():
        missing_service("nginx (Debian package nginx-light) not found")
    port = free_port()
    cert, key = self_signed(folder)
    text = server_block
    for old, new in {
        "listen 443 ssl": f"listen 127.0.0.1:{port} ssl",
        "/etc/ssl/certs/opsweek.example.org.pem": str(cert),
        "/etc/ssl/private/opsweek.example.org.key": str(key),
        **replace,
    }.items():
        assert old in text, f"{old!r} is not in the server block"
        text = text.replace(old, new)
    (folder / "logs").mkdir(exist_ok=True)
    (folder / "site.conf").write_text(text)
    main = folder / "nginx.conf"
    main.write_text(
        "worker_processes 1;\nuser root;\npid nginx.pid;\nerror_log logs/error.log;\n"
        "events { worker_connections 256; }\n"
        "http {\n  access_log logs/access.log;\n"
        "  client_body_temp_path tmp/body;\n  proxy_temp_path tmp/proxy;\n"
        "  fastcgi_temp_path tmp/fastcgi;\n  uwsgi_temp_path tmp/uwsgi;\n"
        "  scgi_temp_path tmp/scgi;\n  include site.conf;\n}\n"
    )
    (folder / "tmp").mkdir(exist_ok=True)
    checked = subprocess.run(
        [NGINX, "-t", "-p", str(folder), "-c", str(main)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [NGINX, "-p", str(folder), "-c", str(main), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "nginx did not start"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield Nginx(port, folder)
    finally:
        process.terminate()
        process.wait(timeout=10)
