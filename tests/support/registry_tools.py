"""Test support for image sources: images pushed over the registry HTTP API, OCI archives, and real
registries behind authentication (htpasswd, and a token service issuing JWTs the registry verifies).

Everything runs on 127.0.0.1. The registries are Debian's docker-registry (distribution 2.8);
the token service is the part a real deployment runs beside it (auth.docker.io, ghcr.io/token):
it checks Basic credentials and signs RS256 tokens with a key made by the openssl command line,
and the registry checks those tokens against the certificate, so the whole flow is real.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import http.client
import http.server
import io
import json
import secrets
import shutil
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from testbed.images import ArchiveImages
from tests.support.fixtures import unavailable
from tests.support.processes import stop

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


@dataclass(frozen=True)
class ImageBlobs:
    """One platform's image as registry blobs: config, gzip layers and the OCI manifest naming them."""

    config: bytes
    layers: tuple[bytes, ...]
    """gzip-compressed layer tars."""
    manifest: bytes

    @property
    def digest(self) -> str:
        return sha256(self.manifest)

    def blobs(self) -> dict[str, bytes]:
        return {sha256(b): b for b in (self.config, *self.layers, self.manifest)}


def read_docker_archive(path: Path) -> tuple[bytes, list[bytes]]:
    """The config bytes and the uncompressed layers of a small docker-archive (test images only)."""
    with tarfile.open(path) as tar:

        def read(name: str) -> bytes:
            handle = tar.extractfile(name)
            assert handle is not None
            return handle.read()

        entry = json.loads(read("manifest.json"))[0]
        return read(entry["Config"]), [read(name) for name in entry["Layers"]]


def relabelled(archive: Path, dest: Path, labels: dict[str, str]) -> Path:
    """A copy of a docker-archive whose config has these labels (a new config, a new image id)."""
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    manifest = json.loads(members.pop("manifest.json"))
    config = json.loads(members.pop(manifest[0]["Config"]))
    config["config"]["Labels"] = {**(config["config"].get("Labels") or {}), **labels}
    body = json.dumps(config).encode()
    manifest[0]["Config"] = f"{hashlib.sha256(body).hexdigest()}.json"
    members[manifest[0]["Config"]] = body
    members["manifest.json"] = json.dumps(manifest).encode()
    members.pop("repositories", None)
    with tarfile.open(dest, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


def oci_image(config: bytes, layers: list[bytes], **changes: object) -> ImageBlobs:
    """An OCI image from a config (with `changes` to its top-level keys, such as architecture) and
    layer tars; without changes the config keeps its bytes, and so its digest (the image id)."""
    config_bytes = config
    if changes:
        config_bytes = json.dumps({**json.loads(config), **changes}, separators=(",", ":")).encode()
    compressed = tuple(gzip.compress(layer, mtime=0) for layer in layers)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha256(config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": sha256(b), "size": len(b)} for b in compressed],
    }
    return ImageBlobs(config_bytes, compressed, json.dumps(manifest).encode())


def index_of(
    entries: list[tuple[bytes, str, dict[str, str] | None]], annotations: list[dict[str, str]] | None = None
) -> bytes:
    """An OCI index of (manifest bytes, media type, platform) entries."""
    manifests = []
    for i, (body, media_type, platform) in enumerate(entries):
        desc: dict[str, object] = {"mediaType": media_type, "digest": sha256(body), "size": len(body)}
        if platform is not None:
            desc["platform"] = platform
        if annotations and annotations[i]:
            desc["annotations"] = annotations[i]
        manifests.append(desc)
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}).encode()


class Pusher:
    """Pushes blobs and manifests to a registry with the monolithic upload of the distribution spec."""

    def __init__(self, address: str) -> None:
        self.base = f"http://{address}/v2"
        self.session = requests.Session()

    def blob(self, repo: str, data: bytes) -> str:
        digest = sha256(data)
        if self.session.head(f"{self.base}/{repo}/blobs/{digest}", timeout=30).status_code == 200:
            return digest
        started = self.session.post(f"{self.base}/{repo}/blobs/uploads/", timeout=30)
        assert started.status_code == 202, started.text
        location = started.headers["Location"]
        if location.startswith("/"):
            location = self.base.removesuffix("/v2") + location
        sep = "&" if "?" in location else "?"
        done = self.session.put(
            f"{location}{sep}digest={digest}",
            data=data,
            headers={"Content-Type": "application/octet-stream"},
            timeout=30,
        )
        assert done.status_code == 201, done.text
        return digest

    def manifest(self, repo: str, ref: str, body: bytes, media_type: str) -> str:
        resp = self.session.put(
            f"{self.base}/{repo}/manifests/{ref}", data=body, headers={"Content-Type": media_type}, timeout=30
        )
        assert resp.status_code == 201, resp.text
        return sha256(body)

    def image(self, repo: str, ref: str, image: ImageBlobs) -> str:
        for data in (image.config, *image.layers):
            self.blob(repo, data)
        return self.manifest(repo, ref, image.manifest, OCI_MANIFEST)

    def get_manifest(self, repo: str, ref: str) -> tuple[bytes, str]:
        resp = self.session.get(
            f"{self.base}/{repo}/manifests/{ref}",
            headers={"Accept": f"{OCI_MANIFEST}, {DOCKER_MANIFEST}"},
            timeout=30,
        )
        assert resp.status_code == 200, resp.text
        return resp.content, resp.headers["Content-Type"].split(";")[0]


def write_oci_archive(path: Path, index: bytes, blobs: dict[str, bytes], *, prefix: str = "") -> Path:
    """An OCI image layout tarball: oci-layout, index.json and blobs/sha256/*."""
    with tarfile.open(path, "w") as tar:

        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("index.json", index)
        for digest, data in sorted(blobs.items()):
            add(f"blobs/sha256/{digest.removeprefix('sha256:')}", data)
    return path


def two_platform_oci_archive(images: ArchiveImages, path: Path) -> tuple[Path, ImageBlobs, ImageBlobs]:
    """An OCI archive of two platforms, from the test bed's images written without an engine:
    linux/amd64 is the app image, linux/arm64/v8 the base image (so a scan shows which it read)."""
    app = oci_image(*read_docker_archive(images.app))
    base_config, base_layers = read_docker_archive(images.base)
    base = oci_image(base_config, base_layers, architecture="arm64", variant="v8")
    index = index_of(
        [
            (app.manifest, OCI_MANIFEST, {"os": "linux", "architecture": "amd64"}),
            (base.manifest, OCI_MANIFEST, {"os": "linux", "architecture": "arm64", "variant": "v8"}),
        ]
    )
    return write_oci_archive(path, index, {**app.blobs(), **base.blobs()}), app, base


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serve_registry(
    root: Path, storage: Path, auth: str = "", tls: tuple[Path, Path] | None = None
) -> Iterator[str]:
    """docker-registry on 127.0.0.1:<free port> with `auth` (a YAML `auth:` block) and shared
    storage; over HTTPS with `tls`, a certificate and its key."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is not installed")
    port = free_port()
    tls_config = f", tls: {{certificate: '{tls[0]}', key: '{tls[1]}'}}" if tls else ""
    config = root / f"registry-{port}.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error}\n"
        f"storage: {{filesystem: {{rootdirectory: {storage}}}}}\n"
        f"http: {{addr: '127.0.0.1:{port}', secret: {secrets.token_hex(8)}{tls_config}}}\n" + auth
    )
    log = (root / f"registry-{port}.log").open("wb")
    proc = subprocess.Popen(
        [binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"docker-registry exited: {(root / f'registry-{port}.log').read_text()[-2000:]}"
                )
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/v2/")
                conn.getresponse()
                conn.close()
                break
            if time.monotonic() > deadline:
                raise RuntimeError("docker-registry did not start")
            time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        stop(proc)
        log.close()


def bcrypt_hash(password: str) -> str:
    """A bcrypt hash for an htpasswd file (libxcrypt through Python's crypt module, 3.11/3.12)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

    # bcrypt is the one hash distribution's htpasswd accepts (and it is not a weak hash).
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))  # noqa: S324


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class TokenService:
    """Issues registry tokens: anonymous pulls of `public/*`, `private/*` for the one known user."""

    key: Path
    cert_der: bytes
    username: str
    password: str
    refresh_token: str
    issuer: str = "cg-test-issuer"
    service: str = "cg-test-registry"
    seen: list[dict[str, str]] = field(default_factory=list)
    """One record per token request: the user it authenticated as (or `anonymous`) and the scope."""

    def grant(self, user: str | None, scope: str) -> str:
        _, name, _ = ([*scope.split(":"), "", ""])[:3]
        allowed = name.startswith("public/") or (user is not None and name.startswith("private/"))
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": user or "",
            "aud": self.service,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": [{"type": "repository", "name": name, "actions": ["pull"]}] if allowed else [],
        }
        header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(self.cert_der).decode()]}
        signing = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key)],
            input=signing.encode(),
            capture_output=True,
            check=True,
        ).stdout
        return f"{signing}.{_b64url(signature)}"


def make_token_service(root: Path, username: str, password: str) -> TokenService:
    key, cert = root / "token.key", root / "token.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=container-gate test token service"],
        capture_output=True, check=True,
    )  # fmt: skip
    der = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-outform", "DER"], capture_output=True, check=True
    ).stdout
    return TokenService(key, der, username, password, refresh_token=secrets.token_hex(16))


@contextlib.contextmanager
def serve_tokens(service: TokenService) -> Iterator[str]:
    """The token endpoint on 127.0.0.1:<free port>; yields its realm URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, user: str | None, scope: str) -> None:
            service.seen.append({"user": user or "anonymous", "scope": scope})
            body = json.dumps({"token": service.grant(user, scope), "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _refuse(self) -> None:
            service.seen.append({"user": "refused", "scope": ""})
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            user = None
            header = self.headers.get("Authorization", "")
            if header.startswith("Basic "):
                name, _, password = base64.b64decode(header[6:]).decode().partition(":")
                if (name, password) != (service.username, service.password):
                    return self._refuse()
                user = name
            return self._answer(user, query.get("scope", [""])[0])

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode())
            if form.get("grant_type") != ["refresh_token"] or form.get("refresh_token") != [
                service.refresh_token
            ]:
                return self._refuse()
            body = json.dumps(
                {"access_token": service.grant("identity", form.get("scope", [""])[0])}
            ).encode()
            service.seen.append({"user": "identity", "scope": form.get("scope", [""])[0]})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/token"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@dataclass(frozen=True)
class AuthRegistries:
    """Three registries over one storage: open (to push to), Basic (htpasswd) and Bearer (tokens)."""

    open: str
    basic: str
    bearer: str
    tokens: TokenService
    username: str
    password: str


@contextlib.contextmanager
def auth_registries() -> Iterator[AuthRegistries]:
    root = Path(tempfile.mkdtemp(prefix="cg-auth-registries-"))
    username, password = "gate-user", secrets.token_urlsafe(12)
    try:
        (root / "htpasswd").write_text(f"{username}:{bcrypt_hash(password)}\n")
        tokens = make_token_service(root, username, password)
        storage = root / "data"
        with contextlib.ExitStack() as stack:
            realm = stack.enter_context(serve_tokens(tokens))
            open_reg = stack.enter_context(serve_registry(root, storage))
            basic = stack.enter_context(
                serve_registry(
                    root, storage, f"auth: {{htpasswd: {{realm: gate-test, path: {root / 'htpasswd'}}}}}\n"
                )
            )
            bearer = stack.enter_context(
                serve_registry(
                    root,
                    storage,
                    f"auth: {{token: {{realm: '{realm}', service: {tokens.service}, issuer: {tokens.issuer}, "
                    f"rootcertbundle: {root / 'token.pem'}}}}}\n",
                )
            )
            yield AuthRegistries(open_reg, basic, bearer, tokens, username, password)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def base_behind_auth(
    base_archive: Path, tags: tuple[str, ...] = ("private/base:12",)
) -> Iterator[AuthRegistries]:
    """`auth_registries` holding the test bed's base image (its `docker save` archive) as each of
    `tags`. Registries that cannot start skip the test (fail it under CI, like every part of the
    test bed); what fails inside the `with` block fails the test."""
    with contextlib.ExitStack() as stack:
        try:
            registries = stack.enter_context(auth_registries())
            config, layers = read_docker_archive(base_archive)
            image = oci_image(config, layers)
            pusher = Pusher(registries.open)
            for tag in tags:
                repository, _, version = tag.rpartition(":")
                pusher.image(repository, version, image)
        except (RuntimeError, FileNotFoundError) as exc:
            unavailable(f"registries with authentication: {exc}")
        yield registries
