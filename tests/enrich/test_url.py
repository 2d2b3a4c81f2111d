"""How a mirror URL is shown (credentials hidden) and split into what is requested and the Basic
credentials sent with it."""

from __future__ import annotations

import pytest

from gate.enrich._url import masked, shown_url, split_credentials


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("https://mirror.example/kev.json", "https://mirror.example/kev.json"),
        ("http://user:SECRETPW@127.0.0.1:9/k", "http://***@127.0.0.1:9/k"),
        ("http://user@127.0.0.1/k", "http://***@127.0.0.1/k"),
        ("https://a:b@c@mirror.example/k", "https://***@mirror.example/k"),
        (
            "https://mirror.example/k?token=SECRET&day=2026-09-29",
            "https://mirror.example/k?token=***&day=2026-09-29",
        ),
        (
            "https://bucket.example/e.gz?X-Amz-Credential=AKIA&X-Amz-Signature=ab12#top",
            "https://bucket.example/e.gz?X-Amz-Credential=***&X-Amz-Signature=***#top",
        ),
        ("https://acct.example/e.gz?sv=2022&sig=abc%3D", "https://acct.example/e.gz?sv=2022&sig=***"),
        (
            "https://mirror.example/k?api_key=1&access_token=2",
            "https://mirror.example/k?api_key=***&access_token=***",
        ),
        ("https://mirror.example/k?token=", "https://mirror.example/k?token="),
        ("ftp://user:SECRETPW@h/k", "ftp://***@h/k"),
        ("http://user:SECRETPW@[::1/k", "http://***@[::1/k"),
        ("http://user:SECRET\nPW@host/k", "http://***@host/k"),
        ("not a url?password=x", "not a url?password=***"),
    ],
)
def test_shown_url_hides_the_user_password_and_credential_like_query_values(given: str, shown: str) -> None:
    assert shown_url(given) == shown


@pytest.mark.parametrize(
    ("given", "request_url", "credentials"),
    [
        ("https://mirror.example/kev.json", "https://mirror.example/kev.json", None),
        ("http://user:SECRETPW@127.0.0.1:9/k?a=1", "http://127.0.0.1:9/k?a=1", ("user", "SECRETPW")),
        ("https://us%40er:p%3Ass@mirror.example/k", "https://mirror.example/k", ("us@er", "p:ss")),
        ("https://token@mirror.example/k", "https://mirror.example/k", ("token", "")),
    ],
)
def test_split_credentials_takes_the_user_and_password_out_of_the_url(
    given: str, request_url: str, credentials: tuple[str, str] | None
) -> None:
    assert split_credentials(given) == (request_url, credentials)


def test_masked_hides_the_password_and_query_secrets_in_any_text() -> None:
    url = "https://user:p%2Fw@mirror.example/k?token=T0KEN&day=1"
    text = "failed at https://mirror.example/k?token=T0KEN with p/w and p%2Fw (user, day 1)"
    assert masked(text, url) == "failed at https://mirror.example/k?token=*** with *** and *** (user, day 1)"
