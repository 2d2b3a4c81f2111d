"""The Trivy runner with the REAL Trivy: exact findings from every image source, the version and DB
recorded, the DB age rule, and every way a run fails (each a one-line exit-3 error).

Scans run through `unshare -n` where it works (see `offline_trivy`), proving they need no network.
Stand-ins (tests/support/standins.py) are used only for what the real binary cannot be made to
do: report an old version, print garbage, truncate its output, crash.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from gate.errors import ExitCode, GateError, ImageError, ScannerError
from gate.image.source import SourceKind
from gate.run_wording import ACTION_WORDS, COMMAND_LINE_WORDS
from gate.scanners._process import PLATFORM_TOKENS
from gate.scanners.options import ScanOptions
from gate.scanners.trivy_runner import FIXED_FLAGS, run_trivy, trivy_command
from testbed.engine import Engine
from testbed.images import ArchiveImages
from tests.support.fixtures import TestbedImages, unavailable
from tests.support.registry_tools import (
    Pusher,
    base_behind_auth,
    oci_image,
    read_docker_archive,
    serve_registry,
)
from tests.support.scan_support import (
    NO_NETWORK,
    archive_target,
    assert_exact,
    engine_target,
    fresh_cache,
    fresh_db,
    offline_trivy,
    options,
    registry_target,
    row_of,
    trivy_server,
)
from tests.support.standins import CI_JOB_CREDENTIALS, trivy_standin
from tests.support.tls import PrivateCa

__all__ = ["fresh_cache"]  # the fixture, for this module


@pytest.fixture(scope="module")
def trivy(trivy_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return offline_trivy(tmp_path_factory.mktemp("trivy-wrapper"), trivy_bin)


def failure(target_options: ScanOptions, target_path: Path) -> GateError:
    with pytest.raises(GateError) as caught:
        run_trivy(archive_target(target_path), target_options)
    assert caught.value.exit_code == ExitCode.ERROR
    assert "\n" not in caught.value.diagnostics()
    return caught.value


# --- the command line -------------------------------------------------------------------------


def test_command_line_for_an_archive_is_pinned_and_offline(tmp_path: Path) -> None:
    opts = options(tmp_path / "cache", db_repositories=("mirror.example/trivy-db:2",), timeout=90.0)
    argv = trivy_command(Path("/bin/trivy"), archive_target(Path("rel/app.tar")), opts)
    assert argv == [
        "/bin/trivy", "image", *FIXED_FLAGS, "--timeout", "90000ms",
        "--cache-dir", str((tmp_path / "cache").resolve()),
        "--cache-backend", "memory",
        "--db-repository", "mirror.example/trivy-db:2",
        "--skip-db-update", "--skip-java-db-update", "--offline-scan",
        "--input", str(Path("rel/app.tar").resolve()),
    ]  # fmt: skip
    assert FIXED_FLAGS[:2] == ("--format", "json")
    for flag in ("--skip-version-check", "--disable-telemetry", "--list-all-pkgs", "--quiet"):
        assert flag in FIXED_FLAGS
    assert FIXED_FLAGS[FIXED_FLAGS.index("--config") + 1] == ""
    assert FIXED_FLAGS[FIXED_FLAGS.index("--ignorefile") + 1] == ""


def test_command_line_per_source_kind() -> None:
    opts = options(None, skip_db_update=False, trivy_server="http://trivy:4954")
    engine = trivy_command(Path("t"), engine_target("app:1", "unix:///run/d.sock"), opts)
    assert engine[-5:] == ["--image-src", "docker", "--docker-host", "unix:///run/d.sock", "app:1"]
    assert "--skip-db-update" not in engine
    assert "--cache-dir" not in engine
    # A Trivy server's cache holds the layers; the client has none to choose.
    assert "--cache-backend" not in engine
    assert engine[engine.index("--server") + 1] == "http://trivy:4954"
    registry = trivy_command(Path("t"), registry_target("127.0.0.1:5000/app:1"), opts)
    assert registry[-3:] == ["--image-src", "remote", "127.0.0.1:5000/app:1"]
    # Trivy's --insecure would also skip TLS verification of the DB download and of the server.
    assert "--insecure" not in registry
    oci = archive_target(Path("/x/app.oci.tar"), SourceKind.OCI_ARCHIVE)
    with_platform = trivy_command(
        Path("t"), oci.__class__(**{**oci.__dict__, "platform": "linux/arm64"}), opts
    )
    assert with_platform[-4:] == ["--platform", "linux/arm64", "--input", "/x/app.oci.tar"]


# --- real scans, every source kind --------------------------------------------------------------


@pytest.mark.parametrize("image", ["base", "app"])
def test_engine_saved_archive(
    image: str, trivy: Path, fresh_cache: Path, built_images: TestbedImages
) -> None:
    archive = built_images.base_archive if image == "base" else built_images.app_archive
    report = run_trivy(archive_target(archive), options(fresh_cache, trivy_bin=str(trivy)))
    assert_exact(image, map(row_of, report.findings))
    assert report.warnings == ()
    assert report.sources == (f"docker-archive:{archive}",)
    assert report.image is not None
    assert report.image.platform == "linux/amd64"


@pytest.mark.parametrize("image", ["base", "app"])
def test_engineless_archive(
    image: str, trivy: Path, fresh_cache: Path, engineless_archives: ArchiveImages
) -> None:
    archive = engineless_archives.base if image == "base" else engineless_archives.app
    report = run_trivy(archive_target(archive), options(fresh_cache, trivy_bin=str(trivy)))
    assert_exact(image, map(row_of, report.findings))
    assert all(finding.scanners == ("trivy",) for finding in report.findings)


def test_engine_reference(
    trivy: Path, fresh_cache: Path, built_images: TestbedImages, docker_engine: Engine
) -> None:
    target = engine_target(built_images.engine.app, docker_engine.host)
    report = run_trivy(target, options(fresh_cache, trivy_bin=str(trivy)))
    assert_exact("app", map(row_of, report.findings))


def test_registry_reference(trivy_bin: Path, fresh_cache: Path, built_images: TestbedImages) -> None:
    # The registry listens on the host's loopback: this scan cannot run in an empty namespace.
    # It speaks plain HTTP, which Trivy uses for a loopback registry without --insecure.
    report = run_trivy(
        registry_target(built_images.registry_app), options(fresh_cache, trivy_bin=str(trivy_bin))
    )
    assert_exact("app", map(row_of, report.findings))
    assert report.image is not None
    assert report.image.digest is not None


def test_a_registry_signed_by_the_gitlab_instances_ca_is_read(
    trivy_bin: Path,
    fresh_cache: Path,
    engineless_archives: ArchiveImages,
    private_ca: PrivateCa,
    tmp_path: Path,
) -> None:
    # A self-managed GitLab's registry has a certificate of its own CA (CI_SERVER_TLS_CA_FILE).
    # Trivy tries HTTPS first even on 127.0.0.1, so a registry there over TLS stands for it.
    storage = tmp_path / "storage"
    try:
        with (
            serve_registry(tmp_path, storage) as plain,
            serve_registry(tmp_path, storage, tls=private_ca.server_files) as secure,
        ):
            Pusher(plain).image("group/app", "1", oci_image(*read_docker_archive(engineless_archives.app)))
            target = registry_target(f"{secure}/group/app:1")
            env = {k: v for k, v in os.environ.items() if k != "TRIVY_CACERT"}
            untrusted = options(fresh_cache, trivy_bin=str(trivy_bin), env=env)
            with pytest.raises(GateError) as caught:
                run_trivy(target, untrusted)
            assert "certificate signed by unknown authority" in caught.value.diagnostics()
            trusted = replace(untrusted, registry_ca_file=str(private_ca.ca_file))
            assert_exact("app", map(row_of, run_trivy(target, trusted).findings))
    except (RuntimeError, FileNotFoundError) as exc:
        unavailable(f"a registry over HTTPS: {exc}")


def test_a_trivy_cacert_of_the_users_own_is_kept() -> None:
    opts = options(None, registry_ca_file="/builds/ci.crt", env={"TRIVY_CACERT": "/etc/corporate.pem"})
    assert "--cacert" not in trivy_command(Path("t"), registry_target("registry.example/app:1"), opts)
    mine = trivy_command(Path("t"), registry_target("registry.example/app:1"), replace(opts, env={}))
    assert mine[mine.index("--cacert") + 1] == "/builds/ci.crt"


def test_trivy_server_client_mode(
    trivy_bin: Path, fresh_cache: Path, engineless_archives: ArchiveImages
) -> None:
    metadata = json.loads((fresh_cache / "db" / "metadata.json").read_text())
    with trivy_server(trivy_bin, fresh_cache) as url:
        # The client has no DB of its own, and needs none: the server owns it.
        opts = options(None, skip_db_update=False, trivy_server=url, trivy_bin=str(trivy_bin))
        report = run_trivy(archive_target(engineless_archives.app), opts)
    assert_exact("app", map(row_of, report.findings))
    assert report.scanners[0].db_updated_at == metadata["UpdatedAt"]


def test_the_cache_dir_keeps_the_db_and_no_layers(
    trivy: Path, tmp_path: Path, engineless_archives: ArchiveImages
) -> None:
    # A CI cache saves the whole cache dir each job: it must hold the DB, which the next pipeline
    # reuses, and not an analysis of every layer of every image ever scanned.
    cache = fresh_db(tmp_path / "cache")
    db = {path: path.stat().st_mtime_ns for path in (cache / "db").iterdir()}
    for image in (engineless_archives.base, engineless_archives.app):
        run_trivy(archive_target(image), options(cache, trivy_bin=str(trivy)))
    kept = sorted(str(path.relative_to(cache)) for path in cache.rglob("*") if path.is_file())
    assert kept == ["db/metadata.json", "db/trivy.db"]
    assert {path: path.stat().st_mtime_ns for path in (cache / "db").iterdir()} == db


def test_unreachable_trivy_server(trivy_bin: Path, engineless_archives: ArchiveImages) -> None:
    opts = options(None, skip_db_update=False, trivy_server="http://127.0.0.1:9", trivy_bin=str(trivy_bin))
    error = failure(opts, engineless_archives.base)
    assert "Trivy could not use the Trivy server at http://127.0.0.1:9" in error.message
    assert "connection refused" in error.message


def test_the_password_in_a_trivy_server_url_is_never_shown(
    trivy_bin: Path, engineless_archives: ArchiveImages
) -> None:
    server = "http://ci:s3cret-pass-4954@127.0.0.1:9"  # nothing listens on port 9
    opts = options(None, skip_db_update=False, trivy_server=server, trivy_bin=str(trivy_bin))
    error = failure(opts, engineless_archives.base)
    assert "Trivy could not use the Trivy server at http://***@127.0.0.1:9" in error.message
    assert "s3cret" not in f"{error.diagnostics()} {error.hint} {error.detail}"


# --- what is recorded --------------------------------------------------------------------------


def test_version_and_db_build_time_are_recorded(
    trivy_bin: Path, trivy_db: Path, engineless_archives: ArchiveImages
) -> None:
    real = json.loads(
        subprocess.run([trivy_bin, "version", "--format", "json"], capture_output=True, check=True).stdout
    )
    metadata = json.loads((trivy_db / "db" / "metadata.json").read_text())
    report = run_trivy(archive_target(engineless_archives.base), options(trivy_db, trivy_bin=str(trivy_bin)))
    (scanner,) = report.scanners
    assert (scanner.name, scanner.version, scanner.db_updated_at, scanner.source) == (
        "trivy", real["Version"], metadata["UpdatedAt"], None,
    )  # fmt: skip


def test_old_db_is_a_warning(trivy_bin: Path, tmp_path: Path, engineless_archives: ArchiveImages) -> None:
    cache = fresh_db(tmp_path, age=dt.timedelta(days=10))
    report = run_trivy(archive_target(engineless_archives.base), options(cache, trivy_bin=str(trivy_bin)))
    (warning,) = report.warnings
    assert "Trivy's vulnerability DB is 10.0 days old" in warning
    assert "older than --max-db-age 5.0 days" in warning
    assert f"trivy image --download-db-only --cache-dir {cache}" in warning
    assert report.findings, "an old DB still gives a verdict"
    later = options(cache, trivy_bin=str(trivy_bin), max_db_age=dt.timedelta(days=11))
    assert run_trivy(archive_target(engineless_archives.base), later).warnings == ()


def test_old_db_is_an_error_when_strict(
    trivy_bin: Path, tmp_path: Path, engineless_archives: ArchiveImages
) -> None:
    cache = fresh_db(tmp_path, age=dt.timedelta(hours=40))
    opts = options(cache, trivy_bin=str(trivy_bin), max_db_age=dt.timedelta(hours=36), max_db_age_strict=True)
    error = failure(opts, engineless_archives.base)
    assert isinstance(error, ScannerError)
    assert error.message.startswith("Trivy's vulnerability DB is 40 hours old")


def test_config_files_in_the_working_directory_change_nothing(
    trivy_bin: Path,
    fresh_cache: Path,
    engineless_archives: ArchiveImages,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / ".trivyignore").write_text("CVE-2023-4911\n")
    (tmp_path / "trivy.yaml").write_text("severity: [CRITICAL]\n")
    monkeypatch.chdir(tmp_path)
    report = run_trivy(
        archive_target(engineless_archives.base), options(fresh_cache, trivy_bin=str(trivy_bin))
    )
    assert_exact("base", map(row_of, report.findings))


def test_trivy_settings_in_the_environment_change_nothing(
    trivy_bin: Path, fresh_cache: Path, engineless_archives: ArchiveImages
) -> None:
    # Each would drop findings if it reached Trivy; the gate's policy is where that is decided.
    env = {
        **os.environ,
        "TRIVY_SEVERITY": "CRITICAL",
        "TRIVY_IGNORE_UNFIXED": "true",
        "TRIVY_PKG_TYPES": "library",
    }
    report = run_trivy(
        archive_target(engineless_archives.base), options(fresh_cache, env=env, trivy_bin=str(trivy_bin))
    )
    assert_exact("base", map(row_of, report.findings))


# --- failures with the real Trivy ----------------------------------------------------------------


def test_missing_db_with_skip_db_update(
    trivy_bin: Path, tmp_path: Path, engineless_archives: ArchiveImages
) -> None:
    error = failure(options(tmp_path / "empty", trivy_bin=str(trivy_bin)), engineless_archives.base)
    assert error.message == (
        f"Trivy has no vulnerability DB in {tmp_path / 'empty'}, and --skip-db-update forbids downloading it"
    )
    assert f"trivy image --download-db-only --cache-dir {tmp_path / 'empty'}" in (error.hint or "")


def test_db_that_cannot_be_downloaded(
    trivy_bin: Path, tmp_path: Path, engineless_archives: ArchiveImages
) -> None:
    # Port 9 on loopback (discard) is closed: the download fails at once, as with no network.
    opts = options(
        tmp_path / "empty",
        skip_db_update=False,
        db_repositories=("127.0.0.1:9/trivy-db:2",),
        trivy_bin=str(trivy_bin),
    )
    error = failure(opts, engineless_archives.base)
    assert error.message.startswith(
        "Trivy could not download its vulnerability DB from 127.0.0.1:9/trivy-db:2: "
    )
    assert "connection refused" in error.message
    assert "--db-repository" in (error.hint or "")
    assert "--download-db-only" in (error.hint or "")
    assert error.detail
    assert "FATAL" in error.detail


@pytest.mark.skipif(not NO_NETWORK, reason="needs `unshare -n` (root, util-linux)")
def test_db_download_without_any_network(
    trivy_bin: Path, tmp_path: Path, engineless_archives: ArchiveImages
) -> None:
    opts = options(
        tmp_path / "empty", skip_db_update=False, trivy_bin=str(offline_trivy(tmp_path, trivy_bin))
    )
    error = failure(opts, engineless_archives.base)
    assert error.message.startswith(
        "Trivy could not download its vulnerability DB from Trivy's default DB repositories"
    )


def test_timeout(trivy_bin: Path, tmp_path: Path, engineless_archives: ArchiveImages) -> None:
    # A new cache: with the layers already analysed in a cache, Trivy finishes before it checks the time.
    cache = fresh_db(tmp_path)
    error = failure(options(cache, timeout=0.001, trivy_bin=str(trivy_bin)), engineless_archives.app)
    assert error.message.startswith("Trivy did not finish within --scan-timeout 0.001 s")
    assert error.hint
    assert "raise --scan-timeout" in error.hint


def test_image_not_in_the_engine(trivy_bin: Path, fresh_cache: Path, docker_engine: Engine) -> None:
    with pytest.raises(ImageError) as caught:
        run_trivy(
            engine_target("nosuch/image:1", docker_engine.host),
            options(fresh_cache, trivy_bin=str(trivy_bin)),
        )
    assert caught.value.message.startswith("Trivy could not find or read the image nosuch/image:1: ")
    assert "No such image" in caught.value.message


def test_image_not_in_the_registry(trivy_bin: Path, fresh_cache: Path, registry: object) -> None:
    reference = f"{registry.address}/nosuch/image:1"  # type: ignore[attr-defined]
    with pytest.raises(ImageError) as caught:
        run_trivy(registry_target(reference), options(fresh_cache, trivy_bin=str(trivy_bin)))
    assert "MANIFEST_UNKNOWN" in caught.value.message


def test_an_image_the_registry_refuses_says_how_the_run_gives_credentials(
    trivy_bin: Path, fresh_cache: Path, engineless_archives: ArchiveImages, tmp_path: Path
) -> None:
    # Trivy's own refusal (`UNAUTHORIZED: authentication required`): the hint is the one the
    # gate gives for its own reads, in the words of the run (here the action's inputs).
    with base_behind_auth(engineless_archives.base) as registries:
        registry = registries.basic
        target = registry_target(f"{registry}/private/base:12")
        env = {"HOME": str(tmp_path), "PATH": os.environ.get("PATH", "")}  # no Docker config
        action = (
            f"set the action's `registry` input to {registry}, with `registry-username` and "
            "`registry-password`"
        )
        for wording, said in ((COMMAND_LINE_WORDS, f"docker login {registry}"), (ACTION_WORDS, action)):
            with pytest.raises(ImageError) as caught:
                run_trivy(target, options(fresh_cache, trivy_bin=str(trivy_bin), env=env, wording=wording))
            assert caught.value.message.startswith(
                f"Trivy could not find or read the image {registry}/private/base:12: "
            )
            assert "UNAUTHORIZED" in caught.value.message
            assert caught.value.hint == f"the repository does not exist or needs credentials: {said}"


def test_engine_unreachable(trivy_bin: Path, fresh_cache: Path) -> None:
    with pytest.raises(ImageError) as caught:
        run_trivy(
            engine_target("app:1", "unix:///nonexistent/docker.sock"),
            options(fresh_cache, trivy_bin=str(trivy_bin)),
        )
    assert caught.value.message.startswith("Trivy cannot reach the Docker engine for app:1")
    assert caught.value.hint == "start the engine, or set DOCKER_HOST to its socket"


def test_unreadable_archive(trivy_bin: Path, fresh_cache: Path, tmp_path: Path) -> None:
    (tmp_path / "app.tar").write_bytes(b"not a tar file")
    with pytest.raises(ImageError) as caught:
        run_trivy(archive_target(tmp_path / "app.tar"), options(fresh_cache, trivy_bin=str(trivy_bin)))
    assert caught.value.message.startswith(
        f"Trivy could not find or read the image docker-archive:{tmp_path}/app.tar"
    )


def test_binary_missing(tmp_path: Path, engineless_archives: ArchiveImages) -> None:
    error = failure(options(None, trivy_bin=str(tmp_path / "trivy")), engineless_archives.base)
    assert error.message == f"trivy not found at {tmp_path / 'trivy'} (given by --trivy-bin)"
    assert error.hint
    assert "--trivy-bin" in error.hint
    assert "install Trivy 0.63.0 or later" in error.hint
    env = {**os.environ, "TRIVY_BIN": str(tmp_path / "nope")}
    error = failure(options(None, env=env), engineless_archives.base)
    assert error.message == f"trivy not found at {tmp_path / 'nope'} (given by TRIVY_BIN)"


def test_a_relative_trivy_bin_is_the_file_it_names(
    trivy_bin: Path, fresh_cache: Path, engineless_archives: ArchiveImages, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Trivy runs in an empty directory: `./trivy` must still be this file, not a `trivy` on PATH.
    monkeypatch.chdir(trivy_bin.parent)
    env = {**os.environ, "PATH": "/nonexistent"}
    opts = options(fresh_cache, env=env, trivy_bin=f"./{trivy_bin.name}")
    report = run_trivy(archive_target(engineless_archives.base), opts)
    assert_exact("base", map(row_of, report.findings))


def test_the_gates_own_tokens_and_the_jobs_are_not_handed_to_trivy(
    trivy_bin: Path, fresh_cache: Path, tmp_path: Path, engineless_archives: ArchiveImages
) -> None:
    registry_login = {"TRIVY_USERNAME": "ci", "TRIVY_PASSWORD": "pw"}  # kept: registries may need them
    standin = trivy_standin(
        tmp_path,
        trivy_bin,
        "ok",
        expect_env=registry_login,
        expect_unset=(*PLATFORM_TOKENS, *CI_JOB_CREDENTIALS),
    )
    env = {
        **os.environ,
        **registry_login,
        **dict.fromkeys((*PLATFORM_TOKENS, *CI_JOB_CREDENTIALS), "not-for-scanners"),
    }
    report = run_trivy(
        archive_target(engineless_archives.base), options(fresh_cache, env=env, trivy_bin=str(standin.path))
    )
    assert_exact("base", map(row_of, report.findings))
    assert [call["argv"][0] for call in standin.calls()].count("image") == 1


def test_trivy_bin_from_the_environment(
    trivy_bin: Path, fresh_cache: Path, engineless_archives: ArchiveImages
) -> None:
    env = {**os.environ, "TRIVY_BIN": str(trivy_bin), "PATH": "/nonexistent"}
    report = run_trivy(archive_target(engineless_archives.base), options(fresh_cache, env=env))
    assert_exact("base", map(row_of, report.findings))


# --- failures only a stand-in can show ---------------------------------------------------------------


def test_too_old_version(trivy_bin: Path, tmp_path: Path, engineless_archives: ArchiveImages) -> None:
    standin = trivy_standin(tmp_path, trivy_bin, "old-version")
    error = failure(options(None, trivy_bin=str(standin.path)), engineless_archives.base)
    assert error.message == (
        f"Trivy 0.49.1 at {standin.path} is not supported: container-gate needs Trivy 0.63.0 or later"
    )
    assert "version" in [call["argv"][0] for call in standin.calls()]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("garbage", "Trivy exited 0 but its output is not a usable report: Trivy's report on "),
        ("truncated", "Trivy exited 0 but its output is not a usable report: Trivy's report on "),
        ("crash", "Trivy failed (killed by SIGSEGV): no error output"),
    ],
)
def test_broken_output(
    mode: str,
    expected: str,
    trivy_bin: Path,
    fresh_cache: Path,
    tmp_path: Path,
    engineless_archives: ArchiveImages,
) -> None:
    standin = trivy_standin(tmp_path, trivy_bin, mode)
    error = failure(options(fresh_cache, trivy_bin=str(standin.path)), engineless_archives.app)
    assert error.message.startswith(expected)
    if mode == "truncated":
        assert "looks truncated" in error.message
    if mode == "garbage":
        assert "not valid JSON" in error.message
