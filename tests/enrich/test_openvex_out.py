"""The OpenVEX document of a run's decisions: valid against the published schema, byte-identical for
the same inputs, and read back into the same statements and the same decisions."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema
import pytest

from gate.enrich.openvex_out import ID_PREFIX, OutStatement, render_openvex
from gate.enrich.vex import Justification, VexIndex, VexStatement, VexStatus, parse_vex
from gate.scanners.ingest import load_report
from tests.support.corpus import corpus_file
from tests.support.repo_paths import TEST_DATA

SCHEMA = json.loads((TEST_DATA / "schemas" / "openvex.json").read_text(encoding="utf-8"))
AS_OF = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
IMAGE = "pkg:oci/keycloak@sha256%3A347a0d748d05a050dc64b92de2246d2240db6eb38afbc17c3c08d0acb0db1b50?repository_url=docker.io%2Fkeycloak%2Fkeycloak"
IMAGE_ID = "sha256:8cf8fd2be2ded92962d52adff75ad06a4c30f69c66facbdf223364c6c9e33b8c"

STATEMENTS = [
    OutStatement(
        vulnerability_id="CVE-2020-12413",
        status=VexStatus.NOT_AFFECTED,
        products=(IMAGE, IMAGE_ID),
        subcomponents=(
            "pkg:rpm/rhel/nss@3.79.0-17.el9_1?arch=x86_64&distro=rhel-9.1",
            "pkg:rpm/rhel/nspr@4.34.0-17.el9_1?arch=x86_64&distro=rhel-9.1",
        ),
        justification=Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH,
        impact_statement="The Raccoon attack needs TLS-DH, which keycloak never negotiates — «quoted»",
        status_notes="allowlist entry 3 of policy.yaml, expires 2027-01-31",
    ),
    OutStatement(
        vulnerability_id="CVE-2023-0001",
        status=VexStatus.AFFECTED,
        products=(IMAGE,),
        aliases=("GHSA-aaaa-bbbb-cccc", "CVE-2023-0001"),
        action_statement="Upgrade nss to 3.90",
        timestamp=datetime(2026, 9, 1, 8, 30, tzinfo=timezone(timedelta(hours=2))),
    ),
    OutStatement(
        vulnerability_id="CVE-2022-0002",
        status=VexStatus.FIXED,
        products=("pkg:rpm/rhel/nss-util@3.79.0-17.el9_1",),
    ),
    OutStatement(
        vulnerability_id="CVE-2022-0003",
        status=VexStatus.UNDER_INVESTIGATION,
        products=(IMAGE_ID,),
    ),
]


def render(statements: list[OutStatement] = STATEMENTS, seed: str = "sha256:347a") -> str:
    return render_openvex(
        statements, author="Platform team <platform@example.com>", timestamp=AS_OF, doc_id_seed=seed
    )


def test_the_document_is_valid_openvex() -> None:
    text = render()
    document = json.loads(text)
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert text.endswith("}\n")
    assert document["@context"] == "https://openvex.dev/ns/v0.2.0"
    assert document["@id"].startswith(ID_PREFIX)
    assert document["timestamp"] == "2026-10-01T12:00:00Z"
    assert (document["author"], document["version"], document["tooling"]) == (
        "Platform team <platform@example.com>",
        1,
        "container-gate",
    )
    # Non-ASCII text is written as is.
    assert "«quoted»" in text


def test_the_schema_check_is_a_real_one() -> None:
    """The validator above refuses what OpenVEX forbids (so its passing means something)."""
    document = json.loads(render())
    document["statements"][0]["justification"] = "trust_me"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(document)


def test_the_same_inputs_give_the_same_bytes() -> None:
    text = render()
    assert render(list(reversed(STATEMENTS))) == text
    shuffled = OutStatement(
        vulnerability_id="CVE-2020-12413",
        status=VexStatus.NOT_AFFECTED,
        products=(IMAGE_ID, IMAGE, IMAGE),
        subcomponents=tuple(reversed(STATEMENTS[0].subcomponents)),
        justification=Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH,
        impact_statement=STATEMENTS[0].impact_statement,
        status_notes=STATEMENTS[0].status_notes,
    )
    assert shuffled == STATEMENTS[0]
    assert render([shuffled, *STATEMENTS[1:]]) == text
    # Identical statements are written once (the schema wants unique items).
    assert render([*STATEMENTS, STATEMENTS[0]]) == text
    statements = json.loads(text)["statements"]
    assert [s["vulnerability"]["name"] for s in statements] == [
        "CVE-2020-12413",
        "CVE-2022-0002",
        "CVE-2022-0003",
        "CVE-2023-0001",
    ]


def test_the_id_is_a_hash_of_everything_else() -> None:
    ids = {
        json.loads(text)["@id"]
        for text in (
            render(),
            render(seed="sha256:other"),
            render(STATEMENTS[:3]),
            render_openvex(STATEMENTS, author="Someone else", timestamp=AS_OF, doc_id_seed="sha256:347a"),
            render_openvex(
                STATEMENTS,
                author="Platform team <platform@example.com>",
                timestamp=AS_OF + timedelta(seconds=1),
                doc_id_seed="sha256:347a",
            ),
        )
    }
    assert len(ids) == 5
    assert all(len(i) == len(ID_PREFIX) + 64 for i in ids)


def as_out(statement: VexStatement) -> OutStatement:
    """A statement read back, in the form it was written from."""
    products = {p.identifiers for p in statement.products}
    subcomponents = {tuple(sub.identifiers for sub in p.subcomponents) for p in statement.products}
    assert all(len(ids) == 1 for ids in products)
    assert len(subcomponents) == 1  # every product carries the same subcomponents
    return OutStatement(
        vulnerability_id=statement.vulnerability_id,
        status=statement.status,
        products=tuple(ids[0] for ids in products),
        subcomponents=tuple(ids[0] for ids in subcomponents.pop()),
        aliases=statement.aliases,
        justification=Justification(statement.justification) if statement.justification else None,
        impact_statement=statement.impact_statement,
        action_statement=statement.action_statement,
        status_notes=statement.status_notes,
        timestamp=statement.timestamp,
    )


def test_reading_it_back_gives_the_same_statements() -> None:
    read = parse_vex(render().encode(), "out.openvex.json")
    assert {s.author for s in read} == {"Platform team <platform@example.com>"}
    assert [s.index for s in read] == [0, 1, 2, 3]
    # A statement without its own time carries the document's.
    expected = sorted(
        (s if s.timestamp else OutStatement(**{**s.__dict__, "timestamp": AS_OF}) for s in STATEMENTS),
        key=lambda s: s.vulnerability_id,
    )
    assert sorted((as_out(s) for s in read), key=lambda s: s.vulnerability_id) == expected


def test_reading_it_back_against_the_report_gives_the_same_decisions() -> None:
    report = load_report(corpus_file("grype", "keycloak-test.json"))
    index = VexIndex(parse_vex(render().encode(), "out.openvex.json"), report.image)
    decisions = {
        (f.package.name, decided.status if (decided := index.decide(f)) else None) for f in report.findings
    }
    assert decisions == {
        ("nss", VexStatus.NOT_AFFECTED),
        ("nspr", VexStatus.NOT_AFFECTED),
        ("nss-softokn", None),
        ("nss-softokn-freebl", None),
        ("nss-sysinit", None),
        ("nss-util", None),
    }
    # Without the digest, the image ID product still names the same image.
    by_id = [OutStatement(**{**STATEMENTS[0].__dict__, "products": (IMAGE_ID,)})]
    index = VexIndex(parse_vex(render(by_id).encode(), "by-id.json"), report.image)
    assert sorted(f.package.name for f in report.findings if index.decide(f)) == ["nspr", "nss"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"products": ()}, "the statement about CVE-1 names no product"),
        ({"vulnerability_id": " "}, "an OpenVEX statement needs a vulnerability name"),
        (
            {"status": VexStatus.NOT_AFFECTED},
            "not_affected for CVE-1 needs a justification or an impact statement",
        ),
        ({"status": VexStatus.AFFECTED}, "affected for CVE-1 needs an action statement"),
    ],
)
def test_a_statement_the_schema_would_refuse_is_a_programming_error(
    fields: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {
        "vulnerability_id": "CVE-1",
        "status": VexStatus.FIXED,
        "products": ("pkg:oci/app",),
    }
    with pytest.raises(ValueError, match=message):
        OutStatement(**{**values, **fields})


def test_a_document_needs_a_statement_and_an_author() -> None:
    with pytest.raises(ValueError, match="at least one statement"):
        render([])
    with pytest.raises(ValueError, match="needs an author"):
        render_openvex(STATEMENTS, author=" ", timestamp=AS_OF, doc_id_seed="")
