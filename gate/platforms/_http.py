"""What the GitHub and GitLab API clients share: one session, the token in one header, and errors
sorted into what waiting can fix and what it cannot.

The token travels in one header only (GitHub: `Authorization: Bearer`, GitLab: `PRIVATE-TOKEN`),
set by an auth object: that also stops requests from adding ~/.netrc credentials, while proxies
from the environment keep working. Redirects are never followed: requests re-sends custom headers
such as `PRIVATE-TOKEN` to whatever host a redirect names, and neither API redirects a correct
base URL. No exception text of the HTTP library reaches a message, since it can quote a header,
and the platform's own words are shown with the token masked before they are cut to length: a
token cut in half would no longer be found by `masked`.

Failures become `TransientError` (5xx, no answer, and what each platform calls a rate limit), which
`gate.platforms.retry.with_retries` retries, or `ApiError` (any other 4xx, a redirect, an answer
that is not JSON), which it does not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

from gate import __version__
from gate.image.tls import SERVES_TLS_HINT, connection_failure, tls_failure
from gate.platforms.interface import Published, masked
from gate.platforms.retry import GaveUp, RetryPolicy, TransientError, delta_seconds, with_retries
from gate.run_wording import COMMAND_LINE_WORDS
from gate.untrusted import terminal_safe

T = TypeVar("T")

TIMEOUT = (10.0, 30.0)
"""Seconds to connect and to wait for an answer: a hung proxy must not hold the CI job."""


class ApiError(Exception):
    """The platform refused a request in a way that retrying does not fix."""

    def __init__(self, status: int, detail: str, *, scope: str | None = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        """The HTTP status; 0 when the request could not be sent at all, 200 for an unusable answer."""
        self.detail = detail
        """The platform's own message, made safe to print."""
        self.scope = scope
        """For GitLab's 403 `insufficient_scope`: the scope(s) it says the request needs."""


class _TokenHeader(requests.auth.AuthBase):
    """Sets the one header that carries the token."""

    def __init__(self, header: str, value: str) -> None:
        self._header = header
        self._value = value

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self._header] = self._value
        return request


def tls_error(error: BaseException, url: str, *, platform: str, url_variable: str, hint: str) -> str:
    """`TLS error: ` and what failed in the TLS connection to `platform` at `url` (gate/image/tls.py
    `tls_failure`), then what to check: `hint` for a certificate not trusted, the address in
    `url_variable` for a port that spoke no TLS."""
    failure = tls_failure(error, urlsplit(url).hostname or platform, hint)
    # In the platform's own words where the check speaks of a registry's.
    serves = f"check that {url_variable} is {platform}'s HTTPS address"
    check = serves if failure.hint == SERVES_TLS_HINT else failure.hint
    return terminal_safe(f"TLS error: {failure.what}" + (f"; {check}" if check else ""))


class ApiClient:
    """One platform's REST API as one token: the requests, the error mapping, the session."""

    platform = "the platform"
    """How messages name it: `GitHub`, `GitLab`."""
    url_variable = "its API URL"
    """The variable that sets the API's base URL, named when it answers with a redirect."""
    tls_hint = COMMAND_LINE_WORDS.untrusted_certificate
    """What to check when the platform's TLS certificate is not trusted, after a `; `; what failed
    otherwise says its own (gate/image/tls.py `tls_failure`)."""

    def __init__(
        self, api_url: str, token: str, token_header: tuple[str, str], headers: Mapping[str, str]
    ) -> None:
        self._api_url = api_url.rstrip("/")
        self._session = requests.Session()
        self._session.headers.update({"User-Agent": f"container-gate/{__version__}", **headers})
        self._token = token
        self._auth = _TokenHeader(*token_header)

    def shown(self, text: str, limit: int) -> str:
        """The platform's text made safe to print: the token masked first, then cut to `limit`."""
        return terminal_safe(masked(text, self._token), limit)

    def status_text(self, response: requests.Response) -> str:
        """`503 Service Unavailable`, the reason made safe to print."""
        return f"{response.status_code} {self.shown(response.reason or '', 80)}".strip()

    def close(self) -> None:
        self._session.close()

    def request(
        self, method: str, url: str, *, params: Mapping[str, str] | None = None, body: str | None = None
    ) -> requests.Response:
        """One request to `url`; its answer when it succeeded, else the error it is."""
        try:
            response = self._session.request(
                method,
                url,
                params=params,
                json=None if body is None else {"body": body},
                auth=self._auth,
                timeout=TIMEOUT,
                allow_redirects=False,
            )
        except requests.Timeout as timeout:
            spent = TIMEOUT[0] if isinstance(timeout, requests.ConnectTimeout) else TIMEOUT[1]
            raise TransientError(
                f"no answer from {self.platform} within {spent:g} s",
                spent=spent,
                unreached=isinstance(timeout, requests.ConnectTimeout),
            ) from None
        except requests.exceptions.ChunkedEncodingError as error:
            raise TransientError(f"cannot connect to {self.platform} ({connection_failure(error)})") from None
        except requests.exceptions.SSLError as error:
            # Retried too: an interrupted handshake is an SSLError as well as an untrusted certificate.
            said = tls_error(
                error, url, platform=self.platform, url_variable=self.url_variable, hint=self.tls_hint
            )
            raise TransientError(f"cannot connect to {self.platform} ({said})", unreached=True) from None
        except requests.ConnectionError as error:
            raise TransientError(
                f"cannot connect to {self.platform} ({connection_failure(error)})", unreached=True
            ) from None
        except (requests.RequestException, ValueError) as error:
            # The exception's text can hold header values (requests' InvalidHeader, http.client's
            # "Invalid header value" ValueError), the token among them.
            raise ApiError(0, f"the request could not be sent ({type(error).__name__})") from None
        status = response.status_code
        if status >= 500:
            raise TransientError(
                self.status_text(response), retry_after=delta_seconds(response.headers.get("Retry-After"))
            )
        self.check_rate_limit(response)
        if 300 <= status < 400:
            raise ApiError(status, f"{self.platform} answered with a redirect; check {self.url_variable}")
        if status >= 400:
            raise self.refusal(response)
        return response

    def check_rate_limit(self, response: requests.Response) -> None:
        """Raises `TransientError` when a 4xx answer is a rate limit (the platform's own rules)."""

    def refusal(self, response: requests.Response) -> ApiError:
        """The error for a 4xx answer that is not a rate limit, with the platform's message."""
        return ApiError(response.status_code, self.shown(response.reason or "", 200))

    def json(self, response: requests.Response) -> Any:
        """The answer's JSON document."""
        try:
            return response.json()
        except ValueError:
            raise ApiError(response.status_code, f"{self.platform}'s answer is not JSON") from None


def retried(
    client: ApiClient,
    attempt: Callable[[], T],
    retry: RetryPolicy,
    sleep: Callable[[float], None],
    token: str,
    *,
    refused: Callable[[ApiError], str],
    gave_up: Callable[[GaveUp], str],
) -> T | Published:
    """`attempt` run with retries, then `client` closed. A refusal (`refused(error)`: what the
    token lacks) or retries that gave up (`gave_up(stopped)`) is a `Published` warning with the
    token masked, never an error: a comment that cannot be written leaves the verdict as it is."""
    try:
        return with_retries(attempt, retry, sleep)
    except ApiError as error:
        return Published(warnings=(masked(refused(error), token),))
    except GaveUp as stopped:
        return Published(warnings=(masked(gave_up(stopped), token),))
    finally:
        client.close()
