"""Which CAs the gate's HTTPS connections trust, and what failed when a TLS connection, or any
connection, did, in words.

Every connection trusts the public CAs of requests' bundle, or in their place the PEM file
REQUESTS_CA_BUNDLE names (requests reads it). In a GitLab job, `trust_also` adds the runner's CA
file (CI_SERVER_TLS_CA_FILE, which the command line picks) for the GitLab API and the registries,
whose certificates a GitLab instance's own CA may sign: the session then trusts the public CAs
and that file, and REQUESTS_CA_BUNDLE, when set, is added beside them rather than replacing them
(requests hands it to urllib3, which loads it into the session's SSL context). The hints of
`RunWording.untrusted_certificate` say so to the user."""

from __future__ import annotations

import errno
import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError, ProxyError


class _ContextAdapter(HTTPAdapter):
    """An HTTPS adapter whose connections verify with a given SSL context."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


def trust_also(session: requests.Session, ca_file: str | None) -> None:
    """Make `session` trust the certificates of `ca_file` besides the usual ones (requests'
    bundle, and REQUESTS_CA_BUNDLE when set, then beside it rather than in its place), as git and
    the runner's own uploads do with the CA file a GitLab runner gives its jobs. Nothing changes when there is none, or when it cannot be
    read: the connection then fails as before, and says so."""
    if not ca_file:
        return
    try:
        context = ssl.create_default_context(cafile=requests.utils.DEFAULT_CA_BUNDLE_PATH)
        context.load_verify_locations(cafile=ca_file)
    except (OSError, ValueError):  # ssl.SSLError is an OSError
        return
    session.mount("https://", _ContextAdapter(context))


@dataclass(frozen=True)
class TlsFailure:
    """Why a TLS connection failed, in words, and what to check."""

    what: str
    """`its certificate is not trusted`, `it did not answer in TLS`, ...: after `TLS error: `."""
    hint: str
    """What to check, for the error's hint."""


SERVES_TLS_HINT = (
    "check that the host and port serve HTTPS (only registries on this machine are read over HTTP)"
)
# OpenSSL's X509_V_ERR_* codes (include/openssl/x509_vfy.h), as SSLCertVerificationError.verify_code.
_NOT_YET_VALID, _EXPIRED = 9, 10
_UNTRUSTED = frozenset({2, 18, 19, 20, 21})
"""No issuer certificate, self-signed (alone or in the chain), no local issuer, cannot verify the leaf."""
_NAME_MISMATCH = frozenset({62, 64})
"""The certificate is for other host names, or other IP addresses."""
# ssl.SSLError.reason when the other side did not speak TLS at all (a plain HTTP server answers the
# ClientHello with text, which OpenSSL reads as a record of an unknown version).
_NOT_TLS = frozenset(
    {"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE"}
)
_NO_COMMON_VERSION = frozenset(
    {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE", "VERSION_TOO_LOW"}
)


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and every exception under it (args, `reason`, causes), outermost first."""
    seen: set[int] = set()
    found: list[BaseException] = []
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        inner = [*current.args, getattr(current, "reason", None), current.__cause__, current.__context__]
        todo.extend(item for item in inner if isinstance(item, BaseException))
    return found


def _ssl_error(exc: BaseException) -> ssl.SSLError | None:
    """The `ssl` exception under requests' and urllib3's wrappers (args, `reason`, causes)."""
    return next((item for item in _chain(exc) if isinstance(item, ssl.SSLError)), None)


def _is_address(host: str) -> bool:
    """Whether `host` is an IP address (an IPv6 one with or without its brackets), not a name."""
    try:
        ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return True


def tls_failure(exc: BaseException, host: str, untrusted: str) -> TlsFailure:
    """What failed in the TLS connection to `host`: its certificate (untrusted, for other names,
    expired) or the handshake itself (no TLS spoken, the connection closed, no common version).
    `untrusted` is the hint for a certificate not trusted: how the run's user has the gate trust a
    CA of their own (`RunWording.untrusted_certificate`)."""
    error = _ssl_error(exc)
    if isinstance(error, ssl.SSLCertVerificationError):
        code = error.verify_code
        if code in _UNTRUSTED:
            return TlsFailure("its certificate is not trusted", untrusted)
        if code in _NAME_MISMATCH:
            if _is_address(host):
                # Connected by address, so checked against the certificate's IP addresses: most
                # certificates name hosts only, and one for the host at that address does not do.
                return TlsFailure(
                    f"its certificate is not for the IP address {host}",
                    "check the address, or connect by a host name the certificate is for",
                )
            return TlsFailure(
                f"its certificate is not for {host}",
                "check the name: the certificate is for other host names",
            )
        if code in (_EXPIRED, _NOT_YET_VALID):
            when = "has expired" if code == _EXPIRED else "is not valid yet"
            return TlsFailure(
                f"its certificate {when}", "check this machine's clock, or ask for a renewed one"
            )
        # OpenSSL's own fixed text for the code (X509_verify_cert_error_string).
        return TlsFailure(f"its certificate was refused: {error.verify_message}", untrusted)
    if isinstance(error, ssl.SSLEOFError):
        return TlsFailure("it closed the connection during the TLS handshake", SERVES_TLS_HINT)
    if error is not None and error.reason in _NOT_TLS:
        return TlsFailure("it did not answer in TLS", SERVES_TLS_HINT)
    if error is not None and error.reason in _NO_COMMON_VERSION:
        return TlsFailure(
            "no TLS version both sides support", "it may only speak a TLS version older than 1.2"
        )
    if error is not None and error.reason:
        reason = error.reason.lower().replace("_", " ")
        return TlsFailure(f"the TLS handshake failed ({reason})", SERVES_TLS_HINT)
    return TlsFailure("the TLS handshake failed", SERVES_TLS_HINT)


# Most telling first: http.client's RemoteDisconnected is a ConnectionResetError too, and an
# answer cut short is an IncompleteRead (urllib3's, and its InvalidChunkLength, are http.client's).
_CONNECTION_WORDS: tuple[tuple[type[BaseException], str], ...] = (
    (http.client.RemoteDisconnected, "it closed the connection without answering"),
    (http.client.IncompleteRead, "it closed the connection before the whole answer was received"),
    (ProxyError, "the proxy could not be reached or refused the connection"),
    (ConnectionRefusedError, "connection refused"),
    (ConnectionResetError, "connection reset"),
    (ConnectionAbortedError, "connection aborted"),
    (BrokenPipeError, "it closed the connection while the request was sent"),
    (NameResolutionError, "the host name does not resolve"),
    (socket.gaierror, "the host name does not resolve"),
    (TimeoutError, "timed out"),
)
_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
}


def connection_failure(exc: BaseException) -> str:
    """What happened to a connection that failed (requests' ConnectionError or
    ChunkedEncodingError), in words: `connection refused`, `connection reset`, `it closed the
    connection before the whole answer was received`. Fixed words only: the exceptions' own text
    may quote the URL or a header, and with them a token."""
    chain = _chain(exc)
    for kind, words in _CONNECTION_WORDS:
        if any(isinstance(item, kind) for item in chain):
            return words
    for item in chain:
        if isinstance(item, OSError) and item.errno in _ERRNO_WORDS:
            return _ERRNO_WORDS[item.errno]
    return "the connection failed"
