"""Trusting one more CA file besides the usual ones, for every HTTPS connection of a requests
session: the GitLab API and the registries a GitLab job reads, whose certificates a GitLab
instance's own CA may sign (CI_SERVER_TLS_CA_FILE, which the command line picks)."""

from __future__ import annotations

import ssl
from typing import Any

import requests
from requests.adapters import HTTPAdapter


class _ContextAdapter(HTTPAdapter):
    """An HTTPS adapter whose connections verify with a given SSL context."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._context
        super().init_poolmanager(*args, **kwargs)


def trust_also(session: requests.Session, ca_file: str | None) -> None:
    """Make `session` trust the certificates of `ca_file` besides the usual ones (requests'
    bundle, and REQUESTS_CA_BUNDLE when set), as git and the runner's own uploads do with the CA
    file a GitLab runner gives its jobs. Nothing changes when there is none, or when it cannot be
    read: the connection then fails as before, and says so."""
    if not ca_file:
        return
    try:
        context = ssl.create_default_context(cafile=requests.utils.DEFAULT_CA_BUNDLE_PATH)
        context.load_verify_locations(cafile=ca_file)
    except (OSError, ValueError):  # ssl.SSLError is an OSError
        return
    session.mount("https://", _ContextAdapter(context))
