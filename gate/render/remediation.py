"""What every output says about the remediation actions (`Evaluation.plan`), in plain words.

The plan is the evaluation's own (gate/policy/plan.py); this module only words it, the same way
for the terminal, the Markdown summary, the annotations, SARIF and GitLab. The words hold report
text (package names, versions, the base image's name) unescaped: each renderer makes them safe
for its format, as it does every other piece of report text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from gate.model import LayerOrigin, Severity
from gate.policy.actions import Action, ActionKind
from gate.policy.evaluation import Decision, Disposition, EntryReport, EntryState, Evaluation, counted
from gate.policy.model import Mode

EXPIRING_DAYS = 14
"""An allowlist entry that expires within this many days is listed as needing attention."""


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 finding`, `2 findings`."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def severity_words(counts: Mapping[Severity, int]) -> str:
    """`11 CRITICAL, 51 HIGH`: the counts, most severe first."""
    return ", ".join(f"{n} {severity.name}" for severity, n in counts.items() if n)


def upgrade_words(action: Action, arrow: str = "→") -> str:
    """`curl (libcurl4) 7.88.1-10 → 7.88.1-10+deb12u5`: what is upgraded, from which version to which."""
    names = action.package
    if action.packages != (action.package,):
        names += f" ({', '.join(action.packages)})"
    if action.target_version is None:
        return f"{names} {action.installed_version} (no listed fix is known to be newer){direct_words(action, arrow)}"
    return f"{names} {action.installed_version} {arrow} {action.target_version}{direct_words(action, arrow)}"


FIXES_SHOWN = 6
"""Packages a direct dependency's upgrade brings fixed versions of named in its words; then `N more`."""

NO_DIRECT_UPGRADE_WORDS = "no upgrade of a direct dependency brings the fix: pin or override it"
"""What an upgrade of a package pulled in through others says when the scanner says no upgrade
of a direct dependency fixes it (Snyk's `isUpgradable: false`)."""


def direct_words(action: Action, arrow: str = "→", code: Callable[[str], str] = str) -> str:
    """` (fixes qs 0.4.2 → 6.0.4, mime 1.2.4 → 1.4.1)` for the upgrade of a direct dependency: the
    packages it pulls in that it brings fixed versions of, `code` applied to each name and
    version (a Markdown cell's code spans); ` (no upgrade of a direct dependency ...)` when the
    scanner says none does; else empty."""
    if action.no_direct_upgrade:
        return f" ({NO_DIRECT_UPGRADE_WORDS})"
    if not action.fixes:
        return ""
    shown = [
        f"{code(fix.package)} {code(fix.installed_version)}"
        + (f" {arrow} {code(fix.target_version)}" if fix.target_version else "")
        for fix in action.fixes[:FIXES_SHOWN]
    ]
    more = len(action.fixes) - FIXES_SHOWN
    return f" (fixes {', '.join(shown)}{f', {more} more' if more > 0 else ''})"


PINNED_WORDS = "update a digest pinned in FROM to the tag's current one"
"""What a rebuild on a base image named with a digest needs first: a plain rebuild of a `FROM
NAME:TAG@DIGEST` keeps that digest's image, the very one the findings come from."""


# A digest as the OCI image spec writes one (`sha256:...`): what follows the `@` of a reference
# that pins one. An `@` elsewhere is part of a name (`oci-archive:/ci/app@2/base.tar:v1`, a path of
# a CI runner's second workspace), not a pin.
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+\Z")


LATEST_PINNED_WORDS = "update a digest pinned in FROM to the current one of latest, the tag it means"
"""`PINNED_WORDS` for a registry image pinned by a digest alone (`debian@sha256:...`): there is no
tag in FROM, and the one a refresh means is `latest`, as `docker pull debian` takes."""
UNTAGGED_PINNED_WORDS = "update a digest pinned in FROM to the one the image has now"
"""`PINNED_WORDS` for a base that is no registry name (an archive's path) pinned by a digest alone:
it has no tag to name."""

# A registry image's name without a tag (`debian`, `ghcr.io/org/base`, `localhost:5000/base`): the
# distribution spec's repository name, after an optional registry host and port.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAGLESS = re.compile(rf"(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*\Z")


def _refreshed(action: Action) -> tuple[str, str]:
    """The base image as the refreshed one is named, and what a rebuild needs first when a digest
    pins it (`PINNED_WORDS`, or its words for a base pinned without a tag), else ""."""
    name, at, digest = action.package.rpartition("@")  # a digest is last; a path may hold an `@`
    if not (at and name and _DIGEST.match(digest)):
        return action.package, ""
    if _TAGLESS.match(name):
        return f"{name}:latest", LATEST_PINNED_WORDS
    # A name with a tag has a `:` after its last `/`; an archive's path without one has no tag.
    return name, PINNED_WORDS if ":" in name.rpartition("/")[2] else UNTAGGED_PINNED_WORDS


def refreshed_base(action: Action) -> str:
    """For a base refresh, the base image as the refreshed one is named, without a digest the
    reference pins (`debian:12` of `debian:12@sha256:...`: the digest names the image in use, not
    a refreshed one; `debian:latest` of `debian@sha256:...`, the tag a name without one means)."""
    return _refreshed(action)[0]


def pinned_words(action: Action) -> str:
    """What a rebuild on the base image needs first when a digest pins it (`PINNED_WORDS`, or its
    words for a base pinned without a tag), else empty. Plain words: nothing to escape."""
    return _refreshed(action)[1] if action.kind is ActionKind.BASE_REFRESH else ""


def what_to_do(action: Action, arrow: str = "→", *, pinned: bool = True) -> str:
    """`Rebuild on a refreshed base image debian:12`, `Upgrade lodash 4.17.11 → 4.17.21`. A base
    image named with a digest adds `pinned_words` in parentheses, unless `pinned` is False (the
    caller says them apart)."""
    if action.kind is ActionKind.BASE_REFRESH:
        name, words = _refreshed(action)
        text = f"Rebuild on a refreshed base image {name}".rstrip()
        return f"{text} ({words})" if words and pinned else text
    return f"Upgrade {upgrade_words(action, arrow)}"


def estimate_words(action: Action) -> str:
    """For a base refresh: `fixes are published for 163 of its 175 findings`; else empty."""
    if not action.estimated:
        return ""
    fixable, total = len(action.findings), action.base_findings
    if total == 1:
        return "a fix is published for its one finding"
    if fixable == total:
        return f"fixes are published for all {total} of its findings"
    return f"fixes are published for {fixable} of its {total} findings"


def where_words(action: Action, *, base_name: bool = True) -> str:
    """`base image debian:12 (Dockerfile line 1)`, `own layer app/node_modules/lodash (Dockerfile
    line 6)`: where its packages were installed, as far as it is known; empty when nothing is."""
    if action.origin is LayerOrigin.BASE:
        # Only a base refresh is named after the base image; an upgrade's package is no image.
        named = base_name and action.package and action.kind is ActionKind.BASE_REFRESH
        where = f"base image {action.package}" if named else "base image"
    elif action.origin is LayerOrigin.OWN:
        where = "own layer"
    else:
        where = ""
    if action.path and action.kind is ActionKind.PACKAGE_UPGRADE:
        where = f"{where} {action.path}".strip()
    if action.dockerfile_line is not None:
        where = f"{where} (Dockerfile line {action.dockerfile_line})".strip()
    return where


@dataclass(frozen=True)
class Lead:
    """The one sentence after the verdict: how many findings block, how many actions clear them."""

    blocking: int
    """Findings that block, or would (advisory mode, budgets)."""
    actions: int
    """Actions that clear at least one of them."""
    without_fix: int
    """Of them, findings no published version fixes yet."""
    verb: str
    """`block`, `would block under an enforcing policy`, `are tolerated by budgets`."""

    def sentence(self) -> str:
        if not self.blocking:
            return "Nothing blocks."
        head = f"{plural(self.blocking, 'finding')} {self.verb if self.blocking > 1 else self.verb_one}"
        if not self.actions:
            return f"{head}; none has a fix yet."
        cleared = self.blocking - self.without_fix
        does = "clears" if self.actions == 1 else "clear"
        if not self.without_fix:
            return f"{head}; {plural(self.actions, 'action')} {does} {'it' if cleared == 1 else 'them'}."
        return (
            f"{head}; {plural(self.actions, 'action')} {does} {cleared} of them, "
            f"and {self.without_fix} {'has' if self.without_fix == 1 else 'have'} no fix yet."
        )

    @property
    def verb_one(self) -> str:
        return {"block": "blocks", "are tolerated by budgets": "is tolerated by a budget"}.get(
            self.verb, self.verb
        )


def lead(evaluation: Evaluation) -> Lead:
    """The lead sentence's facts: blocking findings, else those that would block."""
    plan = evaluation.plan
    blocking = evaluation.counts[Disposition.BLOCKING]
    if blocking:
        actions = sum(1 for a in plan.actions if a.blocking)
        return Lead(blocking, actions, plan.no_fix.blocking, "block")
    would = evaluation.counts.would_block
    verb = (
        "would block under an enforcing policy"
        if evaluation.policy.mode is Mode.ADVISORY
        else "are tolerated by budgets"
    )
    return Lead(would, len(plan.clearing), plan.no_fix.would_block, verb)


def counts_blocking_only(evaluation: Evaluation) -> bool:
    """Whether the summaries count the findings that block: yes as soon as one does. Only when none
    does do they count those that would (advisory mode, budgets), so that a trial of a policy still
    leads with its actions. Beside blocking findings, those a budget tolerates are informational, as
    the counts say: the lead, the actions' counts and the lists of what they clear leave them out."""
    return bool(evaluation.counts[Disposition.BLOCKING])


def clearing_actions(evaluation: Evaluation) -> tuple[Action, ...]:
    """The actions that clear at least one counted finding (`counts_blocking_only`), in the plan's order."""
    plan = evaluation.plan
    if counts_blocking_only(evaluation):
        return tuple(action for action in plan.actions if action.blocking)
    return plan.clearing


def base_unknown_words(give: str) -> str:
    """Below the actions of a scan that found no base image (`base_unknown`): `give` says how the
    run's user gives one (`JsonReportHint.base_image`, `.base_image_plain`)."""
    return (
        f"the base image is not known, so each package is an action of its own: {give} and the base "
        "image's packages are one action, a rebuild on a refreshed base image"
    )


def base_unknown(evaluation: Evaluation) -> bool:
    """Whether the listed actions are upgrades of several packages of an image scanned without
    knowing its base image: given one, those of the base image's layers would be one refresh."""
    image = evaluation.report.image
    if image is None or not image.base_sought or image.base_layer_count is not None:
        return False
    upgrades = [a for a in clearing_actions(evaluation) if a.kind is ActionKind.PACKAGE_UPGRADE]
    return len(upgrades) > 1


def cleared(action: Action, blocking_only: bool) -> int:
    """How many of the counted findings (`counts_blocking_only`) the action clears."""
    return action.blocking if blocking_only else action.would_block


def cleared_by_severity(action: Action, decisions: Sequence[Decision]) -> Mapping[Severity, int]:
    """Per severity, most severe first, the counted findings the action clears: `decisions`, the
    action's list from `clearing_decisions`."""
    if len(decisions) == action.would_block:
        return action.blocking_by_severity
    # Some of its findings are tolerated by a budget beside findings that block: count the rest.
    counts = Counter(decision.finding.severity for decision in decisions)
    return {severity: counts[severity] for severity in sorted(counts, reverse=True)}


def known_exploited(decisions: Sequence[Decision]) -> int:
    """How many of `decisions` CISA lists as known exploited."""
    return sum(1 for decision in decisions if decision.kev is not None)


def clearing_decisions(evaluation: Evaluation) -> tuple[dict[str, list[Decision]], list[Decision]]:
    """The counted findings (`counts_blocking_only`: those that block, else those that would), by
    the id of the action that clears them, each list in the report's order; and those of them no
    published version fixes."""
    by_action: dict[str, list[Decision]] = {}
    without_fix: list[Decision] = []
    blocking_only = counts_blocking_only(evaluation)
    for decision in evaluation.decisions:
        if not counted(decision, blocking_only):
            continue
        action_id = evaluation.plan.action_ids.get(decision.finding.key)
        if action_id is None:
            without_fix.append(decision)
        else:
            by_action.setdefault(action_id, []).append(decision)
    return by_action, without_fix


def listing_a_stale_fix(without_fix: Sequence[Decision]) -> str:
    """What to add where findings no published version fixes are advised about, when some of them
    list a fix all the same: one no newer than the installed version (the plan's no-fix group
    holds them, as upgrading to it clears nothing). Empty when none does."""
    count = sum(1 for decision in without_fix if decision.finding.fixed_versions)
    if not count:
        return ""
    they = "it lists" if len(without_fix) == 1 else f"{count} of them {'lists' if count == 1 else 'list'}"
    return f"{they} a fix no newer than the installed version"


def expiring_in(evaluation: Evaluation, item: EntryReport) -> int | None:
    """The days until a used allowlist entry's last day, when that is within `EXPIRING_DAYS` of
    the evaluation (0: today); None for an entry without a date, further off, expired or unused."""
    expires = item.entry.expires
    if item.state is not EntryState.USED or expires is None:
        return None
    today = evaluation.now.astimezone(dt.UTC).date() if evaluation.now.tzinfo else evaluation.now.date()
    days = (expires - today).days
    return days if days < EXPIRING_DAYS else None


def needs_attention(evaluation: Evaluation) -> list[tuple[EntryReport, str]]:
    """Allowlist entries to look at, with what is the matter: expired, expiring within
    `EXPIRING_DAYS` days of the evaluation, or matching nothing. In the policy's order."""
    found = []
    for item in evaluation.entries:
        expires = item.entry.expires
        if item.state is EntryState.EXPIRED and expires is not None:
            state = f"expired on {expires.isoformat()}"
            if item.would_match:
                state += f", would match {plural(item.would_match, 'finding')}"
            found.append((item, state))
        elif item.state is EntryState.UNUSED:
            found.append((item, "matched no finding"))
        elif (days := expiring_in(evaluation, item)) is not None:
            assert expires is not None  # noqa: S101 - expiring_in says so
            found.append(
                (
                    item,
                    f"expires {days_words(days)} ({expires.isoformat()}), matches {plural(item.matched, 'finding')}",
                )
            )
    return found


def days_words(days: int) -> str:
    """`today`, `in 1 day`, `in 3 days`."""
    return "today" if days == 0 else f"in {plural(days, 'day')}"
