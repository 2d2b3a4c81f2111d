"""`data fetch` against a local HTTP server serving the real KEV catalog and EPSS excerpt: what is
stored and recorded, retries, redirects, and every way a download can fail without harming the
data stored before."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gate.enrich.epss import read_epss
from gate.enrich.fetch import RECORD_NAME, DownloadError, FetchResult, fetch_exploit_data
from gate.enrich.kev import read_kev
from gate.errors import ExitCode, UsageError
from tests.support.corpus import corpus_file
from tests.support.data_server import DataServer, Reply, running_server, unused_url

KEV_BYTES = corpus_file("kev", "known_exploited_vulnerabilities-2026.08.07.json").read_bytes()
EPSS_GZ = corpus_file("epss", "excerpt.csv.gz").read_bytes()
EPSS_CSV = corpus_file("epss", "excerpt.csv").read_bytes()
NOW = datetime(2026, 9, 30, 6, 0, tzinfo=UTC)
KEV_PATH = "/feeds/known_exploited_vulnerabilities.json"
EPSS_PATH = "/epss_scores-current.csv.gz"

KEV_OK = Reply(200, KEV_BYTES, "application/json")
EMPTY_KEV = json.dumps(
    {
        "catalogVersion": "2026.08.08",
        "dateReleased": "2026-08-08T16:00:00Z",
        "count": 0,
        "vulnerabilities": [],
    }
).encode()
EPSS_OK = Reply(200, EPSS_GZ, "application/gzip")


@pytest.fixture
def server() -> Iterator[DataServer]:
    yield from running_server()


class Sleeps(list[float]):
    """The waits the fetch asked for, instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fetch(
    server: DataServer, out: Path, sleeps: Sleeps | None = None, *, retries: int = 3, timeout: float = 60.0
) -> FetchResult:
    return fetch_exploit_data(
        out,
        kev_url=server.url(KEV_PATH),
        epss_url=server.url(EPSS_PATH),
        now=NOW,
        sleep=sleeps if sleeps is not None else Sleeps(),
        retries=retries,
        timeout=timeout,
    )


def stored(out: Path) -> dict[str, bytes]:
    """Every file of the output directory (temporary ones included) and its bytes."""
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def test_both_files_are_stored_as_served_and_recorded(server: DataServer, tmp_path: Path) -> None:
    server.serve(KEV_PATH, KEV_OK)
    server.serve(EPSS_PATH, EPSS_OK)
    result = fetch_exploit_data(
        tmp_path / "data", kev_url=server.url(KEV_PATH), epss_url=server.url(EPSS_PATH), now=NOW
    )
    out = tmp_path / "data"
    assert stored(out) == {
        "epss.csv.gz": EPSS_GZ,
        "exploit-data.json": (out / RECORD_NAME).read_bytes(),
        "kev.json": KEV_BYTES,
    }
    assert result.kev.path == out / "kev.json"
    assert result.epss.path == out / "epss.csv.gz"
    assert (result.kev_catalog_version, result.epss_model_version) == ("2026.08.07", "v2026.06.15")
    assert result.warnings == ()
    record = json.loads((out / RECORD_NAME).read_text(encoding="utf-8"))
    assert record == {
        "schema": "container-gate/exploit-data/v1",
        "fetched_at": "2026-09-30T06:00:00Z",
        "kev": {
            "url": server.url(KEV_PATH),
            "final_url": server.url(KEV_PATH),
            "file": "kev.json",
            "sha256": hashlib.sha256(KEV_BYTES).hexdigest(),
            "size": 1_417_615,
            "catalog_version": "2026.08.07",
            "date_released": "2026-08-07T16:45:47.064800Z",
        },
        "epss": {
            "url": server.url(EPSS_PATH),
            "final_url": server.url(EPSS_PATH),
            "file": "epss.csv.gz",
            "sha256": hashlib.sha256(EPSS_GZ).hexdigest(),
            "size": len(EPSS_GZ),
            "model_version": "v2026.06.15",
            "score_date": "2026-09-29T12:00:22Z",
        },
    }
    # What was stored reads as the originals do.
    assert read_kev(result.kev.path).entries == read_kev(corpus_file("kev", ".json")).entries
    assert read_epss(result.epss.path).scores == read_epss(corpus_file("epss", ".csv")).scores


def test_a_redirect_to_the_dated_file_is_followed_and_recorded(server: DataServer, tmp_path: Path) -> None:
    dated = "/epss_scores-2026-09-29.csv.gz"
    server.serve(KEV_PATH, KEV_OK)
    server.serve(EPSS_PATH, Reply(302, b"", "text/html", (("Location", dated),)))
    server.serve(dated, EPSS_OK)
    result = fetch(server, tmp_path)
    assert result.epss.url == server.url(EPSS_PATH)
    assert result.epss.final_url == server.url(dated)
    assert json.loads((tmp_path / RECORD_NAME).read_bytes())["epss"]["final_url"] == server.url(dated)


def test_a_plain_csv_mirror_is_stored_as_csv(server: DataServer, tmp_path: Path) -> None:
    server.serve(KEV_PATH, KEV_OK)
    server.serve(EPSS_PATH, Reply(200, EPSS_CSV, "text/csv; charset=utf-8"))
    fetch(server, tmp_path)
    assert (tmp_path / "epss.csv").read_bytes() == EPSS_CSV
    assert json.loads((tmp_path / RECORD_NAME).read_bytes())["epss"]["file"] == "epss.csv"


@pytest.mark.parametrize("content_type", ["application/gzip", "application/x-gzip"])
def test_a_gzip_kev_mirror_is_stored_as_gzip_and_read_back(
    server: DataServer, tmp_path: Path, content_type: str
) -> None:
    kev_gz = gzip.compress(KEV_BYTES)
    server.serve(KEV_PATH, Reply(200, kev_gz, content_type))
    server.serve(EPSS_PATH, EPSS_OK)
    result = fetch(server, tmp_path)
    assert (tmp_path / "kev.json.gz").read_bytes() == kev_gz
    assert not (tmp_path / "kev.json").exists()
    assert result.kev_catalog_version == "2026.08.07"
    assert read_kev(tmp_path / "kev.json.gz").catalog_version == "2026.08.07"


def test_an_epss_mirror_without_the_date_line_is_stored_with_a_warning(
    server: DataServer, tmp_path: Path
) -> None:
    server.serve(KEV_PATH, KEV_OK)
    server.serve(EPSS_PATH, Reply(200, EPSS_CSV.split(b"\n", 1)[1], "text/csv"))
    result = fetch(server, tmp_path)
    assert result.warnings == (
        f"{server.url(EPSS_PATH)} has no '#model_version:...,score_date:...' line: the EPSS score date is "
        "unknown, so its age cannot be checked",
    )
    record = json.loads((tmp_path / RECORD_NAME).read_bytes())
    assert (record["epss"]["model_version"], record["epss"]["score_date"]) == (None, None)


def test_a_5xx_is_retried_after_a_backoff_and_retry_after_is_honoured(
    server: DataServer, tmp_path: Path
) -> None:
    server.serve(KEV_PATH, Reply(503, b"busy", "text/plain"), Reply(502, b"", "text/plain"), KEV_OK)
    server.serve(EPSS_PATH, Reply(429, b"slow down", "text/plain", (("Retry-After", "7"),)), EPSS_OK)
    sleeps = Sleeps()
    fetch(server, tmp_path, sleeps)
    assert (server.asked(KEV_PATH), server.asked(EPSS_PATH)) == (3, 2)
    assert sleeps == [1.0, 2.0, 7.0]
    assert (tmp_path / "kev.json").read_bytes() == KEV_BYTES


def test_a_persistent_5xx_is_an_exit_3_error_naming_the_url_and_status(
    server: DataServer, tmp_path: Path
) -> None:
    server.serve(KEV_PATH, Reply(503, b"<html>down</html>", "text/html"))
    sleeps = Sleeps()
    with pytest.raises(DownloadError) as caught:
        fetch(server, tmp_path, sleeps, retries=3)
    assert caught.value.exit_code == ExitCode.ERROR
    assert (
        caught.value.diagnostics()
        == f"{server.url(KEV_PATH)}: HTTP 503 Service Unavailable (after 4 attempts)"
    )
    assert sleeps == [1.0, 2.0, 4.0]
    assert server.asked(EPSS_PATH) == 0


def test_a_retry_after_longer_than_a_minute_ends_the_retries_at_once(
    server: DataServer, tmp_path: Path
) -> None:
    server.serve(KEV_PATH, Reply(429, b"", "text/plain", (("Retry-After", "3600"),)), KEV_OK)
    sleeps = Sleeps()
    with pytest.raises(
        DownloadError, match=r"HTTP 429 Too Many Requests; the server asks to retry after 3600 s"
    ):
        fetch(server, tmp_path, sleeps)
    assert sleeps == []


def test_an_html_page_is_refused_without_retrying(server: DataServer, tmp_path: Path) -> None:
    page = b"<!DOCTYPE html><html><body>Access Denied</body></html>"
    server.serve(KEV_PATH, Reply(200, page, "text/html; charset=UTF-8"))
    with pytest.raises(DownloadError) as caught:
        fetch(server, tmp_path)
    assert caught.value.diagnostics() == (
        f"{server.url(KEV_PATH)}: unexpected content type text/html (expected one of: application/gzip, "
        "application/json, application/octet-stream, application/x-gzip, binary/octet-stream, text/json, "
        "text/plain)"
    )
    assert server.asked(KEV_PATH) == 1


def test_a_404_is_not_retried(server: DataServer, tmp_path: Path) -> None:
    with pytest.raises(
        DownloadError, match=r"/feeds/known_exploited_vulnerabilities\.json: HTTP 404 Not Found$"
    ):
        fetch(server, tmp_path)
    assert server.asked(KEV_PATH) == 1


def test_a_truncated_body_is_retried_then_reported_with_what_arrived(
    server: DataServer, tmp_path: Path
) -> None:
    cut = Reply(200, KEV_BYTES[:100_000], "application/json", length=len(KEV_BYTES))
    server.serve(KEV_PATH, cut, KEV_OK)
    server.serve(EPSS_PATH, EPSS_OK)
    fetch(server, tmp_path)
    assert server.asked(KEV_PATH) == 2
    assert (tmp_path / "kev.json").read_bytes() == KEV_BYTES

    server.serve(KEV_PATH, cut)
    with pytest.raises(DownloadError) as caught:
        fetch(server, tmp_path, retries=1)
    message = caught.value.diagnostics()
    assert (
        message == f"{server.url(KEV_PATH)}: truncated: received 100000 of 1417615 bytes (after 2 attempts)"
    )


def test_no_answer_in_time_is_a_timeout(server: DataServer, tmp_path: Path) -> None:
    server.serve(KEV_PATH, Reply(200, KEV_BYTES, "application/json", delay=1.0))
    with pytest.raises(DownloadError) as caught:
        fetch(server, tmp_path, timeout=0.2, retries=0)
    assert caught.value.diagnostics() == f"{server.url(KEV_PATH)}: no answer within 0.2 s (after 1 attempt)"


def test_nothing_listening_is_an_error_naming_the_url(tmp_path: Path) -> None:
    url = unused_url(KEV_PATH)
    with pytest.raises(DownloadError) as caught:
        fetch_exploit_data(tmp_path, kev_url=url, epss_url=url, now=NOW, retries=0, sleep=Sleeps())
    message = caught.value.diagnostics()
    assert message.startswith(f"{url}: cannot connect (")
    assert "Connection refused" in message
    assert message.endswith("(after 1 attempt)")


def test_a_url_that_is_not_http_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        fetch_exploit_data(tmp_path, kev_url="file:///etc/passwd", now=NOW)
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.diagnostics() == "file:///etc/passwd: expected an http(s) URL"


@pytest.mark.parametrize(
    ("kev", "epss", "problem"),
    [
        (
            Reply(200, KEV_BYTES[:50_000], "application/json"),  # cut short, but as announced
            EPSS_OK,
            "{kev}: the download is not valid: line 484 column 16: not valid JSON (Unterminated string",
        ),
        (
            Reply(200, EMPTY_KEV, "application/json"),  # whole and valid JSON, but lists nothing
            EPSS_OK,
            "{kev}: the download is not valid: vulnerabilities: empty",
        ),
        (
            KEV_OK,
            Reply(200, EPSS_GZ[:-30], "application/gzip"),  # a gzip stream without its end
            "{epss}: the download is not valid: truncated or corrupt gzip data",
        ),
        (KEV_OK, Reply(500, b"", "text/plain"), "{epss}: HTTP 500 Internal Server Error (after 2 attempts)"),
        (KEV_OK, Reply(200, b"<html></html>", "text/html"), "{epss}: unexpected content type text/html"),
    ],
    ids=["bad KEV", "empty KEV", "bad EPSS", "EPSS 5xx", "EPSS as HTML"],
)
def test_a_failed_fetch_leaves_the_earlier_files_and_record_untouched(
    server: DataServer, tmp_path: Path, kev: Reply, epss: Reply, problem: str
) -> None:
    server.serve(KEV_PATH, KEV_OK)
    server.serve(EPSS_PATH, EPSS_OK)
    fetch(server, tmp_path)
    before = stored(tmp_path)
    assert set(before) == {"kev.json", "epss.csv.gz", RECORD_NAME}

    server.serve(KEV_PATH, kev)
    server.serve(EPSS_PATH, epss)
    with pytest.raises(DownloadError) as caught:
        fetch(server, tmp_path, retries=1)
    assert caught.value.diagnostics().startswith(
        problem.format(kev=server.url(KEV_PATH), epss=server.url(EPSS_PATH))
    )
    assert stored(tmp_path) == before  # same files, same bytes, no temporary file left behind


def with_credentials(url: str, userinfo: str = "user:p%40SECRET") -> str:
    return url.replace("http://", f"http://{userinfo}@", 1)


def test_credentials_in_the_url_are_sent_as_basic_auth_and_hidden_in_the_record(
    server: DataServer, tmp_path: Path
) -> None:
    dated = "/epss_scores-2026-09-29.csv.gz"
    server.serve(KEV_PATH, KEV_OK)
    server.serve(EPSS_PATH + "?token=T0KEN&day=1", Reply(302, b"", "text/html", (("Location", dated),)))
    server.serve(dated, EPSS_OK)
    result = fetch_exploit_data(
        tmp_path,
        kev_url=with_credentials(server.url(KEV_PATH)),
        epss_url=with_credentials(server.url(EPSS_PATH) + "?token=T0KEN&day=1"),
        now=NOW,
        sleep=Sleeps(),
    )
    basic = "Basic " + base64.b64encode(b"user:p@SECRET").decode("ascii")
    # The redirect stays on the same host and port: the credentials follow it.
    assert server.authorizations == [basic, basic, basic]
    assert server.requests[1] == EPSS_PATH + "?token=T0KEN&day=1"
    hidden = server.url(KEV_PATH).replace("http://", "http://***@")
    # The URL that answered was asked for without them: they went in the header.
    assert (result.kev.url, result.kev.final_url) == (hidden, server.url(KEV_PATH))
    assert result.epss.url == server.url(EPSS_PATH).replace("http://", "http://***@") + "?token=***&day=1"
    assert result.epss.final_url == server.url(dated)
    record = (tmp_path / RECORD_NAME).read_text(encoding="utf-8")
    assert json.loads(record)["kev"]["url"] == hidden
    for secret in ("SECRET", "T0KEN", "user"):
        assert secret not in record


def test_a_redirect_to_another_origin_does_not_carry_the_credentials(
    server: DataServer, tmp_path: Path
) -> None:
    other = DataServer()
    other.thread.start()
    try:
        server.serve(KEV_PATH, Reply(302, b"", "text/html", (("Location", other.url(KEV_PATH)),)))
        other.serve(KEV_PATH, KEV_OK)
        server.serve(EPSS_PATH, EPSS_OK)
        result = fetch_exploit_data(
            tmp_path,
            kev_url=with_credentials(server.url(KEV_PATH)),
            epss_url=server.url(EPSS_PATH),
            now=NOW,
            sleep=Sleeps(),
        )
        assert server.authorizations[0] is not None
        assert other.authorizations == [None]  # another port of 127.0.0.1 is another origin
        assert result.kev.final_url == other.url(KEV_PATH)
    finally:
        other.httpd.shutdown()
        other.httpd.server_close()


def test_a_failed_download_names_the_url_with_its_credentials_hidden(
    server: DataServer, tmp_path: Path
) -> None:
    server.serve(KEV_PATH + "?access_token=T0KEN", Reply(503, b"busy", "text/plain"))
    url = with_credentials(server.url(KEV_PATH) + "?access_token=T0KEN")
    with pytest.raises(DownloadError) as caught:
        fetch_exploit_data(tmp_path, kev_url=url, epss_url=url, now=NOW, retries=0, sleep=Sleeps())
    shown = server.url(KEV_PATH).replace("http://", "http://***@") + "?access_token=***"
    assert caught.value.diagnostics() == f"{shown}: HTTP 503 Service Unavailable (after 1 attempt)"


@pytest.mark.parametrize(
    "url",
    [
        "http://user:SECRET@127.0.0.1:99999/k",
        "http://user:SECRET@[::1/k",
        "http://user:SECRET@/k",
        "ftp://user:SECRET@127.0.0.1/k",
    ],
    ids=["port", "ipv6", "no-host", "ftp"],
)
def test_a_url_requests_cannot_send_is_a_usage_error_with_its_credentials_hidden(
    tmp_path: Path, url: str
) -> None:
    with pytest.raises(UsageError) as caught:
        fetch_exploit_data(tmp_path / "data", kev_url=url, now=NOW)
    assert caught.value.diagnostics() == url.replace("user:SECRET", "***") + ": expected an http(s) URL"
    assert not (tmp_path / "data").exists()


def test_a_failed_fetch_removes_the_directories_it_created(server: DataServer, tmp_path: Path) -> None:
    server.serve(KEV_PATH, KEV_OK)
    server.serve(EPSS_PATH, Reply(200, b"<html></html>", "text/html"))
    with pytest.raises(DownloadError):
        fetch(server, tmp_path / "cache" / "exploit-data")
    assert list(tmp_path.iterdir()) == []
    # An existing directory stays, empty as it was.
    (tmp_path / "kept").mkdir()
    with pytest.raises(DownloadError):
        fetch(server, tmp_path / "kept")
    assert list((tmp_path / "kept").iterdir()) == []
