"""Concurrent bookings of one room through a real HTTP server: exactly one wins.

On PostgreSQL the exclusion constraint makes the later insert wait for the first
transaction and then fail. On SQLite writers are serialised; a request that lost the
race for the write lock is retried by the core, and sees the first booking.
"""

import json
import threading
import urllib.error
import urllib.request

from activities_helpers import future, meeting


def _with_room(types, start, room, minutes=60):
    return meeting(types, start, minutes, participants=[{"kind": "resource", "id": room}])


def test_concurrent_bookings_exactly_one_wins(live_server, api, types, resource):
    """N clients book the same room for the same hour at once: one 201, the rest 409."""
    room = resource()
    start = future(days=9)
    clients = [api("sales") for _ in range(6)]
    tokens = [c.authorization[1] for c in clients]
    body = json.dumps(_with_room(types, start, room)).encode()
    barrier = threading.Barrier(len(tokens))
    statuses: list[int] = []
    refusals: list[tuple] = []
    lock = threading.Lock()

    def book(token):
        req = urllib.request.Request(
            f"{live_server}/api/v1/activities", data=body, method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 - loopback
                code, ctype, answer = resp.status, resp.headers["Content-Type"], resp.read()
        except urllib.error.HTTPError as exc:
            code, ctype, answer = exc.code, exc.headers["Content-Type"], exc.read()
        with lock:
            statuses.append(code)
            if code == 409:
                refusals.append((ctype, json.loads(answer)))

    threads = [threading.Thread(target=book, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert sorted(statuses) == [201] + [409] * (len(tokens) - 1), statuses
    # Each loser gets problem+json naming the participants field (the room), whichever
    # layer refused it: the application's check or the database's constraint.
    for ctype, problem in refusals:
        assert ctype.startswith("application/problem+json"), ctype
        assert problem["status"] == 409
        assert [e["field"] for e in problem["errors"]] == ["participants"], problem
    admin = api("admin")
    items = admin.get("/api/v1/activities").json["items"]
    assert len(items) == 1
