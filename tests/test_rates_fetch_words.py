"""The exchange-rate fetch says why it failed in the reader's language: the reason is a
translation string of its own (not an English OS or guard message pasted into the
sentence); the job log keeps an English text without placeholders."""

from __future__ import annotations

import contextlib
import socket

import pytest
import transaction
from pyramid.request import Request
from pyramid.scripting import prepare

from kyklos.entities import rates_fetch


@contextlib.contextmanager
def _request(registry, lang):
    env = prepare(registry=registry, request=Request.blank("/", headers={"Accept-Language": lang}))
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=True)
    try:
        with request.tm:
            yield request
    finally:
        env["closer"]()


def _error(settings, url) -> rates_fetch.FetchError:
    with pytest.raises(rates_fetch.FetchError) as info:
        rates_fetch.download(settings, url)
    return info.value


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_address_is_explained_in_the_readers_language(registry):
    err = _error({}, "http://user:secret@example.com/rates.xml")
    # English for the job log, placeholders filled
    assert str(err) == (
        "The rate source may not be called: a user name or password in the address is not allowed."
    )
    with _request(registry, "el") as request:
        text = err.text(request)
    assert text.startswith("Η πηγή ισοτιμιών") and "${" not in text, text
    assert "user name" not in text and "password" not in text, text


def test_an_unreachable_source_is_explained_in_words(registry):
    settings = {"kyklos.webhooks.allow_networks": "127.0.0.0/8"}
    err = _error(settings, f"http://127.0.0.1:{_closed_port()}/rates.xml")
    assert str(err) == "The rate source could not be reached: it refused the connection."
    assert "Errno" not in str(err)
    for lang, words in (("el", "αρνήθηκε"), ("ro", "refuzat"), ("pl", "odrzuci")):
        with _request(registry, lang) as request:
            text = err.text(request)
        assert words in text and "refused" not in text, (lang, text)


def test_the_settings_page_flashes_the_reason_translated(api, client, registry):
    api("admin").patch_json(
        "/api/v1/_settings", {"rates.source_url": "http://user:pw@example.com/rates.xml"}
    )
    admin = client("admin")
    page = admin.get("/settings", headers={"Accept-Language": "el"})
    fetch = next(f for f in page.forms.values() if f.action.endswith("/settings/rates/fetch"))
    res = fetch.submit(headers={"Accept-Language": "el"}).follow(headers={"Accept-Language": "el"})
    assert "Η πηγή ισοτιμιών" in res.text
    assert "user name or password" not in res.text
