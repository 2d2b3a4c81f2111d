"""State of the GitLab fake: users, access and job tokens, projects, merge requests and notes.

Pure data and bookkeeping; no HTTP here. The JSON shapes (`note_entity`, `user_entity`) follow the
examples of doc/api/notes.md and doc/api/users.md; the sources are listed in `gitlab_server`.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

Role = Literal["developer", "maintainer", "owner"]
"""Project role of a user; the fake gives every user the same role in every project."""

Clock = Callable[[], datetime]
"""Source of timestamps for created_at / updated_at (and the rate-limit reset time)."""


@dataclass(frozen=True)
class User:
    id: int
    """Global user id, as `author.id` shows it."""
    username: str
    """Login name, as `author.username` shows it."""
    name: str
    """Display name."""
    role: Role
    """Role in every project: maintainers and owners may edit other people's notes."""
    bot: bool
    """True for project/group access token users (GitLab creates a bot user for those)."""


@dataclass(frozen=True)
class AccessToken:
    user: User
    """The user the token authenticates as."""
    scopes: frozenset[str]
    """Token scopes; `api` allows writes, `read_api` only GET requests."""


@dataclass(frozen=True)
class JobToken:
    user: User
    """The user who started the job; the job token acts with this user's role."""
    project_id: int
    """Project whose pipeline runs the job; its allowlist holds only itself by default."""


@dataclass(frozen=True)
class Project:
    id: int
    """Numeric project id (`CI_PROJECT_ID`)."""
    path_with_namespace: str
    """Full path such as `acme/web` (`CI_PROJECT_PATH`); `:id` may be this, URL-encoded."""


@dataclass(frozen=True)
class MergeRequest:
    id: int
    """Global id (a note's `noteable_id`)."""
    iid: int
    """Per-project id used in URLs (`CI_MERGE_REQUEST_IID`, a note's `noteable_iid`)."""
    project_id: int
    """Project the merge request belongs to."""


@dataclass(frozen=True)
class Note:
    id: int
    """Global note id."""
    body: str
    """Markdown text as stored."""
    author: User
    """Who wrote it: the token's user for notes created through the API."""
    created_at: datetime
    """Creation time (UTC)."""
    updated_at: datetime
    """Last modification time (UTC)."""
    system: bool
    """System notes record events (pushes, approvals); nobody can edit them."""
    internal: bool
    """Internal (formerly confidential) note."""
    merge_request: MergeRequest
    """The merge request the note is on."""


class TickingClock:
    """A deterministic clock: every reading is `step` after the previous one, so order is testable."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(seconds=1)) -> None:
        self._next = start or datetime(2024, 1, 1, tzinfo=UTC)
        self._step = step

    def __call__(self) -> datetime:
        now = self._next
        self._next = now + self._step
        return now


def format_time(moment: datetime) -> str:
    # GitLab answers with milliseconds ("...T08:57:14.000Z"); the doc examples drop them.
    # Clients must parse both, so the fake uses the form real answers have.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class GitLabState:
    """Everything the fake knows. Not thread-safe by itself: the server serialises requests."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.users: dict[int, User] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.job_tokens: dict[str, JobToken] = {}
        self.projects: dict[int, Project] = {}
        self.merge_requests: dict[tuple[int, int], MergeRequest] = {}
        self.notes: dict[int, Note] = {}
        self.artifacts: dict[tuple[int, str, str, str], bytes] = {}
        """(project id, ref, job name, path in the archive) -> the file of the latest successful
        pipeline of that ref whose job of that name ran."""
        self._user_ids = itertools.count(1)
        self._project_ids = itertools.count(1000)
        self._mr_ids = itertools.count(50_000)
        self._note_ids = itertools.count(900_000)

    def add_user(self, username: str, name: str, role: Role, bot: bool) -> User:
        user = User(next(self._user_ids), username, name, role, bot)
        self.users[user.id] = user
        return user

    def add_project(self, path_with_namespace: str, project_id: int | None) -> Project:
        if self.find_project(path_with_namespace) is not None:
            raise ValueError(f"project {path_with_namespace!r} already exists")
        project = Project(
            project_id if project_id is not None else next(self._project_ids), path_with_namespace
        )
        if project.id in self.projects:
            raise ValueError(f"project id {project.id} already exists")
        self.projects[project.id] = project
        return project

    def add_merge_request(self, project: Project, iid: int) -> MergeRequest:
        if (project.id, iid) in self.merge_requests:
            raise ValueError(f"merge request !{iid} already exists in {project.path_with_namespace}")
        mr = MergeRequest(next(self._mr_ids), iid, project.id)
        self.merge_requests[(project.id, iid)] = mr
        return mr

    def find_project(self, ref: str) -> Project | None:
        """`ref` is a numeric id or a full path; GitLab matches paths case-insensitively."""
        if ref.isdigit():
            return self.projects.get(int(ref))
        wanted = ref.lower()
        return next((p for p in self.projects.values() if p.path_with_namespace.lower() == wanted), None)

    def add_note(
        self,
        mr: MergeRequest,
        body: str,
        author: User,
        *,
        system: bool = False,
        internal: bool = False,
        created_at: datetime | None = None,
    ) -> Note:
        moment = created_at or self.clock()
        note = Note(next(self._note_ids), body, author, moment, moment, system, internal, mr)
        self.notes[note.id] = note
        return note

    def update_note(self, note: Note, body: str) -> Note:
        updated = dataclasses.replace(note, body=body, updated_at=self.clock())
        self.notes[note.id] = updated
        return updated

    def notes_on(self, mr: MergeRequest) -> list[Note]:
        """Notes of one merge request, oldest id first."""
        return sorted((n for n in self.notes.values() if n.merge_request == mr), key=lambda n: n.id)


def user_entity(user: User, base_url: str) -> dict[str, object]:
    """A note's `author` object, with the fields doc/api/notes.md shows."""
    return {
        "id": user.id,
        "username": user.username,
        "email": f"{user.username}@example.com",
        "name": user.name,
        "state": "active",
        "web_url": f"{base_url}/{user.username}",
        "created_at": "2023-01-01T00:00:00.000Z",
    }


def current_user_entity(user: User, base_url: str) -> dict[str, object]:
    """`GET /user` for a non-administrator (doc/api/users.md, "List current user"), trimmed."""
    return {**user_entity(user, base_url), "bot": user.bot, "public_email": None}


def note_entity(note: Note, base_url: str) -> dict[str, object]:
    """A merge-request note as doc/api/notes.md "Get single merge request note" shows it."""
    return {
        "id": note.id,
        "type": None,
        "body": note.body,
        "attachment": None,
        "author": user_entity(note.author, base_url),
        "created_at": format_time(note.created_at),
        "updated_at": format_time(note.updated_at),
        "system": note.system,
        "noteable_id": note.merge_request.id,
        "noteable_type": "MergeRequest",
        "project_id": note.merge_request.project_id,
        "noteable_iid": note.merge_request.iid,
        "resolvable": False,
        "confidential": note.internal,
        "internal": note.internal,
        "imported": False,
        "imported_from": "none",
    }
