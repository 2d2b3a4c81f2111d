"""`check --vex` and the policy's `vex:`: every VEX document of the corpus has its expected effect
on a real report; `--openvex` writes a document that validates against the OpenVEX schema and,
read back with `--vex`, reproduces the same dispositions.

The corpus documents were written for the scanners' own fixtures (tests/enrich/test_vex_corpus.py
shows that none applies to a corpus report as it is). To see a statement take effect, a real
report has one finding moved onto the statement's vulnerability and package (`retarget`): the
rest of the report, and the document, are as published.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gate.cli import main as cli
from gate.errors import ExitCode
from gate.scanners.ingest import load_report
from gate.untrusted import md_code, md_escape
from tests.support.corpus import corpus_file, debian_bash, retarget
from tests.support.repo_paths import TEST_DATA

AS_OF = ["--as-of", "2026-12-01"]
SPRING_BOOT = "pkg:maven/org.springframework.boot/spring-boot@2.6.0"


def gate(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["check", *argv, "--ci", "none", *AS_OF])
    out, err = capsys.readouterr()
    return code, out, err


def decide(
    report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "gate.json"
    code, _out, _err = gate([str(report), "--json", str(out), *extra], capsys)
    loaded: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return code, loaded


def dispositions(report: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(f["vulnerability_id"], f["package"], f["disposition"], f["rule"]) for f in report["findings"]]


def vex_rules(report: dict[str, Any]) -> list[tuple[int, str, int]]:
    return [(r["index"], r["state"], r["matched"]) for r in report["rules"] if r.get("source") == "vex"]


def spring(tmp_path: Path) -> Path:
    return retarget(
        tmp_path,
        "spring4shell-jre11.json.golden",
        "org.springframework:spring-beans",
        vulnerability="CVE-2021-44228",
        new_name="org.springframework.boot:spring-boot",
        version="2.6.0",
        purl=SPRING_BOOT,
    )


def go_transitive(tmp_path: Path) -> Path:
    return retarget(
        tmp_path,
        "gomod-vex.json.golden",
        "golang.org/x/text",
        vulnerability="CVE-2024-0001",
        new_name="github.com/aquasecurity/go-transitive",
        version="v4.0.0",
        purl="pkg:golang/github.com/aquasecurity/go-transitive@v4.0.0",
    )


def libvncserver(tmp_path: Path) -> Path:
    return retarget(
        tmp_path,
        "alpine-39.json.golden",
        "musl",
        vulnerability="CVE-2024-0000",
        new_name="libvncserver",
        version="0.9.9",
        purl="pkg:apk/alpine/libvncserver@0.9.9?arch=x86_64&distro=alpine-3.12.0",
        artifact="alpine@sha256:" + "f" * 64,
    )


ALLOWLISTED = [
    # (VEX file, the report it is about, the finding's package, the statement that decides, reason)
    (
        "aquasecurity-trivy__pkg-vex-testdata-openvex.json",
        spring,
        "org.springframework.boot:spring-boot",
        0,
        "VEX not_affected (vulnerable_code_not_in_execute_path) by Aqua Security, 2023-01-17T01:07:16.853479Z",
    ),
    (
        # Two statements: `affected`, then a later `not_affected`: the later one speaks.
        "aquasecurity-trivy__pkg-vex-testdata-openvex-multiple.json",
        spring,
        "org.springframework.boot:spring-boot",
        1,
        "VEX not_affected (vulnerable_code_not_in_execute_path) by Aqua Security, 2023-01-17T01:07:16.853479Z",
    ),
    (
        "aquasecurity-trivy__pkg-vex-testdata-csaf.json",
        go_transitive,
        "github.com/aquasecurity/go-transitive",
        0,
        "VEX not_affected (vulnerable_code_not_in_execute_path) by Example Company ProductCERT, 2022-03-03T11:00:00Z",
    ),
    (
        "aquasecurity-trivy__pkg-vex-testdata-openvex-oci.json",
        debian_bash,
        "bash",
        0,
        "VEX not_affected (vulnerable_code_not_in_execute_path) by Aqua Security, 2023-01-17T01:07:16.853479Z",
    ),
]


@pytest.mark.parametrize(
    ("name", "make", "package", "index", "reason"), ALLOWLISTED, ids=[a[0] for a in ALLOWLISTED]
)
def test_a_not_affected_statement_allowlists_its_finding(
    name: str,
    make: Any,
    package: str,
    index: int,
    reason: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    vex = corpus_file("vex", name)
    report = make(tmp_path)
    _code, without = decide(report, tmp_path, capsys)
    _code, with_vex = decide(report, tmp_path, capsys, "--vex", str(vex))
    changed = [
        (before, after)
        for before, after in zip(without["findings"], with_vex["findings"], strict=True)
        if (before["disposition"], before["rule"]) != (after["disposition"], after["rule"])
    ]
    ((before, after),) = changed
    assert after["package"] == package
    assert before["disposition"] != "allowlisted"
    assert (after["disposition"], after["rule"], after["reason"]) == (
        "allowlisted",
        f"vex:{vex}#{index}",
        reason,
    )
    assert after["vex"]["rule"] == f"vex:{vex}#{index}"
    used = [(i, state, n) for i, state, n in vex_rules(with_vex) if state == "used"]
    assert used == [(index, "used", 1)]
    assert with_vex["counts"]["allowlisted"] == without["counts"]["allowlisted"] + 1


SHOWN = [
    ("anchore-grype__affected.openvex.json", "affected"),
    ("anchore-grype__under_investigation.openvex.json", "under_investigation"),
]


@pytest.mark.parametrize(("name", "status"), SHOWN, ids=[s[0] for s in SHOWN])
def test_affected_and_under_investigation_change_nothing_but_are_shown(
    name: str, status: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vex = corpus_file("vex", name)
    report = libvncserver(tmp_path)
    code_without, without = decide(report, tmp_path, capsys)
    code, with_vex = decide(report, tmp_path, capsys, "--vex", str(vex))
    assert code == code_without == ExitCode.FAIL
    assert dispositions(with_vex) == dispositions(without)
    (shown,) = [f for f in with_vex["findings"] if f["package"] == "libvncserver"]
    assert shown["disposition"] == "blocking"
    assert f"; VEX {status} by The OpenVEX Project <openvex@openssf.org>" in shown["reason"]
    assert shown["reason"].endswith(f"(vex:{vex}#0)")
    assert shown["vex"]["status"] == status
    assert vex_rules(with_vex) == [(0, "used", 1)]


@pytest.mark.parametrize(("name", "status"), SHOWN, ids=[s[0] for s in SHOWN])
def test_affected_and_under_investigation_are_said_in_the_summaries_with_their_statement(
    name: str, status: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The terminal's reasons line and the Markdown's Why column word a severity threshold alone:
    # what the statement says, and which statement says it, must not be lost with the rest.
    vex = corpus_file("vex", name)
    markdown, decisions = tmp_path / "summary.md", tmp_path / "gate.json"
    argv = [
        str(libvncserver(tmp_path)),
        "--vex",
        str(vex),
        "--markdown",
        str(markdown),
        "--json",
        str(decisions),
    ]
    code, out, _err = gate(argv, capsys)
    assert code == ExitCode.FAIL
    (shown,) = [f for f in json.loads(decisions.read_text(encoding="utf-8"))["findings"] if f["vex"]]
    said = f"VEX {status} by The OpenVEX Project <openvex@openssf.org>, {shown['vex']['timestamp']} (vex:{vex}#0)"
    assert shown["reason"].endswith(f"; {said}")
    assert said in " ".join(out.split())
    (row,) = [
        line
        for line in markdown.read_text(encoding="utf-8").splitlines()
        if "CVE\\-2024\\-0000" in line and line.startswith("|")
    ]
    assert md_escape(said) in row


UNUSED = [
    # Products that are neither the image nor the package (a module with its dependency inside).
    ("aquasecurity-trivy__.vex-trivy.openvex.json", "gomod-vex.json.golden"),
    ("aquasecurity-trivy__integration-testdata-fixtures-vex-file-openvex.json", "gomod-vex.json.golden"),
    ("aquasecurity-trivy__pkg-vex-testdata-csaf-relationships.json", None),
]


@pytest.mark.parametrize(("name", "report_name"), UNUSED, ids=[u[0] for u in UNUSED])
def test_statements_about_a_module_holding_the_package_do_not_apply_and_are_reported_unused(
    name: str, report_name: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vex = corpus_file("vex", name)
    report = corpus_file("trivy", report_name) if report_name else go_transitive(tmp_path)
    _code, without = decide(report, tmp_path, capsys)
    _code, with_vex = decide(report, tmp_path, capsys, "--vex", str(vex))
    assert dispositions(with_vex) == dispositions(without)
    rules = vex_rules(with_vex)
    assert rules
    assert {state for _i, state, _n in rules} == {"unused"}
    assert [i for i, _s, _n in rules] == list(range(len(rules)))


def test_the_policys_vex_paths_are_relative_to_the_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy_dir = tmp_path / "policy"
    (policy_dir / "vex").mkdir(parents=True)
    vex = policy_dir / "vex" / "app.openvex.json"
    vex.write_bytes(corpus_file("vex", "trivy__pkg-vex-testdata-openvex.json").read_bytes())
    (policy_dir / "policy.yaml").write_text("version: 1\nvex: [vex/app.openvex.json]\n", encoding="utf-8")
    _code, report = decide(spring(tmp_path), tmp_path, capsys, "--policy", str(policy_dir / "policy.yaml"))
    assert report["policy"]["vex"] == [str(vex)]
    assert [f["rule"] for f in report["findings"] if f["disposition"] == "allowlisted"] == [f"vex:{vex}#0"]


def test_a_vex_file_named_twice_is_read_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy_dir = tmp_path / "policy"
    policy_dir.mkdir()
    vex = policy_dir / "app.openvex.json"
    vex.write_bytes(corpus_file("vex", "trivy__pkg-vex-testdata-openvex.json").read_bytes())
    policy = policy_dir / "policy.yaml"
    policy.write_text("version: 1\nvex: [app.openvex.json]\n", encoding="utf-8")
    again = str(policy_dir / ".." / "policy" / "app.openvex.json")  # another spelling of the same file
    report = spring(tmp_path)
    _code, once = decide(report, tmp_path, capsys, "--vex", str(vex))
    for twice in (["--vex", str(vex), "--vex", again], ["--vex", str(vex), "--policy", str(policy)]):
        _code, out, _err = gate([str(report), "--json", str(tmp_path / "gate.json"), *twice], capsys)
        decided = json.loads((tmp_path / "gate.json").read_text(encoding="utf-8"))
        # Where it is first named (the command line) names its statements.
        assert [r for r in decided["rules"] if r.get("source") == "vex"] == [
            r for r in once["rules"] if r.get("source") == "vex"
        ]
        assert decided["counts"] == once["counts"]
        assert "vex:      1 statement(s) from 1 file(s): 1 used, 0 unused" in out


def test_statements_of_the_same_time_that_disagree_do_not_clear_the_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As docs/baseline-and-vex.md says: of the same time, the one that does not clear speaks, in
    # whatever order the files are given; a later one overrides an earlier one.
    def document(name: str, status: str, timestamp: str = "2026-11-01T00:00:00Z") -> Path:
        said = {"justification": "component_not_present"} if status == "not_affected" else {}
        statement = {
            "vulnerability": {"name": "CVE-2021-44228"},
            "products": [{"@id": SPRING_BOOT}],
            "status": status,
        }
        doc = {
            "@context": "https://openvex.dev/ns/v0.2.0",
            "@id": f"https://example.com/vex/{name}",
            "author": name,
            "timestamp": timestamp,
            "version": 1,
            "statements": [{**statement, **said}],
        }
        path = tmp_path / f"{name}.openvex.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        return path

    vendor, team = document("vendor", "not_affected"), document("team", "under_investigation")
    report = spring(tmp_path)

    def speaker(*argv: str) -> tuple[str, str]:
        _code, decided = decide(report, tmp_path, capsys, *argv)
        (finding,) = [
            f for f in decided["findings"] if f["package"] == "org.springframework.boot:spring-boot"
        ]
        return str(finding["vex"]["rule"]), str(finding["disposition"])

    for argv in (["--vex", str(vendor), "--vex", str(team)], ["--vex", str(team), "--vex", str(vendor)]):
        rule, disposition = speaker(*argv)
        assert rule == f"vex:{team}#0"
        assert disposition != "allowlisted"
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"version: 1\nvex: [{team.name}]\n", encoding="utf-8")
    assert speaker("--vex", str(vendor), "--policy", str(policy))[0] == f"vex:{team}#0"
    # Two that clear, or two that do not: the last given.
    other = document("other", "fixed")
    assert speaker("--vex", str(vendor), "--vex", str(other)) == (f"vex:{other}#0", "allowlisted")
    assert speaker("--vex", str(other), "--vex", str(vendor)) == (f"vex:{vendor}#0", "allowlisted")
    affected = document("affected", "affected")
    assert speaker("--vex", str(team), "--vex", str(affected))[0] == f"vex:{affected}#0"
    # A later statement still overrides an earlier one, whichever it says.
    later = document("later", "not_affected", "2026-11-02T00:00:00Z")
    assert speaker("--vex", str(later), "--vex", str(team)) == (f"vex:{later}#0", "allowlisted")


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (None, "no such VEX file"),
        (b"[1, 2]", "expected an OpenVEX document"),
        (b'{"bomFormat": "SPDX"}', "not a VEX document: expected an OpenVEX document"),
        (b"not json", "not valid JSON"),
    ],
    ids=["missing", "array", "other-format", "not-json"],
)
def test_a_file_that_is_no_vex_document_is_exit_2_naming_it(
    content: bytes | None, why: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vex = tmp_path / "statements.json"
    if content is not None:
        vex.write_bytes(content)
    code, _out, err = gate(
        [
            str(corpus_file("trivy", "alpine-39.json.golden")),
            "--vex",
            str(vex),
            "--json",
            str(tmp_path / "g.json"),
        ],
        capsys,
    )
    assert code == ExitCode.USAGE
    (line,) = err.strip().splitlines()
    assert line.startswith(f"container-gate: error: {vex}")
    assert why in line
    assert json.loads((tmp_path / "g.json").read_text())["verdict"] == "error"


# --- VEX out ---------------------------------------------------------------------------------------

OPENVEX_SCHEMA = json.loads((TEST_DATA / "schemas" / "openvex.json").read_text(encoding="utf-8"))


def round_trip_policy(tmp_path: Path) -> Path:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\n"
        "allowlist:\n"
        "  - vulnerability: CVE-2019-14697\n"
        "    package: musl\n"
        "    reason: the image never runs musl's x87 code\n"
        "    justification: vulnerable_code_not_in_execute_path\n"
        "    expires: 2027-01-31\n"
        "  - vulnerability: CVE-2019-1549\n"
        "    reason: no fork() after seeding in this service\n",
        encoding="utf-8",
    )
    return policy


def test_openvex_out_validates_is_deterministic_and_reads_back_to_the_same_dispositions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = corpus_file("trivy", "alpine-39.json.golden")
    policy = round_trip_policy(tmp_path)
    out = tmp_path / "decisions.openvex.json"
    code, decided = decide(report, tmp_path, capsys, "--policy", str(policy), "--openvex", str(out))
    first = out.read_bytes()
    decide(report, tmp_path, capsys, "--policy", str(policy), "--openvex", str(out))
    assert out.read_bytes() == first
    document = json.loads(first)
    jsonschema.Draft202012Validator(OPENVEX_SCHEMA).validate(document)
    assert document["timestamp"] == "2026-12-01T12:00:00Z"
    statements = {(s["vulnerability"]["name"], s["status"]): s for s in document["statements"]}
    assert sorted(statements) == [("CVE-2019-14697", "not_affected"), ("CVE-2019-1549", "not_affected")]
    musl = statements[("CVE-2019-14697", "not_affected")]
    assert musl["justification"] == "vulnerable_code_not_in_execute_path"
    assert musl["impact_statement"] == "the image never runs musl's x87 code"
    assert musl["status_notes"] == f"allowlist[0] of {policy}, expires 2027-01-31"
    # A tarball has no repository digest: the image ID and the reference as given name it.
    assert [p["@id"] for p in musl["products"]] == sorted(
        ["testdata/fixtures/images/alpine-39.tar.gz", decided["image"]["image_id"]]
    )
    for product in musl["products"]:
        assert [sub["@id"] for sub in product["subcomponents"]] == [
            "pkg:apk/alpine/musl@1.1.20-r4?arch=x86_64&distro=3.9.4"
        ]
    # Read back without the policy's entries: the same findings are allowlisted, by the statements.
    _code, again = decide(report, tmp_path, capsys, "--vex", str(out))
    assert [(f["vulnerability_id"], f["package"], f["disposition"]) for f in again["findings"]] == [
        (f["vulnerability_id"], f["package"], f["disposition"]) for f in decided["findings"]
    ]
    assert {f["rule"] for f in again["findings"] if f["disposition"] == "allowlisted"} == {
        f"vex:{out}#0",
        f"vex:{out}#1",
    }
    assert code == ExitCode.FAIL  # musl-utils' entry is by package name: only musl is allowlisted


def test_openvex_out_carries_a_consumed_vex_statement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = debian_bash(tmp_path)
    out = tmp_path / "decisions.openvex.json"
    decide(
        report,
        tmp_path,
        capsys,
        "--vex",
        str(corpus_file("vex", "trivy__pkg-vex-testdata-openvex-oci.json")),
        "--openvex",
        str(out),
    )
    document = json.loads(out.read_text())
    jsonschema.Draft202012Validator(OPENVEX_SCHEMA).validate(document)
    (statement,) = document["statements"]
    assert statement["status"] == "not_affected"
    assert statement["justification"] == "vulnerable_code_not_in_execute_path"
    # The report gives no repository digest: the image ID and the reference as given name it.
    assert [p["@id"] for p in statement["products"]] == sorted(
        ["debian:buster", json.loads(report.read_text())["Metadata"]["ImageID"]]
    )
    _code, again = decide(report, tmp_path, capsys, "--vex", str(out))
    assert [f["disposition"] for f in again["findings"] if f["package"] == "bash"] == ["allowlisted"]


def test_openvex_out_says_when_trivy_and_grype_cannot_match_the_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Trivy names the image it scans by a pkg:oci purl with its registry digest, Grype by its
    # repository digests and tags: a tarball's image ID and path match neither.
    out = tmp_path / "decisions.openvex.json"
    tarball = corpus_file("trivy", "alpine-39.json.golden")
    code, _out, err = gate(
        [str(tarball), "--policy", str(round_trip_policy(tmp_path)), "--openvex", str(out)], capsys
    )
    assert code == ExitCode.FAIL
    image_id = json.loads(tarball.read_text())["Metadata"]["ImageID"]
    assert (
        f"container-gate: warning: {out}: the image has no registry digest (an archive, or an image not "
        f"pushed), so its statements name it by {image_id}, testdata/fixtures/images/alpine-39.tar.gz: "
        "container-gate matches them when given them back with --vex, but Trivy and Grype --vex match an "
        "image by its registry digest (Grype also by a tag), not by an image ID or an archive path\n"
    ) in err
    # A report with the image's repository digest names it as pkg:oci/...@sha256: nothing to say.
    pulled = corpus_file("trivy", "test-data-with-trivy-yaml-cfg__report.json")
    policy = tmp_path / "apk.yaml"
    policy.write_text(
        "version: 1\nallowlist:\n  - {vulnerability: CVE-2021-36159, reason: r}\n", encoding="utf-8"
    )
    code, _out, err = gate([str(pulled), "--policy", str(policy), "--openvex", str(out)], capsys)
    assert (code, err) == (ExitCode.PASS, "")
    assert json.loads(out.read_text())["statements"][0]["products"][0]["@id"].startswith(
        "pkg:oci/alpine@sha256:"
    )
    # The action's users give them back by its `vex` input.
    monkeypatch.setenv("CONTAINER_GATE_ACTION", "true")
    code, _out, err = gate(
        [str(tarball), "--policy", str(round_trip_policy(tmp_path)), "--openvex", str(out)], capsys
    )
    assert "container-gate matches them when given them back with the action's `vex` input, but" in err


def test_openvex_out_without_any_decision_writes_nothing_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "decisions.openvex.json"
    code, _out, err = gate(
        [str(corpus_file("trivy", "alpine-310.json.golden")), "--openvex", str(out)], capsys
    )
    assert code == ExitCode.PASS
    assert not out.exists()
    assert f"{out} not written" in err


def test_a_read_only_openvex_file_is_kept_when_the_run_writes_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # `chmod 444`: its user kept it from being changed, so it is neither replaced nor removed
    # (the gate often runs as root, whom the mode does not stop); the run says so and fails.
    out = tmp_path / "decisions.openvex.json"
    out.write_text('{"statements": ["kept"]}', encoding="utf-8")
    out.chmod(0o444)
    code, _out, err = gate(
        [str(corpus_file("trivy", "alpine-310.json.golden")), "--openvex", str(out)], capsys
    )
    assert code == ExitCode.USAGE
    assert out.read_text(encoding="utf-8") == '{"statements": ["kept"]}'
    assert err == (
        f"container-gate: error: {out}: cannot remove the earlier output file: the file is read-only "
        "(make it writable, or remove it)\n"
    )


def test_a_stale_openvex_file_is_removed_when_the_run_writes_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An earlier run's decisions, read by `trivy --vex` in a later step, would outlive the policy.
    out = tmp_path / "decisions.openvex.json"
    out.write_text('{"statements": ["from an earlier run"]}', encoding="utf-8")
    code, _out, err = gate(
        [str(corpus_file("trivy", "alpine-310.json.golden")), "--openvex", str(out)], capsys
    )
    assert code == ExitCode.PASS
    assert not out.exists()
    assert f"{out} not written (the earlier file there is removed)" in err
    for error in (["--kev", str(tmp_path / "missing.json")], ["--vex", str(tmp_path / "missing.json")]):
        out.write_text('{"statements": ["from an earlier run"]}', encoding="utf-8")
        code, _out, err = gate(
            [
                str(corpus_file("trivy", "alpine-39.json.golden")),
                "--policy",
                str(round_trip_policy(tmp_path)),
                "--openvex",
                str(out),
                *error,
            ],
            capsys,
        )
        assert code == ExitCode.USAGE, err
        assert not out.exists(), error


def test_explain_reads_the_vex_check_reads_and_agrees_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vex = corpus_file("vex", "trivy__pkg-vex-testdata-openvex.json")
    report = spring(tmp_path)
    _code, decided = decide(report, tmp_path, capsys, "--vex", str(vex))
    (allowlisted,) = [f for f in decided["findings"] if f["disposition"] == "allowlisted"]
    for vex_option in (["--vex", str(vex)], ["--policy", str(vex_policy(tmp_path, vex))]):
        code = cli.main(
            ["explain", allowlisted["vulnerability_id"], "--report", str(report), *AS_OF, *vex_option]
        )
        out, _err = capsys.readouterr()
        assert code == ExitCode.PASS
        words = " ".join(out.split())  # whatever lines explain wrapped them on
        assert f"disposition: ALLOWLISTED (rule {allowlisted['rule']}) because:" in words
        assert f"VEX: not_affected by {allowlisted['vex']['author']}" in words


def vex_policy(tmp_path: Path, vex: Path) -> Path:
    path = tmp_path / "vex-policy.yaml"
    path.write_text(f"version: 1\nvex: [{json.dumps(str(vex))}]\n", encoding="utf-8")
    return path


def test_statement_text_is_escaped_wherever_it_is_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(
        corpus_file("vex", "trivy__pkg-vex-testdata-openvex.json").read_text(encoding="utf-8")
    )
    document["author"] = "Mallory \x1b[31m<img src=x onerror=alert(1)> ::error::boom"
    vex = tmp_path / "hostile.openvex.json"
    vex.write_text(json.dumps(document), encoding="utf-8")
    report = spring(tmp_path)
    code, out, _err = gate(
        [
            str(report),
            "--vex",
            str(vex),
            "--markdown",
            str(tmp_path / "s.md"),
            "--json",
            str(tmp_path / "g.json"),
        ],
        capsys,
    )
    assert code == ExitCode.PASS
    assert "\x1b" not in out
    assert "vex:      1 statement(s) from 1 file(s): 1 used, 0 unused" in out
    markdown = (tmp_path / "s.md").read_text(encoding="utf-8")
    assert "\\<img" in markdown
    assert not re.search(r"(?<!\\)<img", markdown)
    assert "\x1b" not in markdown
    (finding,) = [
        f
        for f in json.loads((tmp_path / "g.json").read_text())["findings"]
        if f["disposition"] == "allowlisted"
    ]
    assert "Mallory \x1b[31m<img" in finding["reason"]  # kept as it was in the JSON report


def test_a_vex_file_name_with_control_characters_is_shown_safely(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A pull request can add a file under any name but `/` and point the policy's vex: at it; the
    # name is part of the rule (`vex:<file>#<index>`) that explain and the GitLab report show.
    name = "v\x1b]8;;https:evil\x07click\x1b]8;;\x07\x1b[2J\n::error::x.json"
    vex = tmp_path / name
    vex.write_text(corpus_file("vex", "trivy__pkg-vex-testdata-openvex.json").read_text(encoding="utf-8"))
    report, policy = spring(tmp_path), vex_policy(tmp_path, vex)
    code = cli.main(["explain", "CVE-2021-44228", "--report", str(report), "--policy", str(policy), *AS_OF])
    out, _err = capsys.readouterr()
    assert code == ExitCode.PASS
    assert "disposition: ALLOWLISTED (rule vex:" in " ".join(out.split())
    assert "\x1b" not in out
    assert "\n::error::" not in out
    assert "\\x1b]8;;https:evil\\x07click" in out
    gitlab = tmp_path / "gl.json"
    code, _out, _err = gate([str(report), "--policy", str(policy), "--gitlab", str(gitlab)], capsys)
    assert code == ExitCode.PASS
    messages = [m["value"] for m in json.loads(gitlab.read_text(encoding="utf-8"))["scan"]["messages"]]
    (left_out,) = [m for m in messages if "allowlisted by VEX statements" in m]
    assert "(vex:" in left_out
    assert not re.search(r"[\x00-\x1f]", left_out)


def test_a_missing_vex_file_of_the_policy_is_exit_2_naming_it_beside_the_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "policy.yaml"
    rules.write_text("version: 1\nvex: [vex/app.openvex.json]\n", encoding="utf-8")
    report = str(corpus_file("trivy", "alpine-39.json.golden"))
    expected = (
        f"container-gate: error: {rules}: vex: {tmp_path / 'vex' / 'app.openvex.json'}: no such VEX file"
    )
    code, _out, err = gate([report, "--policy", str(rules)], capsys)
    assert (code, err.strip()) == (ExitCode.USAGE, expected)
    assert cli.main(["compare", f"a={report}", "--policy", str(rules)]) == ExitCode.USAGE
    assert capsys.readouterr().err.strip() == expected
    # A file of `--vex` is the command line's own: its error does not name the policy.
    code, _out, err = gate([report, "--vex", str(tmp_path / "cli.json")], capsys)
    assert err.strip() == f"container-gate: error: {tmp_path / 'cli.json'}: no such VEX file"


def test_an_unwritable_openvex_path_is_exit_2_and_the_other_outputs_are_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _out, err = gate(
        [
            str(corpus_file("trivy", "alpine-39.json.golden")),
            "--policy",
            str(round_trip_policy(tmp_path)),
            "--openvex",
            str(blocker / "decisions.openvex.json"),
            "--json",
            str(tmp_path / "g.json"),
        ],
        capsys,
    )
    assert code == ExitCode.USAGE
    assert f"{blocker / 'decisions.openvex.json'}" in err
    assert json.loads((tmp_path / "g.json").read_text())["verdict"] == "fail"


def test_compare_applies_the_vex_statements_to_every_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = spring(tmp_path)
    vex = corpus_file("vex", "trivy__pkg-vex-testdata-openvex.json")
    rows = []
    for extra in ([], ["--vex", str(vex)]):
        out = tmp_path / "compare.json"
        code = cli.main(
            [
                "compare",
                f"app={report}",
                f"plain={corpus_file('trivy', 'alpine-310.json.golden')}",
                "--json",
                str(out),
                *AS_OF,
                *extra,
            ]
        )
        capsys.readouterr()
        assert code == ExitCode.PASS
        rows.append(json.loads(out.read_text())["images"])
    (app_without, plain_without), (app_with, plain_with) = rows
    assert app_with["blocking"] == app_without["blocking"] - 1
    # The image it is not about is judged as without it; only its count of statements says it.
    assert plain_with == {**plain_without, "vex": {"statements": 1, "used": 0, "partial": 0, "unused": 1}}
    assert app_with["vex"] == {"statements": 1, "used": 1, "partial": 0, "unused": 0}


@pytest.mark.parametrize("documented", [False, True])
def test_an_openvex_path_that_is_a_directory_is_exit_2_as_for_any_output(
    documented: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Whether the run has a document to write (an allowlist entry decided a finding) or not.
    report = corpus_file("trivy", "alpine-39.json.golden" if documented else "alpine-310.json.golden")
    policy = ["--policy", str(round_trip_policy(tmp_path))] if documented else []
    directory = tmp_path / "out"
    directory.mkdir()
    code, _out, err = gate(
        [str(report), *policy, "--openvex", str(directory), "--json", str(tmp_path / "g.json")], capsys
    )
    assert code == ExitCode.USAGE
    assert f"container-gate: error: {directory}: cannot write output file: Is a directory\n" in err
    assert "not written" not in err
    assert json.loads((tmp_path / "g.json").read_text())["verdict"] in ("pass", "fail")


def test_the_summaries_count_the_findings_vex_allowlisted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = corpus_file("trivy", "alpine-39.json.golden")
    policy = round_trip_policy(tmp_path)
    vex = tmp_path / "decisions.openvex.json"
    _code, by_policy = decide(report, tmp_path, capsys, "--policy", str(policy), "--openvex", str(vex))
    allowlisted = by_policy["counts"]["allowlisted"]
    markdown = tmp_path / "summary.md"
    _code, out, _err = gate([str(report), "--vex", str(vex), "--markdown", str(markdown)], capsys)
    assert f", {allowlisted} allowlisted ({allowlisted} by VEX), " in out
    assert f" · {allowlisted} allowlisted ({allowlisted} by VEX) · " in markdown.read_text(encoding="utf-8")
    # Allowlisted by the policy's own entries: nothing to tell apart.
    _code, out, _err = gate([str(report), "--policy", str(policy)], capsys)
    assert f", {allowlisted} allowlisted, " in out


def test_the_gitlab_report_counts_vex_statements_apart_from_the_policys_allowlist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = corpus_file("trivy", "alpine-39.json.golden")
    vex = tmp_path / "decisions.openvex.json"
    decide(report, tmp_path, capsys, "--policy", str(round_trip_policy(tmp_path)), "--openvex", str(vex))
    policy = tmp_path / "one-entry.yaml"
    policy.write_text(
        "version: 1\nallowlist:\n  - vulnerability: CVE-2019-1549\n    reason: no fork()\n", encoding="utf-8"
    )
    gitlab = tmp_path / "gl.json"
    gate([str(report), "--policy", str(policy), "--vex", str(vex), "--gitlab", str(gitlab)], capsys)
    messages = [m["value"] for m in json.loads(gitlab.read_text(encoding="utf-8"))["scan"]["messages"]]
    (left_out,) = [m for m in messages if " left out: " in m]
    # The statements that cleared CVE-2019-14697 are VEX's, not the policy's allowlist.
    assert left_out == (
        "3 findings left out: 2 allowlisted by the policy (allowlist[0]: 2), "
        f"1 allowlisted by VEX statements (vex:{vex}#0: 1); "
        "the JSON report (--json) lists each with its reason"
    )


def test_the_markdown_names_the_statement_that_allowlisted_a_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As an allowlist entry is named in its row (`allowlist[0]` (line 4)), so is the VEX document.
    vex = corpus_file("vex", "aquasecurity-trivy__pkg-vex-testdata-openvex-oci.json")
    markdown = tmp_path / "summary.md"
    _code, _out, _err = gate(
        [str(debian_bash(tmp_path)), "--vex", str(vex), "--markdown", str(markdown)], capsys
    )
    # The table's row, not a warning that names the report file (`report-CVE-....json`).
    (row,) = [
        line
        for line in markdown.read_text(encoding="utf-8").splitlines()
        if "CVE\\-2022\\-3715" in line and line.startswith("|")
    ]
    assert row.endswith(
        f"| {md_code(f'vex:{vex}#0')}: "
        + md_escape(
            "VEX not_affected (vulnerable_code_not_in_execute_path) by Aqua Security, 2023-01-17T01:07:16.853479Z"
        )
        + " |"
    )


def test_the_sarif_suppression_names_the_statement_that_allowlisted_a_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vex = corpus_file("vex", "aquasecurity-trivy__pkg-vex-testdata-openvex-oci.json")
    sarif = tmp_path / "gate.sarif"
    _code, _out, _err = gate([str(debian_bash(tmp_path)), "--vex", str(vex), "--sarif", str(sarif)], capsys)
    results = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]["results"]
    (cleared,) = [r for r in results if r["ruleId"] == "CVE-2022-3715"]
    assert cleared["suppressions"] == [
        {
            "kind": "external",
            "justification": "VEX not_affected (vulnerable_code_not_in_execute_path) by Aqua Security, "
            f"2023-01-17T01:07:16.853479Z (vex:{vex}#0)",
            "status": "accepted",
        }
    ]


def test_a_statement_dated_after_the_run_is_said_in_the_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped year makes a statement the latest of all: it overrides the correction below it,
    and every output says so."""
    statement = {
        "vulnerability": {"name": "CVE-2021-38561"},
        "products": [{"@id": "pkg:golang/golang.org/x/text"}],
    }
    doc: dict[str, Any] = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/text",
        "author": "Platform team",
        "timestamp": "2026-11-01T00:00:00Z",
        "version": 1,
        "statements": [
            {
                **statement,
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "timestamp": "2062-11-01T00:00:00Z",
            },
            {
                **statement,
                "status": "affected",
                "action_statement": "Upgrade",
                "timestamp": "2026-11-20T00:00:00Z",
            },
        ],
    }
    vex = tmp_path / "text.openvex.json"
    vex.write_text(json.dumps(doc), encoding="utf-8")
    report = tmp_path / "gate.json"
    code, out, _ = gate(
        [str(corpus_file("trivy", "gomod-vex.json.golden")), "--vex", str(vex), "--json", str(report)], capsys
    )
    assert code == ExitCode.PASS
    decided = json.loads(report.read_text(encoding="utf-8"))
    (text,) = [f for f in decided["findings"] if f["vulnerability_id"] == "CVE-2021-38561"]
    assert text["rule"] == f"vex:{vex}#0"
    warning = (
        f"VEX statement vex:{vex}#0 (statements[0]) is dated 2062-11-01T00:00:00Z, after this run's time "
        "(2026-12-01): as the latest, it overrides every statement about its findings made before then. "
        "Is its timestamp or --as-of wrong?"
    )
    assert warning in decided["warnings"]
    assert "is dated 2062-11-01T00:00:00Z" in out
    # The action has no `as-of` input: its time is the runner's clock.
    with pytest.MonkeyPatch.context() as action:
        action.setenv("CONTAINER_GATE_ACTION", "true")
        gate(
            [str(corpus_file("trivy", "gomod-vex.json.golden")), "--vex", str(vex), "--json", str(report)],
            capsys,
        )
    in_the_action = json.loads(report.read_text(encoding="utf-8"))["warnings"]
    assert warning.replace("--as-of", "the runner's clock") in in_the_action
    # Dated within the run's day (a clock a few hours ahead) is no warning.
    doc["statements"][0]["timestamp"] = "2026-12-01T20:00:00Z"
    vex.write_text(json.dumps(doc), encoding="utf-8")
    gate(
        [str(corpus_file("trivy", "gomod-vex.json.golden")), "--vex", str(vex), "--json", str(report)], capsys
    )
    assert not [w for w in json.loads(report.read_text(encoding="utf-8"))["warnings"] if "VEX statement" in w]


def test_a_statement_dated_after_the_run_is_said_once_when_the_report_is_read_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check gate.json --vex` says it as of this run, not a second time as of the first run."""
    doc = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/text",
        "author": "Platform team",
        "timestamp": "2026-11-01T00:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": "CVE-2021-38561"},
                "products": [{"@id": "pkg:golang/golang.org/x/text"}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "timestamp": "2062-11-01T00:00:00Z",
            }
        ],
    }
    vex = tmp_path / "text.openvex.json"
    vex.write_text(json.dumps(doc), encoding="utf-8")
    first, again = tmp_path / "gate.json", tmp_path / "again.json"
    scanned = str(corpus_file("trivy", "gomod-vex.json.golden"))
    for report, out, as_of in ((scanned, first, "2026-12-01"), (str(first), again, "2026-12-05")):
        argv = ["check", report, "--vex", str(vex), "--json", str(out), "--as-of", as_of, "--ci", "none"]
        assert cli.main(argv) == ExitCode.PASS
    capsys.readouterr()
    said = [w for w in json.loads(again.read_text(encoding="utf-8"))["warnings"] if "VEX statement" in w]
    assert len(said) == 1, said
    assert "after this run's time (2026-12-05)" in said[0]
    # Read back without the VEX file, no statement decides anything: nothing is said of one.
    assert cli.main(["check", str(first), "--json", str(again), "--as-of", "2026-12-05", "--ci", "none"]) == 0
    assert not [w for w in json.loads(again.read_text(encoding="utf-8"))["warnings"] if "VEX statement" in w]


def test_a_snyk_report_is_matched_by_its_packages_and_warns_of_those_without_a_purl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    statement = {
        "vulnerability": {"name": "CVE-2022-37434"},
        "products": [{"@id": "pkg:deb/debian/zlib1g"}],
        "status": "not_affected",
        "justification": "vulnerable_code_not_in_execute_path",
    }
    vex = tmp_path / "team.openvex.json"
    vex.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://example.com/vex/team",
                "author": "team",
                "timestamp": "2026-11-01T00:00:00Z",
                "version": 1,
                "statements": [statement],
            }
        ),
        encoding="utf-8",
    )
    report = corpus_file("snyk", "test-report-container-with-app-vulns.json")
    _code, decided = decide(report, tmp_path, capsys, "--vex", str(vex))
    by_package = {f["package"]: (f["disposition"], f["rule"]) for f in decided["findings"]}
    assert by_package["zlib1g"] == ("allowlisted", f"vex:{vex}#0")
    # The Go finding has no package URL: said once, with what can still apply.
    (warning,) = [w for w in decided["warnings"] if "Snyk" in w]
    assert warning == (
        "1 Snyk finding(s) have no package URL (Snyk gives none, and their package manager makes "
        "none: gomodules): only a VEX statement about the whole image can apply to them"
    )
    # A report of older CLIs names neither a distribution nor the image.
    old = corpus_file("snyk", "fail-on-docker-fixable__vulns.json")
    _code, decided = decide(old, tmp_path, capsys, "--vex", str(vex))
    assert [w for w in decided["warnings"] if "Snyk" in w] == [
        "3 Snyk finding(s) have no package URL (Snyk gives none, and their package manager makes "
        "none: linux): no VEX statement can apply to them (the report names no image either)"
    ]
    # Without VEX, nothing to say.
    _code, decided = decide(old, tmp_path, capsys)
    assert not [w for w in decided["warnings"] if "Snyk" in w]


def test_a_cyclonedx_bom_link_into_another_bom_is_not_followed_and_said_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Trivy's VEX file names spring-boot by a BOM-Link into the SBOM it is about.
    vex = corpus_file("vex", "aquasecurity-trivy__pkg-vex-testdata-cyclonedx.json")
    report = spring(tmp_path)
    _code, decided = decide(report, tmp_path, capsys, "--vex", str(vex))
    (boot,) = [f for f in decided["findings"] if f["package"] == "org.springframework.boot:spring-boot"]
    assert boot["disposition"] != "allowlisted"
    assert [w for w in decided["warnings"] if "BOM-Link" in w] == [
        f"{vex}: CycloneDX affects[].ref BOM-Links into another BOM "
        "(urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1) are not followed: a statement says nothing "
        "about them, and clears no finding through them"
    ]
    # The same document with that serial number: its BOM-Links are into itself, and followed.
    doc = json.loads(vex.read_text(encoding="utf-8"))
    doc["serialNumber"] = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
    own = tmp_path / "own.cdx.json"
    own.write_text(json.dumps(doc), encoding="utf-8")
    _code, decided = decide(report, tmp_path, capsys, "--vex", str(own))
    (boot,) = [f for f in decided["findings"] if f["package"] == "org.springframework.boot:spring-boot"]
    assert (boot["disposition"], boot["rule"], boot["reason"]) == (
        "allowlisted",
        f"vex:{own}#0",
        "VEX not_affected (code_not_reachable)",
    )
    assert not [w for w in decided["warnings"] if "BOM-Link" in w]


def test_bom_links_into_many_other_boms_are_said_in_one_short_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The BOMs named are the document's own text: one linking into 500 others, each with a long
    # serial, made a warning of 500 names in every output, the pull-request comment among them.
    serial = "x" * 300
    vulnerabilities = [
        {
            "id": "CVE-2022-22965",
            "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
            "affects": [{"ref": f"urn:cdx:{n:03d}{serial}/1#pkg:maven/org.example/lib@1.0"}],
        }
        for n in range(500)
    ]
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "vulnerabilities": vulnerabilities}
    vex = tmp_path / "many.cdx.json"
    vex.write_text(json.dumps(doc), encoding="utf-8")
    _code, decided = decide(spring(tmp_path), tmp_path, capsys, "--vex", str(vex))
    (warning,) = [w for w in decided["warnings"] if "BOM-Link" in w]
    assert f"(urn:cdx:000{'x' * 89}..., urn:cdx:001" in warning
    assert "and 497 more) are not followed" in warning
    assert len(warning) < 600


def test_a_statement_naming_the_platforms_manifest_digest_applies_on_the_report_read_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A multi-platform image named by its platform's manifest digest: the decision report keeps
    that digest, so `check gate.json --vex` and `explain --report gate.json` still apply the
    statement (they read the image from the report, which did not say it)."""
    grype = corpus_file("grype", "chainguard-ruby-test.json")
    manifest = "sha256:86abe662dfa3746038eea6b0db91092b0767d78b8b8938a343d614cd1579adc2"
    vulnerability = load_report(grype).findings[0].vulnerability_id
    image = f"pkg:oci/ruby@sha256%3A{manifest[7:]}?repository_url=cgr.dev%2Fchainguard%2Fruby"
    doc = {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/ruby",
        "author": "Platform team",
        "timestamp": "2026-11-01T00:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": vulnerability},
                "products": [{"@id": image}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
            }
        ],
    }
    vex = tmp_path / "ruby.openvex.json"
    vex.write_text(json.dumps(doc), encoding="utf-8")
    first, again = tmp_path / "gate.json", tmp_path / "again.json"
    for report, written in ((grype, first), (first, again)):
        gate([str(report), "--vex", str(vex), "--json", str(written)], capsys)
        decided = json.loads(written.read_text(encoding="utf-8"))
        assert decided["image"]["manifest_digest"] == manifest, written.name
        named = [f for f in decided["findings"] if f["vulnerability_id"] == vulnerability]
        assert named, written.name
        rules = {(f["disposition"], f["rule"]) for f in named}
        assert rules == {("allowlisted", f"vex:{vex}#0")}, written.name
    code = cli.main(["explain", vulnerability, "--report", str(first), "--vex", str(vex), *AS_OF])
    shown, _err = capsys.readouterr()
    assert code == ExitCode.PASS
    assert "disposition: ALLOWLISTED" in " ".join(shown.split())
