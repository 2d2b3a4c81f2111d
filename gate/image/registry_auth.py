"""Registry credentials (the Docker CLI's config.json) and the authentication challenges of the
registry API: Basic, and the Bearer token flow (https://distribution.github.io/distribution/spec/auth/token/).

Credentials come from `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`): a credential
helper named by `credHelpers`/`credsStore`, else the `auths` entry. They are sent only to the
registry they belong to and to the token realm it names, never over plain HTTP off this machine,
and never appear in a message or a `repr`.
"""

from __future__ import annotations

import base64
import binascii
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from gate._json_decode import loads
from gate.errors import ImageError
from gate.image.reference import DOCKER_HUB, is_loopback
from gate.run_wording import COMMAND_LINE_WORDS, LoginHint

if TYPE_CHECKING:
    import requests

HUB_SERVER = "https://index.docker.io/v1/"
"""The key Docker uses for Docker Hub in config.json and with credential helpers."""
_HUB_KEYS = frozenset({"index.docker.io", "docker.io", "registry-1.docker.io"})
_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))')
_SCHEME = re.compile(r"(?i)(?:^|,)\s*(basic|bearer)\b")


@dataclass(frozen=True, repr=False)
class Credentials:
    """A user name and a secret for one registry."""

    username: str
    """The user name (`<token>` for an identity token from a helper)."""
    secret: str
    """The password, access token or identity token. Never printed."""
    identity_token: bool = False
    """True when `secret` is an OAuth2 refresh token (config.json `identitytoken`)."""

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, secret=<hidden>)"


def docker_config_file(environ: Mapping[str, str]) -> Path | None:
    """Where the Docker CLI keeps its config, as it finds it."""
    if environ.get("DOCKER_CONFIG"):
        return Path(environ["DOCKER_CONFIG"]) / "config.json"
    if environ.get("HOME"):
        return Path(environ["HOME"]) / ".docker" / "config.json"
    return None


def registry_of_key(key: str) -> str:
    """The registry a key of config.json's `auths` or `credHelpers` names, as a reference names it
    (`https://index.docker.io/v1/` -> `docker.io`, `https://GHCR.io` -> `ghcr.io`); empty for none."""
    try:
        host = urlsplit(key if "://" in key else f"//{key}").netloc.lower()
    except ValueError:  # `http://[::1` and the like: an entry for no registry, as Docker treats it
        return ""
    return DOCKER_HUB if host in _HUB_KEYS else host


def default_port_twin(registry: str) -> str | None:
    """The same registry written the other way with HTTPS's default port: `ghcr.io` for
    `ghcr.io:443` and `ghcr.io:443` for `ghcr.io`. Docker, and the Docker config lookup of Trivy
    and Grype (go-containerregistry's keychain), take the two spellings as two registries, letter
    for letter (docker/cli#987). None for another port, a loopback registry (read over plain
    HTTP, where 443 is no default) and Docker Hub, whose login has a key of its own."""
    host, colon, port = registry.rpartition(":") if not registry.endswith("]") else ("", "", "")
    if colon and not port.isdigit():
        return None
    bare = host if colon else registry
    if (colon and port != "443") or is_loopback(bare) or bare in _HUB_KEYS:
        return None
    return bare if colon else f"{registry}:443"


def twin_login_key(registry: str, config_file: Path | None) -> str | None:
    """The key of the Docker config's `auths` or `credHelpers` that names `registry`'s
    `default_port_twin`, when the config has one; None when it has none or cannot be read (the
    lookup of the credentials says why)."""
    twin = default_port_twin(registry)
    if twin is None or config_file is None:
        return None
    try:
        doc = loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for section in ("auths", "credHelpers"):
        entries = doc.get(section) if isinstance(doc, dict) else None
        for key in entries if isinstance(entries, dict) else ():
            if registry_of_key(key) == twin:
                return str(key)
    return None


class ConfigLogins:
    """The credentials a Docker config holds for each registry read (a `CredentialLookup`), and
    what to say of a registry it has a login for only under the other spelling (`ghcr.io:443` for
    `ghcr.io`): every registry read of a run, the image's and the base image check's, says it
    in these words."""

    def __init__(self, config_file: Path | None, environ: Mapping[str, str], login: LoginHint) -> None:
        self.config_file = config_file
        self.environ = environ
        self.login = login
        """How the run's user gives a login (`RunWording.login`), for the warning's way out."""
        self.twin_logins: list[str] = []
        """What was said, each once, in the order the registries were read."""

    def __call__(self, registry: str) -> Credentials | None:
        found = find_credentials(registry, self.config_file, self.environ)
        twin = twin_login_key(registry, self.config_file) if found is None else None
        if twin is not None:
            said = (
                f"{self.config_file}: its login for {twin} is not used for {registry}: Docker and the "
                "scanners take a registry written with and without its default port :443 as two, "
                f"and the image reference writes {registry}: {self.login.when_needed(registry)}"
            )
            if said not in self.twin_logins:
                self.twin_logins.append(said)
        return found


def find_credentials(
    registry: str, config_file: Path | None, environ: Mapping[str, str]
) -> Credentials | None:
    """The credentials config.json holds for `registry` (`docker.io`, `ghcr.io`, `127.0.0.1:5000`)."""
    if config_file is None or not config_file.is_file():
        return None
    try:
        doc = loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        # The message of a JSON error gives a position, never the text around it.
        raise ImageError(f"{config_file}: cannot read the Docker config ({exc})") from None
    if not isinstance(doc, dict):
        raise ImageError(f"{config_file}: expected a JSON object")
    server = HUB_SERVER if registry == DOCKER_HUB else registry
    helpers = doc.get("credHelpers")
    helpers = helpers if isinstance(helpers, dict) else {}
    helper = next((v for k, v in helpers.items() if registry_of_key(k) == registry), None) or doc.get(
        "credsStore"
    )
    if isinstance(helper, str) and helper:
        found = _from_helper(helper, server, config_file, environ)
        if found is not None:
            return found
    auths = doc.get("auths")
    auths = auths if isinstance(auths, dict) else {}
    for key, entry in auths.items():
        if registry_of_key(key) == registry and isinstance(entry, dict):
            return _from_entry(entry, key, config_file)
    return None


def _from_entry(entry: dict[str, object], key: str, config_file: Path) -> Credentials | None:
    token = entry.get("identitytoken")
    user, password = entry.get("username"), entry.get("password")
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            user, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            sep = ""
        if not sep:
            raise ImageError(f"{config_file}: auths[{key!r}].auth is not base64 of user:password")
    if isinstance(token, str) and token:
        return Credentials(str(user or "<token>"), token, identity_token=True)
    if isinstance(user, str) and isinstance(password, str) and user:
        return Credentials(user, password)
    return None


def _from_helper(
    helper: str, server: str, config_file: Path, environ: Mapping[str, str]
) -> Credentials | None:
    program = shutil.which(f"docker-credential-{helper}", path=environ.get("PATH"))
    if program is None:
        raise ImageError(
            f"{config_file} names the credential helper {helper!r}: docker-credential-{helper} is not installed"
        )
    try:
        # The documented helper protocol: `get` with the server URL on stdin, JSON on stdout.
        done = subprocess.run(  # noqa: S603 - a helper the user's config.json names, no shell
            [program, "get"], input=server, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ImageError(
            f"credential helper docker-credential-{helper} failed: {type(exc).__name__}"
        ) from None
    if done.returncode != 0:
        return None  # "credentials not found": anonymous access may still work
    try:
        answer = loads(done.stdout)
        user, secret = answer["Username"], answer["Secret"]
    except (ValueError, KeyError, TypeError):
        raise ImageError(
            f"credential helper docker-credential-{helper} printed no credentials JSON"
        ) from None
    if not isinstance(user, str) or not isinstance(secret, str) or not secret:
        return None
    return Credentials(user, secret, identity_token=user == "<token>")


def parse_challenges(header: str) -> list[tuple[str, dict[str, str]]]:
    """The schemes and parameters of a `WWW-Authenticate` header (`Bearer realm="...",service="..."`)."""
    starts = list(_SCHEME.finditer(header))
    out = []
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(header)
        params = {
            m[1].lower(): (m[2] if m[2] is not None else m[3])
            for m in _PARAM.finditer(header, match.end(), end)
        }
        out.append((match[1].lower(), params))
    return out


class AuthRefused(ImageError):
    """The registry or its token service refused the request's credentials (or their absence)."""


def fetch_token(
    session: requests.Session,
    params: dict[str, str],
    scope: str,
    creds: Credentials | None,
    registry: str,
    timeout: float,
    login: LoginHint = COMMAND_LINE_WORDS.login,
) -> str:
    """A Bearer token from the realm a 401 named, with the credentials when there are some;
    `login` words what to do when the token service refuses them (or their absence)."""
    import requests  # only registry sources need HTTP; archives must not pay for importing it

    realm = params.get("realm", "")
    parts = urlsplit(realm)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImageError(f"registry {registry}: the token realm {realm!r} is not an HTTP(S) URL")
    if creds is not None and parts.scheme == "http" and not is_loopback(parts.netloc):
        raise ImageError(f"registry {registry}: refusing to send credentials to {realm} over plain HTTP")
    query = {"scope": params.get("scope") or scope}
    if "service" in params:
        query["service"] = params["service"]
    try:
        if creds is not None and creds.identity_token:
            form = {**query, "grant_type": "refresh_token", "refresh_token": creds.secret}
            resp = session.post(realm, data={**form, "client_id": "container-gate"}, timeout=timeout)
        else:
            auth = (creds.username, creds.secret) if creds is not None else None
            resp = session.get(realm, params=query, auth=auth, timeout=timeout)
    except requests.RequestException as exc:
        raise ImageError(
            f"registry {registry}: cannot reach its token service {parts.netloc} "
            f"({short_reason(exc, parts.hostname or parts.netloc)})"
        ) from None
    if resp.status_code in (401, 403):
        raise AuthRefused(
            f"registry {registry}: its token service refused {_whose(creds)} (HTTP {resp.status_code})",
            hint=login.when_needed(registry) if creds is None else login.when_refused(registry),
        )
    if resp.status_code != 200:
        raise ImageError(f"registry {registry}: its token service answered HTTP {resp.status_code}")
    try:
        body = resp.json()
        token = body.get("token") or body.get("access_token")
    except (ValueError, AttributeError, RecursionError):
        token = None
    if not isinstance(token, str) or not token:
        raise ImageError(f"registry {registry}: its token service sent no token")
    return token


def _whose(creds: Credentials | None) -> str:
    return f"the credentials of user {creds.username!r}" if creds else "anonymous access"


def short_reason(exc: requests.RequestException, host: str) -> str:
    """`connection refused`, `timed out`, `TLS error: ...`: the cause without urllib3's long wrapper
    text; `host` is the name the connection was for."""
    import requests

    from gate.image.tls import connection_failure, tls_failure

    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.SSLError):
        # What failed only: the caller gives its own hint.
        return f"TLS error: {tls_failure(exc, host, '').what}"
    text = str(exc)
    errno = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if errno:
        return errno[1].strip().lower()
    if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        return connection_failure(exc)
    return type(exc).__name__
