"""A private CA and a certificate for 127.0.0.1 signed by it, made with `openssl` for one session:
a GitLab instance whose certificate no public CA signed, as self-managed instances often have.

`private_ca` gives the CA's certificate (what a GitLab runner hands its jobs in
CI_SERVER_TLS_CA_FILE) and a server-side SSL context for the fakes; `other_cas` two more, each
with its own. Nothing is kept in the repository: the keys live in the session's temporary
directory.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.fixtures import unavailable

REGISTRY_NAME = "registry.gitlab.test"
"""A name the certificate is also for, that is not this machine's (a registry named 127.0.0.1 is
read over plain HTTP): a test maps it to 127.0.0.1 for the process's own lookups."""

_CA_CONFIG = """[req]
distinguished_name = dn
x509_extensions = ca
prompt = no
[dn]
CN = container-gate test CA
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""
# Python 3.13's default context checks X.509 strictly (VERIFY_X509_STRICT): the key identifiers
# and key usages are needed, not only the subject alternative name.
_SERVER_CONFIG = f"""[req]
distinguished_name = dn
prompt = no
[dn]
CN = 127.0.0.1
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost, DNS:{REGISTRY_NAME}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


@dataclass(frozen=True)
class PrivateCa:
    ca_file: Path
    """The CA's certificate (PEM)."""
    server_context: ssl.SSLContext
    """A server-side context presenting a certificate for 127.0.0.1 signed by the CA."""
    server_files: tuple[Path, Path]
    """That certificate (PEM) and its key, for a server that reads them from files."""


def registry_at_default_port(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make `REGISTRY_NAME` at port 443, HTTPS's default, reach 127.0.0.1 at the port the returned
    list's first item holds (the test appends it once its registry runs, and may change it), as a
    registry at its default port is reached by a reference written with or without `:443`. Other
    names and ports resolve as before; NO_PROXY keeps every request direct."""
    lookup = socket.getaddrinfo
    port: list[int] = []

    def resolve(host: Any, at: Any, *args: Any, **kwargs: Any) -> Any:
        if host == REGISTRY_NAME and at == 443:
            return lookup("127.0.0.1", port[0], *args, **kwargs)
        return lookup(host, at, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setenv("NO_PROXY", "*")
    return port


def _openssl(openssl: str, *args: str, cwd: Path) -> None:
    subprocess.run([openssl, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCa:
    return _make_ca(tmp_path_factory.mktemp("private-ca"))


@pytest.fixture(scope="session")
def other_cas(tmp_path_factory: pytest.TempPathFactory) -> tuple[PrivateCa, PrivateCa]:
    """Two more private CAs, unrelated to `private_ca` and to each other: for which of several CA
    files a connection trusts."""
    return _make_ca(tmp_path_factory.mktemp("other-ca")), _make_ca(tmp_path_factory.mktemp("third-ca"))


def _make_ca(where: Path) -> PrivateCa:
    openssl = shutil.which("openssl")
    if openssl is None:
        unavailable("no openssl on PATH, to make a private CA")
    (where / "ca.cnf").write_text(_CA_CONFIG, encoding="utf-8")
    (where / "server.cnf").write_text(_SERVER_CONFIG, encoding="utf-8")
    key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl(openssl, "req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-config", "ca.cnf", cwd=where)  # fmt: skip
    _openssl(openssl, "req", *key, "-keyout", "server.key", "-out", "server.csr", "-config", "server.cnf",
             cwd=where)  # fmt: skip
    _openssl(openssl, "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.cnf",
             "-extensions", "server", cwd=where)  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(where / "server.pem", where / "server.key")
    return PrivateCa(where / "ca.pem", context, (where / "server.pem", where / "server.key"))
