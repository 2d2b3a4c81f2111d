"""The hidden marker of the pull-request comment and the merge-request note: one format for both."""

from __future__ import annotations

import hashlib

from gate.platforms.github_event import comment_key
from gate.platforms.gitlab import note_key
from gate.platforms.marker import MarkerKey, MarkerKind, kept_and_duplicates, stable_image

SHA = "0123456789abcdef0123456789abcdef01234567"


def sha16(*values: str) -> str:
    return hashlib.sha256("\0".join(values).encode()).hexdigest()[:16]


def test_the_github_marker_is_hashes_of_workflow_job_image_and_platform() -> None:
    env = {"GITHUB_WORKFLOW": "CI", "GITHUB_JOB": "gate"}
    key = comment_key(env, f"ghcr.io/acme/app:sha-{SHA[:7]}@sha256:{'a' * 64}", "linux/amd64", (SHA,))
    assert key.marker == (
        f"<!-- container-gate:github-comment v1 job={sha16('CI', 'gate')} "
        f"image={sha16('ghcr.io/acme/app:sha-')} platform={sha16('linux/amd64')} -->"
    )
    assert MarkerKey.parse(MarkerKind.GITHUB_COMMENT, key.marker + "\r\n### body") == key


def test_the_gitlab_marker_keys_the_job_name_and_drops_the_commit_from_the_tag() -> None:
    env = {"CI_JOB_NAME": "container-gate", "CI_COMMIT_SHA": SHA}
    key = note_key(env, f"registry.example/app:{SHA}", None)
    assert key.marker == (
        f"<!-- container-gate:gitlab-note v1 job={sha16('container-gate')} "
        f"image={sha16('registry.example/app:')} platform={sha16('')} -->"
    )
    assert MarkerKey.parse(MarkerKind.GITLAB_NOTE, key.marker) == key


def test_a_marker_of_the_other_platform_or_not_a_whole_line_is_not_ours() -> None:
    key = note_key({"CI_JOB_NAME": "gate"}, None, None)
    assert MarkerKey.parse(MarkerKind.GITHUB_COMMENT, key.marker) is None
    assert MarkerKey.parse(MarkerKind.GITLAB_NOTE, key.marker.replace(key.job, "X" * 16)) is None
    assert MarkerKey.parse(MarkerKind.GITLAB_NOTE, "hello " + key.marker) is None
    assert MarkerKey.parse(MarkerKind.GITLAB_NOTE, f"`{key.marker}`") is None


def test_a_marker_is_found_on_any_line_the_first_one_first() -> None:
    """Someone who may edit the comment (its author's repository) wrote above the marker: the
    comment stays the run's. Whose comment it is, the publishers check by its author."""
    key = note_key({"CI_JOB_NAME": "gate"}, None, None)
    other = note_key({"CI_JOB_NAME": "other"}, None, None)
    assert MarkerKey.parse(MarkerKind.GITLAB_NOTE, "hello\n" + key.marker) == key
    assert MarkerKey.parse(MarkerKind.GITLAB_NOTE, f"hello\r\n\r\n{key.marker}\r\nbody") == key
    assert MarkerKey.parse(MarkerKind.GITLAB_NOTE, f"{key.marker}\n{other.marker}") == key
    assert MarkerKey.parse(MarkerKind.GITLAB_NOTE, f"x\n{other.marker}\n{key.marker}") == other


def test_every_marker_of_a_comment_is_found_in_order_outside_code_blocks() -> None:
    key = note_key({"CI_JOB_NAME": "gate"}, None, None)
    other = note_key({"CI_JOB_NAME": "other"}, None, None)
    body = f"x\n{other.marker}\n```\n{other.marker}\n```\n{key.marker}\r\n{key.marker}"
    assert MarkerKey.parse_all(MarkerKind.GITLAB_NOTE, body) == (other, key, key)
    assert MarkerKey.parse_all(MarkerKind.GITHUB_COMMENT, body) == ()
    assert MarkerKey.parse_all(MarkerKind.GITLAB_NOTE, "no marker") == ()


def test_of_the_comments_bearing_the_runs_marker_the_oldest_of_its_own_alone_is_kept() -> None:
    shared = {"merged"}
    assert kept_and_duplicates(["a", "b"], False) == (["a"], ["b"], ", removed 1 duplicate(s)")
    assert kept_and_duplicates(["merged", "a", "b"], False, shared.__contains__) == (
        ["a"],
        ["b"],
        ", removed 1 duplicate(s)",
    )
    # Only a comment that bears another run's marker too: updated, never deleted.
    assert kept_and_duplicates(["merged"], False, shared.__contains__) == (["merged"], [], "")
    # Every one (an error said in each): still not one left to another run, unless it is the only one.
    assert kept_and_duplicates(["merged", "a", "b"], True, shared.__contains__) == (["a", "b"], (), "")
    assert kept_and_duplicates(["merged"], True, shared.__contains__) == (["merged"], (), "")


def test_a_marker_in_a_fenced_code_block_is_shown_text_not_a_marker() -> None:
    # Someone showing a marker, or a comment pasted whole into a code block of another comment:
    # the platform displays it, and the gate never writes its own inside one.
    key = note_key({"CI_JOB_NAME": "gate"}, None, None)
    other = note_key({"CI_JOB_NAME": "other"}, None, None)
    for fenced in (
        f"As the gate said:\n```\n{key.marker}\nblocked\n```",
        f"~~~~ markdown\r\n{key.marker}\r\n~~~\r\n{key.marker}",  # a shorter fence does not close it
        f"  ```\n{key.marker}",  # never closed: to the end of the comment
    ):
        assert MarkerKey.parse(MarkerKind.GITLAB_NOTE, fenced) is None, fenced
    # After the block, a marker is one again: the run's own comment, edited above its marker.
    edited = f"Waiting for the rebuild, as before:\n```\n{other.marker}\n```\n\n{key.marker}\nbody"
    assert MarkerKey.parse(MarkerKind.GITLAB_NOTE, edited) == key
    assert MarkerKey.parse(MarkerKind.GITLAB_NOTE, f"~~~\n```\n~~~ \n{key.marker}") == key


def test_the_stable_image_keeps_repository_and_tag_without_digest_or_commit() -> None:
    assert stable_image("localhost:5000/app:1.2@sha256:" + "b" * 64, ()) == "localhost:5000/app:1.2"
    assert stable_image("app", (SHA,)) == "app:"
    assert stable_image(f"app:{SHA[:9]}-slim", (SHA,)) == "app:-slim"
