"""What a failed connection is called, from the exceptions requests and urllib3 raise."""

from __future__ import annotations

import errno
import http.client
import socket

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NameResolutionError, ProtocolError, ProxyError

from gate.image.tls import connection_failure


def _as_requests_raises(reason: BaseException) -> requests.ConnectionError:
    """`reason` as requests hands it on: a ConnectionError of urllib3's MaxRetryError."""
    return requests.ConnectionError(MaxRetryError(None, "/v2/", reason))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("reason", "said"),
    [
        (ProxyError("Unable to connect to proxy", OSError("Tunnel connection failed")), "the proxy"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "connection refused"),
        (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "connection reset"),
        (ConnectionAbortedError(errno.ECONNABORTED, "aborted"), "connection aborted"),
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), "it closed the connection while the request was sent"),
        (
            NameResolutionError("registry.invalid", None, socket.gaierror(-2, "Name or service not known")),  # type: ignore[arg-type]
            "the host name does not resolve",
        ),
        (socket.gaierror(-2, "Name or service not known"), "the host name does not resolve"),
        (TimeoutError("timed out"), "timed out"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "network unreachable"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "host unreachable"),
        (OSError(errno.EACCES, "Permission denied"), "the connection failed"),
    ],
)
def test_a_failed_connection_is_named_by_what_failed_under_it(reason: BaseException, said: str) -> None:
    assert connection_failure(_as_requests_raises(reason)).startswith(said)


def test_an_answer_cut_short_is_told_from_a_reset_connection() -> None:
    # urllib3 wraps what http.client raised in a ProtocolError, as the args of it.
    cut = ProtocolError("Connection broken", http.client.IncompleteRead(b"{", 10))
    closed = ProtocolError("Connection aborted.", http.client.RemoteDisconnected("closed"))
    assert connection_failure(requests.exceptions.ChunkedEncodingError(cut)) == (
        "it closed the connection before the whole answer was received"
    )
    assert (
        connection_failure(requests.ConnectionError(closed)) == "it closed the connection without answering"
    )


def test_the_cause_of_a_failure_is_looked_at_too() -> None:
    try:
        try:
            raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
        except OSError as exc:
            raise requests.ConnectionError("https://user:token@registry.example/v2/") from exc
    except requests.ConnectionError as failed:
        said = connection_failure(failed)
    assert said == "connection refused"
    assert "token" not in said
