"""How the user of a run gives a registry's credentials, in the words of the way the gate runs.

A registry that refuses a read is answered with what to do: `docker login HOST` on the command
line, whose login the gate and the scanners read from the Docker config. The GitHub Action's
users cannot run `docker login` where the gate runs (its container never sees the runner's
config): they set the action's `registry` inputs. The GitLab job writes its own Docker config for
the project's registry: another registry needs a config of the user's, named by DOCKER_CONFIG.
The command line chooses the wording (`gate.cli.run_by.login_hint`); this module only words it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoginHint:
    """What to do about a registry that wants credentials, or refused the ones it was given."""

    needed: str
    """For a registry that refused anonymous access (`{registry}`: its name)."""
    refused: str
    """For a registry that refused the credentials it was given (`{registry}`: its name)."""

    def when_needed(self, registry: str) -> str:
        """The hint for a registry that refused anonymous access."""
        return self.needed.replace("{registry}", registry)

    def when_refused(self, registry: str) -> str:
        """The hint for a registry that refused the credentials it was given."""
        return self.refused.replace("{registry}", registry)


COMMAND_LINE_LOGIN = LoginHint("docker login {registry}", "docker login {registry} again")
"""On the command line: the gate and the scanners read the login `docker login` stores."""
ACTION_LOGIN = LoginHint(
    "set the action's `registry` input to {registry}, with `registry-username` and `registry-password`",
    "check the action's `registry-username` and `registry-password` inputs for {registry}",
)
"""In the GitHub Action, whose `registry` inputs give the login (docs/github-action.md)."""
GITLAB_LOGIN = LoginHint(
    "the job logs in to its project's registry only: for {registry}, point DOCKER_CONFIG at a "
    "Docker config with a login for it (docs/gitlab-ci.md, Registry credentials)",
    "check the login for {registry} in the Docker config DOCKER_CONFIG names: the job writes one "
    "for its project's registry from its own credentials (docs/gitlab-ci.md, Registry credentials)",
)
"""In the GitLab CI templates' job, which writes a Docker config for `CI_REGISTRY` unless
DOCKER_CONFIG names one (docs/gitlab-ci.md)."""
