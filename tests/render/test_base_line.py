"""The base image check's line near the top of the terminal and Markdown summaries, in the SARIF
run's properties and the GitLab report's `scan.messages`, and its JSON object."""

from __future__ import annotations

import datetime as dt
import json
import re
from xml.etree import ElementTree

import pytest

from gate.image.base_image import BaseCheck, BaseImageState
from gate.model import Finding, ImageInfo, Layer, LayerOrigin, Severity
from gate.policy.evaluate import evaluate
from gate.policy.evaluation import Evaluation
from gate.policy.inputs import EvaluationInputs
from gate.policy.model import Policy
from gate.render.gitlab import GitLabReportOptions, render_gitlab
from gate.render.json import render_json
from gate.render.junit import render_junit
from gate.render.markdown import render_markdown
from gate.render.sarif import render_sarif
from gate.render.terminal import render_terminal
from tests.support.factories import NOW, finding, report
from tests.support.markdown_html import inert_problems, to_html
from tests.support.repo_paths import PROJECT_ROOT

BASE = Layer(diff_id="sha256:" + "1" * 64, index=0, origin=LayerOrigin.BASE)
OWN = Layer(diff_id="sha256:" + "2" * 64, index=1, origin=LayerOrigin.OWN)
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def state(digest: str, created: str, layers: tuple[str, ...]) -> BaseImageState:
    return BaseImageState(f"reg.example/base@sha256:{digest * 64}", f"sha256:{digest * 64}", created, layers)


USED = state("a", "2024-01-10T00:00:00Z", (BASE.diff_id or "",))
NEWER = state("b", "2024-02-26T13:00:00Z", ("sha256:" + "3" * 64,))


def findings() -> list[Finding]:
    return [
        finding("CVE-2024-1", pkg="libc6", severity=Severity.CRITICAL, layer=BASE),
        finding("CVE-2024-2", pkg="libc6", severity=Severity.HIGH, layer=BASE),
        finding("CVE-2024-3", pkg="tar", severity=Severity.LOW, layer=BASE),
        finding("CVE-2024-4", pkg="zlib1g", severity=Severity.HIGH, layer=BASE),  # still in the new base
        finding("CVE-2024-5", pkg="curl", severity=Severity.HIGH, layer=OWN),
    ]


def evaluated(check: BaseCheck) -> Evaluation:
    return evaluate(
        report(*findings()), Policy(source="policy.yaml"), NOW, EvaluationInputs(base_check=check)
    )


def stale_check() -> BaseCheck:
    removed = tuple(findings()[:3])
    return BaseCheck(True, name="reg.example/base:12", used=USED, current=NEWER, removed=removed)


def test_a_stale_base_is_one_line_with_what_a_rebuild_removes() -> None:
    ev = evaluated(stale_check())
    status = ev.base_image
    assert status is not None
    assert (status.stale, status.behind_days, status.removes.findings, status.removes.blocking) == (
        True,
        47,
        3,
        2,
    )
    assert list(status.removes.by_severity.items()) == [
        (Severity.CRITICAL, 1),
        (Severity.HIGH, 1),
        (Severity.LOW, 1),
    ]
    line = (
        "stale base `reg.example/base:12` is 47 days behind its tag (built 2024-01-10, tag now 2024-02-26); "
        "rebuilding on it removes 3 findings (2 blocking; 1 CRITICAL, 1 HIGH, 1 LOW)"
    )
    assert render_terminal(ev).splitlines()[2] == line
    markdown = render_markdown(ev)
    paragraphs = markdown.split("\n\n")
    assert paragraphs[2].startswith("stale base `reg.example/base:12` is 47 days behind its tag")
    doc = json.loads(render_json(ev))
    assert doc["base_image"]["rebuild_removes"] == {
        "findings": 3,
        "blocking": 2,
        "by_severity": {"CRITICAL": 1, "HIGH": 1, "LOW": 1},
    }
    # The check changes no finding's disposition and no verdict by itself.
    assert ev.verdict == evaluate(report(*findings()), Policy(source="policy.yaml"), NOW).verdict


def junit_property(ev: Evaluation) -> str | None:
    """The JUnit suite's `base_image` property."""
    suite = ElementTree.fromstring(render_junit(ev)).find("testsuite")  # noqa: S314 - our own output
    assert suite is not None
    found = [p.get("value") for p in suite.iter("property") if p.get("name") == "base_image"]
    assert len(found) <= 1
    return found[0] if found else None


def other_outputs(ev: Evaluation) -> tuple[object, list[tuple[str, str]]]:
    """The SARIF run's `baseImageCheck` and the GitLab report's `scan.messages` as (level, text)."""
    sarif = json.loads(render_sarif(ev))["runs"][0]["properties"].get("baseImageCheck")
    when = dt.datetime(2026, 3, 14, tzinfo=dt.UTC)
    gitlab = json.loads(render_gitlab(ev, GitLabReportOptions(start_time=when, end_time=when)))
    return sarif, [(m["level"], m["value"]) for m in gitlab["scan"]["messages"]]


@pytest.mark.parametrize("kind", ["stale", "current", "not checked"])
def test_sarif_gitlab_and_junit_say_what_the_summaries_say(kind: str) -> None:
    checks = {
        "stale": stale_check(),
        "current": BaseCheck(True, name="reg.example/base:12", used=USED, current=USED),
        "not checked": BaseCheck(
            False, name="reg.example/base:12", reason="cannot reach registry reg.example"
        ),
    }
    ev = evaluated(checks[kind])
    line = render_terminal(ev).splitlines()[2]
    assert line.startswith(("stale base `reg.example/base:12`", "base `reg.example/base:12`"))
    sarif, messages = other_outputs(ev)
    assert sarif == junit_property(ev) == line
    if kind == "not checked":
        # The reason is a warning of the report, which every output lists already.
        assert not any("reg.example/base:12" in text for _, text in messages)
    else:
        assert (("warn" if kind == "stale" else "info"), line) in messages
    # Without the check, neither output has anything to say about it.
    plain = evaluate(report(*findings()), Policy(source="policy.yaml"), NOW)
    assert other_outputs(plain) == (None, other_outputs(plain)[1])
    assert not any("base `" in text for _, text in other_outputs(plain)[1])
    assert junit_property(plain) is None


def test_a_base_within_its_age_is_not_stale_and_the_same_layers_are_not_behind() -> None:
    from gate.policy.base_status import judge_base

    status = judge_base(stale_check(), [], max_age_days=47)
    assert (status.stale, status.behind_days) == (False, 47)
    assert judge_base(stale_check(), [], max_age_days=46).stale
    same = BaseCheck(
        True, name="reg.example/base:12", used=USED, current=state("c", "2025-01-01T00:00:00Z", USED.diff_ids)
    )
    ev = evaluated(same)
    assert ev.base_image is not None
    assert (ev.base_image.stale, ev.base_image.behind_days, ev.base_image.removes.findings) == (False, 0, 0)
    assert render_terminal(ev).splitlines()[2] == (
        "base `reg.example/base:12` is current: its tag still points to the image this one was built on (built 2024-01-10)"
    )


def test_one_day_and_unknown_dates() -> None:
    current = state("b", "2024-01-11T00:00:00Z", NEWER.diff_ids)
    one = BaseCheck(True, name="b:1", used=USED, current=current, removed=(findings()[0],))
    assert "is 1 day behind its tag" in render_terminal(evaluated(one))
    assert "removes 1 finding (1 blocking; 1 CRITICAL)" in render_terminal(evaluated(one))
    undated = BaseCheck(True, name="b:1", used=USED, current=state("b", "", NEWER.diff_ids))
    line = render_terminal(evaluated(undated)).splitlines()[2]
    assert (
        line
        == "stale base `b:1` is behind its tag (built 2024-01-10, tag now on an unknown date); rebuilding on it removes 0 findings"
    )


@pytest.mark.parametrize("text", ["\x1b[2J\x1b]0;pwned\x07", "abc\u202edcba", "a\nb", "<b>@team #1 `x` | y"])
def test_report_text_in_the_line_is_escaped(text: str) -> None:
    check = BaseCheck(False, name=f"reg.example/base{text}:12", reason=f"registry said {text}")
    ev = evaluated(check)
    terminal = render_terminal(ev)
    assert not UNSAFE.search(terminal)
    assert "not checked: registry said" in terminal
    html = to_html(render_markdown(ev))
    assert inert_problems(html, allowed_links=set(re.findall(r'href="([^"]+)"', html))) == []
    assert json.loads(render_json(ev))["base_image"]["reason"] == f"registry said {text}"


def test_an_upgrade_in_the_base_image_is_not_named_after_its_package() -> None:
    from gate.render._markdown_actions import where_cell
    from gate.render.remediation import where_words

    kept = finding("CVE-2024-4", pkg="zlib1g", severity=Severity.HIGH, layer=BASE)
    ev = evaluate(
        report(*findings(), image=ImageInfo("app:1", base_image="reg.example/base:12")),
        Policy(source="policy.yaml"),
        NOW,
        EvaluationInputs(base_check=stale_check()),
    )
    upgrade = ev.plan.action_of(kept)
    assert upgrade is not None
    assert where_words(upgrade) == "base image"
    refresh = ev.plan.by_id["base-refresh"]
    assert where_words(refresh) == "base image reg.example/base:12"
    # The same in the Markdown summary's "What to do" table.
    assert where_cell(upgrade) == "base image"
    assert where_cell(refresh) == "base image `reg.example/base:12`"


def shape(line: str) -> str:
    """A summary line with its names, numbers, severity counts and dates made placeholders."""
    line = re.sub(r"`[^`]*`", "`NAME`", line)
    line = re.sub(
        r"\d+ (CRITICAL|HIGH|MEDIUM|LOW|UNKNOWN)(, \d+ (CRITICAL|HIGH|MEDIUM|LOW|UNKNOWN))*",
        "N BY SEVERITY",
        line,
    )
    return re.sub(r"[0-9][0-9-]*", "N", line)


def test_docs_base_image_shows_the_summary_lines_as_they_are() -> None:
    doc = (PROJECT_ROOT / "docs" / "base-image.md").read_text(encoding="utf-8")
    shown = re.findall(r"```text\n(.*?)```", doc, flags=re.DOTALL)[0].splitlines()
    real = render_terminal(evaluated(stale_check())).splitlines()
    assert shape(shown[0]) == shape(real[0])
    assert shown[1].startswith("image:    ")
    # The image line goes on under the reference when it is longer than the width (a digest).
    after_image = [line for line in shown[2:] if not line.startswith(" ")]
    (stale,) = [line for line in real if line.startswith("stale base ")]
    assert shape(after_image[0]) == shape(stale)


def test_the_gitlab_solution_of_a_checked_rebuild_has_no_empty_estimate() -> None:
    # With the check, the rebuild is what it removes, not an estimate: no "()" where one would be.
    when = dt.datetime(2026, 3, 14, tzinfo=dt.UTC)
    ev = evaluated(stale_check())
    doc = json.loads(render_gitlab(ev, GitLabReportOptions(start_time=when, end_time=when)))
    solutions = {v["identifiers"][0]["value"]: v.get("solution") for v in doc["vulnerabilities"]}
    assert solutions["CVE-2024-1"] == (
        "Rebuild on a refreshed base image; to patch the image instead, upgrade `libc6` to `3.0.13-1`"
        " (action `base-refresh`)"
    )
    assert all("()" not in (text or "") for text in solutions.values())


PINNED = "update a digest pinned in FROM to the tag's current one"
LATEST = "update a digest pinned in FROM to the current one of latest, the tag it means"


@pytest.mark.parametrize(
    ("pinned", "name", "hint", "never"),
    [
        # `FROM debian:12@sha256:...` rebuilt as it is keeps the image the findings come from: every
        # output names the tag, and says the digest is to be moved first.
        ("debian:12", "debian:12", PINNED, "Rebuild on a refreshed base image debian:12@"),
        # `FROM debian@sha256:...` has no tag: the refresh is one of `latest`, the tag `docker pull
        # debian` takes, and no output speaks of a tag FROM does not have.
        ("debian", "debian:latest", LATEST, "the tag's current one"),
    ],
)
def test_a_base_image_pinned_by_digest_is_refreshed_by_its_tag(
    pinned: str, name: str, hint: str, never: str
) -> None:
    image = ImageInfo("app:1", base_image=f"{pinned}@sha256:{'a' * 64}")
    ev = evaluate(report(*findings(), image=image), Policy(source="p"), NOW)
    text = render_terminal(ev)
    assert f"Rebuild on a refreshed base image {name} " in text
    assert f"\n       {hint}\n" in text
    md = render_markdown(ev)
    assert (
        f"| Rebuild on a refreshed base image ({hint}; fixes are published for all 4 of its findings) |" in md
    )
    assert f"**Rebuild on a refreshed base image `{name}`; {hint}; fixes are published" in md
    when = dt.datetime(2026, 3, 14, tzinfo=dt.UTC)
    doc = json.loads(render_gitlab(ev, GitLabReportOptions(start_time=when, end_time=when)))
    solution = next(
        v["solution"] for v in doc["vulnerabilities"] if v["identifiers"][0]["value"] == "CVE-2024-1"
    )
    assert solution.startswith(f"Rebuild on a refreshed base image `{name}` ({hint}) (fixes are published")
    sarif = render_sarif(ev)
    assert f"To fix: rebuild on a refreshed base image {name} ({hint}) (action base-refresh)" in sarif
    assert never not in text + md + json.dumps(doc) + sarif


def test_a_base_image_pinned_by_digest_without_a_tag_names_what_it_can() -> None:
    # A registry's port is no tag; an archive's path without a tag has none to name.
    for base, name, words in (
        ("localhost:5000/team/debian", "localhost:5000/team/debian:latest", LATEST),
        (
            "oci-archive:/ci/base.tar",
            "oci-archive:/ci/base.tar",
            "update a digest pinned in FROM to the one the image has now",
        ),
    ):
        image = ImageInfo("app:1", base_image=f"{base}@sha256:{'a' * 64}")
        text = render_terminal(evaluate(report(*findings(), image=image), Policy(source="p"), NOW), width=200)
        assert f"Rebuild on a refreshed base image {name} " in text
        assert f"\n       {words}\n" in text


def test_an_at_sign_in_a_base_images_path_is_no_digest() -> None:
    # A CI runner's second workspace (`app@2`): the `@` is part of the archive's path, nothing pins.
    base = "oci-archive:/ci/workspace/app@2/base.tar:v1"
    ev = evaluate(report(*findings(), image=ImageInfo("app:1", base_image=base)), Policy(source="p"), NOW)
    text = render_terminal(ev) + render_markdown(ev) + render_sarif(ev)
    assert "digest pinned" not in text
    assert f"Rebuild on a refreshed base image `{base}`" in render_markdown(ev)


def test_a_digest_after_an_at_sign_in_a_path_still_pins_the_base() -> None:
    # The digest is what follows the last `@`: the path's own `@` does not hide it.
    base = "oci-archive:/ci/workspace/app@2/base.tar:v1@sha256:" + "a" * 64
    ev = evaluate(report(*findings(), image=ImageInfo("app:1", base_image=base)), Policy(source="p"), NOW)
    markdown = render_markdown(ev)
    assert "digest pinned" in markdown
    assert "Rebuild on a refreshed base image `oci-archive:/ci/workspace/app@2/base.tar:v1`" in markdown
