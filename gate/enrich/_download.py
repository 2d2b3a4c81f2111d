"""One file over HTTP(S) into a temporary file: retries with backoff, a timeout, and checks that what
arrived is whole and of the expected kind. Used only by `data fetch` (fetch.py).

Retried: no answer (connection refused, reset, timeout), a body shorter than its Content-Length,
429, 408 and any 5xx; the wait doubles from 1 s (at most 30 s), or is what `Retry-After` asks in
seconds when it asks for at most `MAX_RETRY_AFTER` (a longer wait ends the retries at once: a CI
job should not hang on a server that says "come back in an hour"). Not retried: other statuses and
a wrong content type (an HTML error page or a captive portal does not turn into data by waiting).

A user and password in the URL are sent as Basic authentication, and every message names the URL
as `_url.shown_url` shows it, credentials hidden.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import IncompleteRead

from gate._part_files import open_part
from gate.enrich._url import masked, shown_url, split_credentials
from gate.errors import ExitCode, GateError

MAX_RETRY_AFTER = 60.0
"""The longest `Retry-After` (seconds) the fetch waits for."""

MAX_BYTES = 256 * 1024 * 1024
"""A download larger than this is refused: the real files are 1.5 MB (KEV) and 3 MB (EPSS, gzip)."""

_CHUNK = 1 << 16


class DownloadError(GateError):
    """A download failed: no answer, a bad status, the wrong kind of file, or a truncated or invalid
    body. Exit 3, like every network and platform error."""

    exit_code = ExitCode.ERROR


@dataclass(frozen=True)
class Downloaded:
    """A downloaded file, still under its temporary name and locked (`gate._part_files`)."""

    path: Path
    """The temporary file, `.NAME.<12 hex digits>.part` beside the file it will be renamed to."""
    final_url: str
    """The URL that answered, after redirects, as shown (`_url.shown_url`)."""
    sha256: str
    """Hex SHA-256 of the bytes as received."""
    size: int
    """Bytes received."""
    handle: int
    """The temporary file's descriptor, which holds its lock: the caller closes it once the file
    is renamed or removed, so that no other run takes the file for a killed run's meanwhile."""


class _Transient(Exception):
    """A failure worth another try."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def download(
    session: requests.Session,
    url: str,
    target: Path,
    *,
    content_types: frozenset[str],
    timeout: float,
    retries: int,
    sleep: Callable[[float], None],
) -> Downloaded:
    """Downloads `url` into a new temporary file beside `target`, locked until the caller closes
    `Downloaded.handle`; raises `DownloadError`, naming the URL as shown."""
    given = _Target(url)
    attempts = retries + 1
    for attempt in range(1, attempts + 1):
        try:
            return _once(session, given, target, content_types, timeout)
        except _Transient as failure:
            delay = failure.retry_after
            if delay is None:
                delay = min(30.0, 2.0 ** (attempt - 1))
            elif delay > MAX_RETRY_AFTER:
                raise DownloadError(
                    f"{given.shown}: {failure.reason}; the server asks to retry after {delay:g} s, "
                    f"longer than the {MAX_RETRY_AFTER:g} s the fetch waits"
                ) from None
            if attempt == attempts:
                tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
                raise DownloadError(f"{given.shown}: {failure.reason} (after {tries})") from None
            sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")


@dataclass(frozen=True)
class _Target:
    """A URL split into what is requested, the Basic credentials sent with it, and what is shown."""

    given: str = field(repr=False)
    """The URL as the user gave it, credentials included: never shown."""

    @property
    def request_url(self) -> str:
        """The URL without its user and password (they go in the Authorization header)."""
        return split_credentials(self.given)[0]

    @property
    def auth(self) -> tuple[str, str] | None:
        """The user and password; requests drops the header on a redirect to another origin."""
        return split_credentials(self.given)[1]

    @property
    def shown(self) -> str:
        """The URL for messages, credentials hidden."""
        return shown_url(self.given)


def _once(
    session: requests.Session, given: _Target, target: Path, content_types: frozenset[str], timeout: float
) -> Downloaded:
    url = given.shown
    try:
        response = session.get(
            given.request_url,
            auth=given.auth,
            stream=True,
            timeout=timeout,
            headers={"User-Agent": "container-gate"},
        )
    except requests.Timeout:
        raise _Transient(f"no answer within {timeout:g} s") from None
    except requests.TooManyRedirects:
        raise DownloadError(f"{url}: too many redirects") from None
    except requests.ConnectionError as error:
        raise _Transient(f"cannot connect ({masked(_root_cause(error), given.given)})") from None
    except requests.RequestException as error:
        # A redirect to a URL that cannot be requested; requests' message quotes that URL whole.
        raise DownloadError(f"{url}: the request failed ({type(error).__name__})") from None
    with response:
        _check_answer(url, response, content_types)
        return _save(url, response, target, timeout)


def _check_answer(url: str, response: requests.Response, content_types: frozenset[str]) -> None:
    status = f"HTTP {response.status_code} {response.reason or ''}".rstrip()
    if response.status_code in (408, 429) or response.status_code >= 500:
        raise _Transient(status, _retry_after(response.headers.get("Retry-After")))
    if response.status_code != 200:
        raise DownloadError(f"{url}: {status}")
    if urlsplit(url).scheme == "https" and urlsplit(response.url).scheme != "https":
        # A redirect must not downgrade the transport: the data decides what blocks a build.
        raise DownloadError(f"{url}: redirected to {shown_url(response.url)}, which is not HTTPS")
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type and content_type not in content_types:
        expected = ", ".join(sorted(content_types))
        raise DownloadError(f"{url}: unexpected content type {content_type} (expected one of: {expected})")


def _save(url: str, response: requests.Response, target: Path, timeout: float) -> Downloaded:
    declared = response.headers.get("Content-Length")
    expected = int(declared) if declared and declared.isascii() and declared.isdigit() else None
    if expected is not None and expected > MAX_BYTES:
        raise DownloadError(f"{url}: {expected} bytes announced, more than the {MAX_BYTES} accepted")
    digest = hashlib.sha256()
    size = 0
    path, descriptor = open_part(target)
    try:
        # The descriptor stays open, and the file locked, after the writing: see Downloaded.handle.
        with open(descriptor, "wb", closefd=False) as handle:
            try:
                for chunk in response.iter_content(_CHUNK):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise DownloadError(f"{url}: more than the {MAX_BYTES} bytes accepted")
                    digest.update(chunk)
                    handle.write(chunk)
            except requests.Timeout:
                raise _Transient(f"the answer stalled for {timeout:g} s after {size} bytes") from None
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as error:
                raise _Transient(_truncated(error, size, expected)) from None
            handle.flush()
            os.fsync(handle.fileno())
        # Without Content-Encoding the body is counted as sent; urllib3 checks an encoded body itself.
        if expected is not None and "Content-Encoding" not in response.headers and size != expected:
            raise _Transient(f"truncated: received {size} of {expected} bytes")
    except BaseException:
        path.unlink(missing_ok=True)
        os.close(descriptor)
        raise
    return Downloaded(
        path=path, final_url=shown_url(response.url), sha256=digest.hexdigest(), size=size, handle=descriptor
    )


def _retry_after(value: str | None) -> float | None:
    """`Retry-After` in its delta-seconds form; None for the HTTP-date form (backoff covers it)."""
    text = (value or "").strip()
    return float(text) if text.isascii() and text.isdigit() else None


def _truncated(error: BaseException, size: int, expected: int | None) -> str:
    """What a connection that broke mid-body delivered, in urllib3's count when it kept one (it
    reads ahead of the chunks handed out)."""
    incomplete = _find(error, IncompleteRead)
    if (
        incomplete is not None
        and isinstance(incomplete.partial, int)
        and isinstance(incomplete.expected, int)
    ):
        return f"truncated: received {incomplete.partial} of {incomplete.partial + incomplete.expected} bytes"
    of = f" of {expected}" if expected is not None else ""
    return f"truncated: received {size}{of} bytes or more ({_root_cause(error)})"


def _find(error: BaseException, kind: type[IncompleteRead]) -> IncompleteRead | None:
    """The first `kind` among `error`, its arguments, causes and contexts."""
    seen: set[int] = set()
    todo: list[object] = [error]
    while todo:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, kind):
            return item
        todo += [*item.args, item.__cause__, item.__context__]
    return None


def _root_cause(error: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, one line."""
    while error.__context__ is not None or error.__cause__ is not None:
        inner = error.__cause__ or error.__context__
        if inner is None or inner is error:
            break
        error = inner
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text.strip() or type(error).__name__
