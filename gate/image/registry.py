"""Reading an image's manifest and config straight from its registry (HTTP API v2), no engine needed.

https://github.com/opencontainers/distribution-spec/blob/main/spec.md: GET the manifest by tag or
digest (an index for a multi-platform image, then the chosen platform's manifest), then the config
blob. Layers are never downloaded: the scanner does that. Registries on this machine (`localhost`,
127.0.0.0/8) are read over plain HTTP, as Docker does; every other one over HTTPS.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

from gate.errors import ImageError
from gate.image.config import check_platform, parse_config
from gate.image.manifest import (
    ACCEPT,
    MANIFEST_TYPES,
    Descriptor,
    Index,
    Manifest,
    Platform,
    choose_platform,
    parse_manifest,
)
from gate.image.reference import ImageRef
from gate.image.registry_auth import AuthRefused, Credentials, fetch_token, parse_challenges, short_reason
from gate.image.source import ImageNotFound, SourceImage, SourceKind, SourceUnreachable
from gate.image.tls import tls_failure, trust_also
from gate.run_wording import COMMAND_LINE_WORDS, LoginHint

MAX_MANIFEST = 4 << 20
"""distribution refuses manifests above 4 MiB; so do we."""
MAX_CONFIG = 8 << 20

CredentialLookup = Callable[[str], Credentials | None]
"""Gives the credentials for a registry name; called only when the registry asks for them."""


class RegistryClient:
    """One repository of one registry, with the authorization it negotiated."""

    def __init__(
        self,
        ref: ImageRef,
        credentials: CredentialLookup,
        timeout: float,
        login: LoginHint = COMMAND_LINE_WORDS.login,
        ca_file: str | None = None,
        untrusted: str = COMMAND_LINE_WORDS.untrusted_certificate,
    ) -> None:
        self.ref = ref
        self.login = login
        self.untrusted = untrusted
        """What to check when the registry's certificate is not trusted (`RunWording.untrusted_certificate`)."""
        self.scheme = "http" if ref.loopback else "https"
        self.base = f"{self.scheme}://{ref.api_host}/v2/{ref.repository}"
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "container-gate"
        # Also for the token service, which a GitLab registry has on the GitLab instance itself.
        trust_also(self.session, ca_file)
        self._credentials = credentials
        self._creds: Credentials | None = None
        self._authorization: str | None = None

    def close(self) -> None:
        """Releases the connections."""
        self.session.close()

    def _send(self, path: str, accept: str | None) -> requests.Response:
        headers = {"Accept": accept} if accept else {}
        if self._authorization:
            headers["Authorization"] = self._authorization
        try:
            return self.session.get(f"{self.base}/{path}", headers=headers, timeout=self.timeout, stream=True)
        except requests.exceptions.SSLError as exc:
            failure = tls_failure(exc, urlsplit(self.base).hostname or self.ref.registry, self.untrusted)
            raise SourceUnreachable(
                f"cannot reach registry {self.ref.registry} (TLS error: {failure.what})", hint=failure.hint
            ) from None
        except requests.RequestException as exc:
            raise SourceUnreachable(
                f"cannot reach registry {self.ref.registry} ({short_reason(exc, self.ref.registry)})",
                hint="check the name, the network, and that plain HTTP is only expected on localhost",
            ) from None

    def get(self, path: str, accept: str | None, cap: int, what: str) -> tuple[bytes, requests.Response]:
        """GETs `path` under the repository, authenticating once when challenged."""
        resp = self._send(path, accept)
        if resp.status_code == 401 and self._authorization is None:
            resp.close()
            self._authorize(resp)
            resp = self._send(path, accept)
        with resp:
            if resp.status_code == 200:
                return self._body(resp, cap, what), resp
            raise self._status_error(resp, what)

    def _body(self, resp: requests.Response, cap: int, what: str) -> bytes:
        body = b""
        try:
            for chunk in resp.iter_content(65536):
                body += chunk
                if len(body) > cap:
                    raise ImageError(f"registry {self.ref.registry}: {what} is larger than {cap >> 20} MiB")
        except requests.RequestException as exc:
            # Streamed: the body is read after `_send`, and a connection that breaks then was an
            # uncaught ChunkedEncodingError, shown as an internal error.
            raise SourceUnreachable(
                f"cannot read {what} from registry {self.ref.registry} "
                f"({short_reason(exc, self.ref.registry)})",
                hint="try again; if it keeps failing, check the network and any proxy on the way",
            ) from None
        return body

    def _authorize(self, resp: requests.Response) -> None:
        challenges = parse_challenges(resp.headers.get("WWW-Authenticate", ""))
        self._creds = self._credentials(self.ref.registry)
        for scheme, params in challenges:
            if scheme == "bearer":
                scope = f"repository:{self.ref.repository}:pull"
                token = fetch_token(
                    self.session, params, scope, self._creds, self.ref.registry, self.timeout, self.login
                )
                self._authorization = f"Bearer {token}"
                return
        if any(scheme == "basic" for scheme, _ in challenges) and self._creds is not None:
            if self.scheme != "https" and not self.ref.loopback:
                raise ImageError(
                    f"registry {self.ref.registry}: refusing to send credentials over plain HTTP"
                )
            pair = f"{self._creds.username}:{self._creds.secret}".encode()
            self._authorization = f"Basic {base64.b64encode(pair).decode()}"
            return
        # No usable challenge, or Basic without credentials: the 401 below says what to do.

    def _status_error(self, resp: requests.Response, what: str) -> ImageError:
        status, registry = resp.status_code, self.ref.registry
        code = _error_code(resp)
        if status == 401:
            if self._creds is None:
                return AuthRefused(
                    f"registry {registry} refused anonymous access to {self.ref.repository} (HTTP 401{code})",
                    hint=f"the repository does not exist or needs credentials: {self.login.when_needed(registry)}",
                )
            user = self._creds.username
            if self._authorization is not None and self._authorization.startswith("Bearer "):
                # Its token service took the credentials, and gave a token without this repository:
                # what a registry answers for a repository that does not exist or that user may not pull.
                return AuthRefused(
                    f"registry {registry} refused user {user!r} access to {self.ref.repository} (HTTP 401{code})",
                    hint=f"the repository does not exist, or user {user!r} may not pull it",
                )
            return AuthRefused(
                f"registry {registry} refused the credentials of user {user!r} (HTTP 401{code})",
                hint=self.login.when_refused(registry),
            )
        if status == 403:
            return AuthRefused(f"registry {registry} denied access to {self.ref.repository} (HTTP 403{code})")
        if status == 404:
            return ImageNotFound(f"registry {registry} has no {what} (HTTP 404{code})")
        return ImageError(f"registry {registry} answered HTTP {status}{code} for {what}")


def _error_code(resp: requests.Response) -> str:
    """`, MANIFEST_UNKNOWN`: the first error code of the registry's error body, if any."""
    try:
        errors = resp.json().get("errors")
        code = errors[0]["code"] if isinstance(errors, list) and errors else None
    except (ValueError, AttributeError, KeyError, TypeError, RecursionError, requests.RequestException):
        return ""
    return f", {code}" if isinstance(code, str) and code.isupper() and len(code) < 40 else ""


def _checked(body: bytes, expected: str | None, what: str, registry: str) -> str:
    digest = f"sha256:{hashlib.sha256(body).hexdigest()}"
    if expected and expected.startswith("sha256:") and expected != digest:
        raise ImageError(f"registry {registry}: {what} does not match its digest {expected}")
    return digest


def read_registry(
    ref: ImageRef,
    name: str,
    wanted: Platform | None,
    credentials: CredentialLookup,
    timeout: float,
    login: LoginHint = COMMAND_LINE_WORDS.login,
    ca_file: str | None = None,
    untrusted: str = COMMAND_LINE_WORDS.untrusted_certificate,
) -> SourceImage:
    """Reads the manifest (choosing a platform from an index) and the config of `ref`; `login`
    words what to do when the registry refuses the read; `ca_file` is a CA trusted besides the
    usual ones, and `untrusted` what to check when the registry's certificate is not trusted."""
    client = RegistryClient(ref, credentials, timeout, login, ca_file, untrusted)
    try:
        what = (
            f"{ref.repository}:{ref.tag or 'latest'}"
            if ref.digest is None
            else f"{ref.repository}@{ref.digest}"
        )
        body, resp = client.get(f"manifests/{ref.reference}", ACCEPT, MAX_MANIFEST, what)
        digest = _checked(body, ref.digest or resp.headers.get("Docker-Content-Digest"), what, ref.registry)
        parsed = parse_manifest(body, f"registry {ref.registry}: {what}", resp.headers.get("Content-Type"))
        chosen: Platform | None = None
        manifest_digest = digest
        if isinstance(parsed, Index):
            entries = [
                (d.platform or Platform("unknown", "unknown"), d)
                for d in parsed.manifests
                if d.media_type in MANIFEST_TYPES and not d.is_attestation
            ]
            if not entries:
                raise ImageError(f"registry {ref.registry}: {what} is an index with no image manifest")
            plat, desc = choose_platform(entries, wanted, f"{ref.registry}/{what}")
            chosen = plat if len(entries) > 1 else None
            parsed = _platform_manifest(client, desc, ref)
            manifest_digest = desc.digest
        manifest: Manifest = parsed
        blob, _ = client.get(
            f"blobs/{manifest.config.digest}", None, MAX_CONFIG, f"config {manifest.config.digest}"
        )
        _checked(blob, manifest.config.digest, "the config", ref.registry)
        config = parse_config(blob, f"registry {ref.registry}: {what} config")
    finally:
        client.close()
    if len(manifest.layers) != len(config.diff_ids):
        raise ImageError(
            f"registry {ref.registry}: {what}: the manifest lists {len(manifest.layers)} layers, "
            f"the config {len(config.diff_ids)}"
        )
    check_platform(config, wanted, f"{ref.registry}/{what}")
    return SourceImage(
        SourceKind.REGISTRY,
        name,
        config,
        manifest.config.digest,
        digest=digest,
        manifest_digest=manifest_digest,
        size=sum(layer.size for layer in manifest.layers),
        platform=chosen,
        insecure_registry=ref.loopback,
    )


def _platform_manifest(client: RegistryClient, desc: Descriptor, ref: ImageRef) -> Manifest:
    what = f"{ref.repository}@{desc.digest}"
    body, resp = client.get(f"manifests/{desc.digest}", ACCEPT, MAX_MANIFEST, what)
    _checked(body, desc.digest, what, ref.registry)
    parsed = parse_manifest(body, f"registry {ref.registry}: {what}", resp.headers.get("Content-Type"))
    if not isinstance(parsed, Manifest):
        raise ImageError(
            f"registry {ref.registry}: {what} is an index where a platform's manifest was expected"
        )
    return parsed
