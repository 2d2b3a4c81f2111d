"""State of the GitHub fake: accounts, tokens, repositories, pull requests and their issue comments.

Pure bookkeeping, no HTTP; the server holds its lock around every call. Pull requests are issues on
GitHub: they share the repository's issue numbers, and their conversation comments are issue comments.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Clock = Callable[[], datetime]
"""Source of created_at / updated_at and of rate-limit reset times (tests pass a fixed one)."""

AccountKind = Literal["User", "Bot", "Organization"]
"""The `type` GitHub shows for an account."""

ACTIONS_BOT = "github-actions[bot]"
"""The login GITHUB_TOKEN acts as in a workflow run."""

_ACTIONS_BOT_ID = 41898282  # the id api.github.com shows for github-actions[bot]
_NAME = re.compile(r"[A-Za-z0-9_.-]+")  # GitHub's alphabet for repository names (and, with [bot], logins)


def utc_now() -> datetime:
    """The real clock, truncated to seconds as GitHub's timestamps are."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Account:
    """A user, bot or organization."""

    login: str
    """Login as GitHub spells it (lookups ignore case)."""
    id: int
    """Numeric account id."""
    kind: AccountKind
    """`User`, `Bot` (logins ending in [bot]) or `Organization`."""


@dataclass(frozen=True)
class Token:
    """An access token the fake accepts."""

    account: Account
    """Who the token acts as; comments it creates are authored by this account."""
    can_write: bool
    """False for the read-only GITHUB_TOKEN of a pull request from a fork: writes answer 403."""


@dataclass(frozen=True)
class Repository:
    """A repository."""

    id: int
    """Repository id (used in the `/repositories/{id}` form of pagination links)."""
    owner: Account
    """Owning account."""
    name: str
    """Repository name."""
    default_branch: str
    """Default branch name."""

    @property
    def full_name(self) -> str:
        """`owner/name`."""
        return f"{self.owner.login}/{self.name}"


@dataclass(frozen=True)
class PullRequest:
    """An open pull request."""

    repository_id: int
    """Repository the pull request belongs to."""
    number: int
    """Issue number shared with the repository's issues."""
    title: str
    """Title (untrusted text)."""
    author: Account
    """Who opened it."""
    head_ref: str
    """Source branch."""
    head_sha: str
    """Commit at the head of the source branch."""
    base_ref: str
    """Target branch."""
    created_at: datetime
    """When it was opened."""


@dataclass(frozen=True)
class IssueComment:
    """A conversation comment on an issue or pull request."""

    id: int
    """Comment id, unique across the fake."""
    repository_id: int
    """Repository of the issue."""
    issue_number: int
    """Issue or pull-request number."""
    author: Account
    """Who wrote it."""
    body: str
    """Markdown body (untrusted text)."""
    created_at: datetime
    """Creation time."""
    updated_at: datetime
    """Last edit time."""


@dataclass(frozen=True)
class WorkflowRun:
    """A run of a workflow (GitHub Actions)."""

    id: int
    """Run id, unique across the fake."""
    repository_id: int
    """Repository the workflow belongs to."""
    workflow_id: int
    """Id of the workflow; its file name also names it in the API."""
    workflow_file: str
    """The workflow's file name under .github/workflows (`container-image.yml`)."""
    head_branch: str
    """The branch the run is for."""
    head_sha: str
    """The commit the run is for."""
    event: str
    """What triggered it (`push`, `pull_request`)."""
    conclusion: str | None
    """`success`, `failure`, ...; None while it runs."""
    created_at: datetime
    """When it started."""


class GitHubState:
    """Everything the fake knows; mutated only through these methods."""

    def __init__(self, clock: Clock = utc_now) -> None:
        self.clock = clock
        self._ids = itertools.count(1_000_001)
        self._accounts: dict[str, Account] = {}
        self._tokens: dict[str, Token] = {}
        self._repositories: dict[int, Repository] = {}
        self._next_issue: dict[int, int] = {}
        self._pulls: dict[tuple[int, int], PullRequest] = {}
        self._comments: dict[int, IssueComment] = {}
        self._runs: dict[int, WorkflowRun] = {}
        self.account(ACTIONS_BOT)

    def account(self, login: str, kind: AccountKind | None = None) -> Account:
        """The account with this login, created on first use."""
        found = self._accounts.get(login.lower())
        if found is not None:
            return found
        if not _NAME.fullmatch(login.removesuffix("[bot]")):
            raise ValueError(f"not a GitHub login: {login!r}")
        is_bot = login.endswith("[bot]")
        account = Account(
            login=login,
            id=_ACTIONS_BOT_ID if login == ACTIONS_BOT else next(self._ids),
            kind=kind or ("Bot" if is_bot else "User"),
        )
        self._accounts[login.lower()] = account
        return account

    def add_token(self, value: str, login: str = ACTIONS_BOT, *, can_write: bool = True) -> Token:
        """Accept `value` as a token acting as `login`."""
        token = Token(account=self.account(login), can_write=can_write)
        self._tokens[value] = token
        return token

    def token(self, value: str) -> Token | None:
        """The token with this value, if the fake knows it."""
        return self._tokens.get(value)

    def add_repository(self, full_name: str, *, default_branch: str = "main") -> Repository:
        """Create `owner/name`."""
        owner, _, name = full_name.partition("/")
        if not _NAME.fullmatch(name) or self.repository(owner, name) is not None:
            raise ValueError(f"cannot create repository {full_name!r}")
        repo = Repository(next(self._ids), self.account(owner), name, default_branch)
        self._repositories[repo.id] = repo
        self._next_issue[repo.id] = 1
        return repo

    def repository(self, owner: str, name: str) -> Repository | None:
        """Find a repository; GitHub ignores the case of owner and name."""
        for repo in self._repositories.values():
            if repo.owner.login.lower() == owner.lower() and repo.name.lower() == name.lower():
                return repo
        return None

    def repository_by_id(self, repository_id: int) -> Repository | None:
        """Find a repository by id."""
        return self._repositories.get(repository_id)

    def add_pull_request(
        self,
        repo: Repository,
        *,
        title: str = "Update the base image",
        author: str = "octocat",
        head_ref: str = "feature",
        head_sha: str = "6dcb09b5b57875f334f61aebed695e2e4193db5e",
        base_ref: str | None = None,
    ) -> PullRequest:
        """Open a pull request; it takes the repository's next issue number."""
        number = self._next_issue[repo.id]
        self._next_issue[repo.id] = number + 1
        pull = PullRequest(
            repo.id, number, title, self.account(author), head_ref, head_sha,
            base_ref or repo.default_branch, self.clock(),
        )  # fmt: skip
        self._pulls[(repo.id, number)] = pull
        return pull

    def pull_request(self, repo: Repository, number: int) -> PullRequest | None:
        """The pull request with this number, if any."""
        return self._pulls.get((repo.id, number))

    def push(self, repo: Repository, number: int, head_sha: str) -> PullRequest:
        """A push to the pull request's source branch: its head is now `head_sha`."""
        pull = dataclasses.replace(self._pulls[(repo.id, number)], head_sha=head_sha)
        self._pulls[(repo.id, number)] = pull
        return pull

    def add_comment(self, repo: Repository, number: int, author: Account, body: str) -> IssueComment:
        """Post a comment (also used by tests to seed earlier comments of people or of the gate)."""
        now = self.clock()
        comment = IssueComment(next(self._ids), repo.id, number, author, body, now, now)
        self._comments[comment.id] = comment
        return comment

    def comment(self, comment_id: int) -> IssueComment | None:
        """The comment with this id, if any."""
        return self._comments.get(comment_id)

    def update_comment(self, comment_id: int, body: str) -> IssueComment:
        """Replace a comment's body."""
        updated = dataclasses.replace(self._comments[comment_id], body=body, updated_at=self.clock())
        self._comments[comment_id] = updated
        return updated

    def delete_comment(self, comment_id: int) -> None:
        """Remove a comment."""
        del self._comments[comment_id]

    def comments_on(self, repo: Repository, number: int) -> list[IssueComment]:
        """The comments of one issue, oldest first (GitHub's order for this list)."""
        found = [
            c for c in self._comments.values() if c.repository_id == repo.id and c.issue_number == number
        ]
        return sorted(found, key=lambda c: c.id)

    def add_workflow_run(
        self,
        repo: Repository,
        workflow_file: str,
        *,
        head_branch: str,
        event: str = "push",
        conclusion: str | None = "success",
        head_sha: str = "6dcb09b5b57875f334f61aebed695e2e4193db5e",
    ) -> WorkflowRun:
        """Record a run of `workflow_file` (one workflow id per file name and repository)."""
        same = [
            r.workflow_id
            for r in self._runs.values()
            if (r.repository_id, r.workflow_file) == (repo.id, workflow_file)
        ]
        run = WorkflowRun(
            next(self._ids), repo.id, same[0] if same else next(self._ids), workflow_file, head_branch,
            head_sha, event, conclusion, self.clock(),
        )  # fmt: skip
        self._runs[run.id] = run
        return run

    def workflow_runs(self, repo: Repository, workflow: int | str) -> list[WorkflowRun]:
        """The runs of a workflow named by id or file name, newest first (GitHub's order)."""
        found = [
            r
            for r in self._runs.values()
            if r.repository_id == repo.id and workflow in (r.workflow_id, r.workflow_file)
        ]
        return sorted(found, key=lambda r: (r.created_at, r.id), reverse=True)
