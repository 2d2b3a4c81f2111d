"""A mirror URL's credentials: taken out of the URL to be sent as Basic authentication, and hidden
wherever the URL is shown (messages, warnings, the record `data fetch` writes).

A mirror behind a login is given as `https://user:password@mirror/...` or with a token in the
query (`?token=...`, a presigned `X-Amz-Signature=...`, an Azure `sig=...`). The user and password
become an `Authorization: Basic` header (RFC 7617) that requests drops on a redirect to another
host, port or scheme; the query goes out as given. When shown, the user and password become `***`,
and so does the value of every query parameter whose name looks like a credential.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

HIDDEN = "***"
"""What stands for a credential in a URL as shown."""

# scheme://authority rest, with the authority ending at the first "/", "?" or "#" as RFC 3986
# section 3.2 and urllib3 read it; re.S so a control character cannot end the match early.
_WITH_AUTHORITY = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://)(?P<authority>[^/?#]*)(?P<rest>.*)\Z", re.S
)

# Parameter names that carry secrets in the wild: token, access_token, api_key, key, password,
# secret, X-Amz-Signature / X-Amz-Credential / X-Amz-Security-Token, X-Goog-Signature, Azure's
# sig, auth, session ids, JWTs. Hiding a harmless value too costs nothing.
_CREDENTIAL_NAME = re.compile(r"token|key|secret|pass|pwd|sig|auth|credential|session|jwt", re.IGNORECASE)


def shown_url(url: str) -> str:
    """`url` as it may be shown: its user and password replaced by `***`
    (`https://***@mirror/kev.json`) and the value of each credential-like query parameter too
    (`?token=***`). The text is otherwise unchanged, a URL that does not parse included."""
    match = _WITH_AUTHORITY.match(url)
    if match is None:
        return _hide_query(url)
    authority = match["authority"]
    if "@" in authority:
        authority = HIDDEN + "@" + authority.rpartition("@")[2]
    return match["head"] + authority + _hide_query(match["rest"])


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """`url` without its user and password, and them (percent-decoded) when it has them."""
    match = _WITH_AUTHORITY.match(url)
    if match is None or "@" not in match["authority"]:
        return url, None
    userinfo, _, host = match["authority"].rpartition("@")
    user, _, password = userinfo.partition(":")
    return match["head"] + host + match["rest"], (unquote(user), unquote(password))


def secrets_in(url: str) -> tuple[str, ...]:
    """The credentials `url` carries, as they appear in it and decoded: for masking text that may
    quote the URL in a form `shown_url` cannot recognise (an HTTP library's error message)."""
    match = _WITH_AUTHORITY.match(url)
    userinfo = match["authority"].rpartition("@")[0] if match else ""
    # The user alone is no secret, and masking a short name would garble the message.
    password = userinfo.partition(":")[2]
    found = [password] if password else []
    for name, value in _query_pairs(url):
        if value and _CREDENTIAL_NAME.search(unquote(name)):
            found.append(value)
    return tuple(sorted({*found, *(unquote(text) for text in found)}, key=len, reverse=True))


def masked(text: str, url: str) -> str:
    """`text` with every credential of `url` replaced by `***`."""
    for secret in secrets_in(url):
        text = text.replace(secret, HIDDEN)
    return text


def _query_pairs(url: str) -> list[tuple[str, str]]:
    query = url.partition("?")[2].partition("#")[0]
    return [(name, value) for name, _, value in (item.partition("=") for item in query.split("&"))]


def _hide_query(rest: str) -> str:
    before, mark, after = rest.partition("?")
    if not mark:
        return rest
    query, hash_mark, fragment = after.partition("#")
    items = []
    for item in query.split("&"):
        name, equals, value = item.partition("=")
        if equals and value and _CREDENTIAL_NAME.search(unquote(name)):
            item = name + equals + HIDDEN
        items.append(item)
    return before + mark + "&".join(items) + hash_mark + fragment
