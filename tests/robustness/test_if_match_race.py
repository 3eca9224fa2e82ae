"""Two clients PATCH the same record with the same If-Match at the same moment: one
wins, the other gets 412 (never 500), on both databases."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


def _patch(url, token, etag, body, out, barrier):
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="PATCH",
        headers={
            "Authorization": f"Bearer {token}",
            "If-Match": etag,
            "Content-Type": "application/json",
        },
    )
    barrier.wait()
    try:
        with urllib.request.urlopen(req, timeout=30) as res:  # noqa: S310 - loopback
            out.append(res.status)
    except urllib.error.HTTPError as exc:
        out.append(exc.code)


def test_the_loser_of_an_if_match_race_gets_412(live_server, api, dbsession):
    from kyklos.security.models import User
    from kyklos.security.tokens import create_token

    admin = api("admin")
    with dbsession() as db:
        token, _row = create_token(db, db.get(User, admin.user_id), name="race")
    statuses = []
    for round_ in range(8):
        made = admin.post_json("/api/v1/things", {"name": f"race {round_}"}, status=201)
        url = f"{live_server}/api/v1/things/{made.json['id']}"
        etag = made.headers["ETag"]
        out: list[int] = []
        barrier = threading.Barrier(2)
        threads = [
            threading.Thread(
                target=_patch, args=(url, token, etag, {"name": f"by {i}"}, out, barrier)
            )
            for i in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses.append(sorted(out))
    assert all(s == [200, 412] for s in statuses), statuses
