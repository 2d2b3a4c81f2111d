"""The GitLab template's `baseline-ref`: fetch the decision report the same job kept on another ref
(the default branch), through the job artifacts API with the job's own `CI_JOB_TOKEN`.

`python -m gate.platforms.gitlab_baseline REF OUT` downloads
`GET /projects/:id/jobs/artifacts/:ref_name/raw/container-gate.json?job=<this job's name>`
(doc/api/job_artifacts.md, "Download a single artifact file from specific tag or branch") to OUT.
It never fails the job: the API answers 404 when the last pipeline of that ref skipped the job or
its artifacts expired, and then, as on any other failure, it prints a warning and leaves no file,
so the gate says "baseline not used, the full policy applies" in every output. The token goes in
the `JOB-TOKEN` header only, and never to another origin (scheme, host and port): a redirect
(GitLab.com sends artifact downloads to its CDN) is followed without it, at every hop, since
requests re-sends a custom header to whatever host a redirect names.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote, urljoin, urlsplit

import requests

from gate.image.tls import connection_failure, trust_also
from gate.platforms._http import tls_error
from gate.platforms.gitlab_api import TLS_CA_VARIABLE, TLS_HINT
from gate.untrusted import terminal_safe

ARTIFACT = "container-gate.json"
"""The decision report's name in the job's artifacts (the template writes it)."""

TIMEOUT = 30
"""Seconds for each request."""

MAX_REDIRECTS = 5
"""Redirects followed before the download is given up (GitLab.com needs one, to its CDN)."""


def artifact_url(api_url: str, project_id: str, ref: str, artifact: str = ARTIFACT) -> str:
    """The single-file artifact URL of `ref` (every part URL-encoded, the ref's slashes too)."""
    return (
        f"{api_url.rstrip('/')}/projects/{quote(project_id, safe='')}/jobs/artifacts/"
        f"{quote(ref, safe='')}/raw/{quote(artifact)}"
    )


def fetch_baseline(
    env: Mapping[str, str], ref: str, out: Path, session: requests.Session | None = None
) -> str | None:
    """Download the decision report of this job on `ref` to `out`; the warning to print when it
    could not be, else None."""
    http = session or requests.Session()
    trust_also(http, env.get(TLS_CA_VARIABLE))
    job = env.get("CI_JOB_NAME", "")
    needed = ("CI_API_V4_URL", "CI_PROJECT_ID", "CI_JOB_TOKEN", "CI_JOB_NAME")
    missing = [name for name in needed if not env.get(name)]
    if missing:
        return f"no baseline: {', '.join(missing)} not set (is this a GitLab CI job?)"
    if not (env["CI_JOB_TOKEN"].isascii() and env["CI_JOB_TOKEN"].isprintable()):
        # A header cannot carry it: the HTTP library would fail with an error that quotes it.
        return "no baseline: CI_JOB_TOKEN holds characters an HTTP header cannot carry"
    url = artifact_url(env["CI_API_V4_URL"], env["CI_PROJECT_ID"], ref)
    where = f"{ARTIFACT} of job {job!r} on {ref}"
    try:
        response = _get(http, url, {"job": job}, env["CI_JOB_TOKEN"])
    except requests.RequestException as exc:
        if isinstance(exc, requests.exceptions.SSLError):
            said = tls_error(
                exc,
                getattr(exc.request, "url", None) or url,
                platform="GitLab",
                url_variable="CI_API_V4_URL",
                hint=TLS_HINT,
            )
        elif isinstance(exc, requests.Timeout):
            said = "timed out"
        elif isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            said = connection_failure(exc)
        else:
            # Another error's text may quote the URL or a header, the token among them.
            said = type(exc).__name__
        return f"no baseline: cannot reach GitLab for the {where} ({said})"
    if response.status_code == 404:
        return (
            f"no baseline: GitLab has no {where} (404: the last pipeline of {ref} skipped the job, "
            "failed, or its artifacts expired); the gate runs with the full policy"
        )
    if response.status_code != 200:
        return f"no baseline: GitLab answered {response.status_code} for the {where}"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(response.content)
    return None


def _get(http: requests.Session, url: str, params: dict[str, str], token: str) -> requests.Response:
    """GET `url`, following redirects one at a time: the token goes only to the API's own origin,
    so a CDN (or any host a later redirect names) gets the signed URL alone."""
    origin = urlsplit(url)[:2]
    query: dict[str, str] | None = params
    for _hop in range(MAX_REDIRECTS + 1):
        headers = {"JOB-TOKEN": token} if urlsplit(url)[:2] == origin else {}
        response = http.get(url, params=query, headers=headers, timeout=TIMEOUT, allow_redirects=False)
        if not (response.is_redirect and "location" in response.headers):
            return response
        url, query = urljoin(url, response.headers["location"]), None
    raise requests.TooManyRedirects


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """`python -m gate.platforms.gitlab_baseline REF OUT`: always exit 0 (see the module doc)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m gate.platforms.gitlab_baseline REF OUT", file=sys.stderr)
        return 2
    ref, out = args[0], Path(args[1])
    out.unlink(missing_ok=True)  # never a stale baseline from an earlier job on a shell runner
    warning = fetch_baseline(os.environ if env is None else env, ref, out)
    # The ref and the path are the job's variables, shown as every message shows text it did not
    # write: no escape sequence, bidi override or line break reaches the job's log.
    if warning is not None:
        print(f"container-gate: warning: {terminal_safe(warning)}", file=sys.stderr)
    else:
        print(
            f"container-gate: baseline: {ARTIFACT} of {terminal_safe(ref)} fetched to {terminal_safe(str(out))}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":  # pragma: no cover - the template runs it
    sys.exit(main())
