"""Policy texts for the tests of policy loading: the problems a text gets, and the table of
mistakes in the exploitability keys (`fail_on.known_exploited`, `fail_on.epss`, `exploit_data`,
`ignore_suspects`), each with the one message it gets: each is checked in
tests/policy/test_exploit_policy.py, and docs/policy.md must quote only real messages
(tests/policy/test_load.py)."""

from __future__ import annotations

from gate.errors import PolicyError
from gate.policy.load import load_policy_text


def validate_text(text: str) -> list[str]:
    """The problems in `text`, empty when it loads."""
    try:
        load_policy_text(text, "policy.yaml")
    except PolicyError as err:
        return err.problems
    return []


EXPLOIT_MISTAKES = [
    (
        "fail_on:\n  known_exploitd: true\n",
        "policy.yaml:3: fail_on.known_exploitd: unknown key (did you mean 'known_exploited'?)",
    ),
    (
        "fail_on:\n  known_exploited: sometimes\n",
        "policy.yaml:3: fail_on.known_exploited: expected true or false, got 'sometimes'",
    ),
    ("fail_on:\n  epss: 2\n", "policy.yaml:3: fail_on.epss: expected a number from 0.0 to 1.0, got 2"),
    (
        "fail_on:\n  epss: high\n",
        "policy.yaml:3: fail_on.epss: expected a number from 0.0 to 1.0, got 'high'",
    ),
    (
        "base_image:\n  fail_on:\n    epss: -0.1\n",
        "policy.yaml:4: base_image.fail_on.epss: expected a number from 0.0 to 1.0, got -0.1",
    ),
    (
        "exploit_data:\n  kevv: kev.json\n",
        "policy.yaml:3: exploit_data.kevv: unknown key (did you mean 'kev'?)",
    ),
    ("exploit_data:\n  kev: ''\n", "policy.yaml:3: exploit_data.kev: expected a non-empty string, got ''"),
    (
        'exploit_data:\n  kev: "kev\\0.json"\n',
        "policy.yaml:3: exploit_data.kev: expected a file path without a NUL character, got 'kev\\x00.json'",
    ),
    (
        'exploit_data:\n  epss: "epss\\0.csv"\n',
        "policy.yaml:3: exploit_data.epss: expected a file path without a NUL character, got 'epss\\x00.csv'",
    ),
    (
        'exploit_data:\n  kev: "-"\n',
        "policy.yaml:3: exploit_data.kev: expected a file path, got '-': standard input (-) is read only "
        "for a report (check's REPORT, explain's --report, compare's NAME=-); give ./- for a file named -",
    ),
    (
        "exploit_data:\n  epss: '-'\n",
        "policy.yaml:3: exploit_data.epss: expected a file path, got '-': standard input (-) is read only "
        "for a report (check's REPORT, explain's --report, compare's NAME=-); give ./- for a file named -",
    ),
    (
        "exploit_data:\n  max_age_days: -1\n",
        "policy.yaml:3: exploit_data.max_age_days: expected a non-negative integer, got -1",
    ),
    (
        "exploit_data:\n  on_stale: warning\n",
        "policy.yaml:3: exploit_data.on_stale: expected one of warn, fail, got 'warning' (did you mean 'warn'?)",
    ),
    ("exploit_data: [kev.json]\n", "policy.yaml:2: exploit_data: expected a mapping, got a list"),
    (
        "ignore_suspects: [archs]\n",
        "policy.yaml:2: ignore_suspects[0]: expected one of arch, got 'archs' (did you mean 'arch'?)",
    ),
    ("kev: kev.json\n", "policy.yaml:2: kev: unknown key (it belongs under 'exploit_data')"),
    ("known_exploited: true\n", "policy.yaml:2: known_exploited: unknown key (it belongs under 'fail_on')"),
]
