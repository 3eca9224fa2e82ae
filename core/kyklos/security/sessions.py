"""Server-side sessions stored in the database (or Redis in production).

The cookie holds only a random id; the store keeps its SHA-256, so a leaked database
dump cannot be replayed as cookies. ``remember`` always issues a *new* id (no session
fixation) and ``forget`` deletes the row (logout ends the session on the server).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import secrets
import time

from pyramid.i18n import TranslationString
from pyramid.interfaces import ISession
from sqlalchemy import delete, select
from zope.interface import implementer

from kyklos.db import retry_locked, utcnow
from kyklos.security.models import WebSession
from kyklos.settings import asbool

COOKIE = "kyklos_session"
#: the customer portal's own session cookie, sent by browsers to /portal only: a portal
#: login and a staff login in one browser never share (or replace) a session
PORTAL_COOKIE = "kyklos_portal"
PORTAL_PATH = "/portal"


def is_portal_path(path: str) -> bool:
    return path == PORTAL_PATH or path.startswith(PORTAL_PATH + "/")


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _retried(method):
    # A session is saved after the request's transaction ended, where pyramid_retry
    # no longer helps: on SQLite beside other writers, wait and try again instead of
    # failing the response (kyklos.db's writer discipline).
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        return retry_locked(method, self, *args, what="session store", **kwargs)

    return wrapper


class DatabaseStore:
    """Sessions in ``kyklos_session``; short transactions of their own, outside the
    request's transaction, so a failed request never loses a login or a CSRF token."""

    def __init__(self, engine):
        self.engine = engine

    def load(self, key: str):
        with self.engine.connect() as conn:
            row = conn.execute(
                select(WebSession.user_id, WebSession.data, WebSession.expires_at).where(
                    WebSession.id == key
                )
            ).first()
        if row is None or row.expires_at <= utcnow():
            return None
        return row.user_id, dict(row.data or {})

    @_retried
    def save(self, key: str, user_id, data: dict, max_age: int, user_agent: str = ""):
        expires = utcnow() + dt.timedelta(seconds=max_age)
        table = WebSession.__table__
        with self.engine.begin() as conn:
            updated = conn.execute(
                table.update()
                .where(table.c.id == key)
                .values(user_id=user_id, data=data, expires_at=expires)
            ).rowcount
            if not updated:
                conn.execute(
                    table.insert().values(
                        id=key,
                        user_id=user_id,
                        data=data,
                        expires_at=expires,
                        created_at=utcnow(),
                        user_agent=user_agent[:500],
                    )
                )

    @_retried
    def delete(self, key: str):
        with self.engine.begin() as conn:
            conn.execute(delete(WebSession).where(WebSession.id == key))

    @_retried
    def delete_user(self, user_id: int, keep: str | None = None):
        """End every session of a user (after a password change), except ``keep``."""
        stmt = delete(WebSession).where(WebSession.user_id == user_id)
        if keep:
            stmt = stmt.where(WebSession.id != keep)
        with self.engine.begin() as conn:
            conn.execute(stmt)

    @_retried
    def purge_expired(self) -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                delete(WebSession).where(WebSession.expires_at <= utcnow())
            ).rowcount


class RedisStore:
    """Sessions in Redis, for several app processes on several machines."""

    def __init__(self, url: str):
        import redis  # optional dependency: kyklos[redis]

        self.redis = redis.Redis.from_url(url)

    def _k(self, key):
        return f"kyklos:session:{key}"

    def load(self, key):
        raw = self.redis.get(self._k(key))
        if raw is None:
            return None
        doc = json.loads(raw)
        return doc.get("user_id"), doc.get("data", {})

    def save(self, key, user_id, data, max_age, user_agent=""):
        doc = json.dumps({"user_id": user_id, "data": data})
        self.redis.set(self._k(key), doc, ex=max_age)
        if user_id:
            self.redis.sadd(f"kyklos:user-sessions:{user_id}", key)

    def delete(self, key):
        self.redis.delete(self._k(key))

    def delete_user(self, user_id, keep=None):
        members = self.redis.smembers(f"kyklos:user-sessions:{user_id}")
        for m in members:
            k = m.decode()
            if k != keep:
                self.redis.delete(self._k(k))
                self.redis.srem(f"kyklos:user-sessions:{user_id}", k)

    def purge_expired(self):
        return 0  # Redis expires keys by itself


@implementer(ISession)
class ServerSession(dict):
    """Pyramid ISession backed by a store; saved once, when the response goes out."""

    def __init__(
        self, request, store, key: str | None, user_id, data, max_age, secure, portal=False
    ):
        super().__init__(data or {})
        #: a portal session (cookie ``kyklos_portal``, path ``/portal``), not a staff one
        self.portal = portal
        self.cookie_name = PORTAL_COOKIE if portal else COOKIE
        self.cookie_path = PORTAL_PATH if portal else "/"
        self.request = request
        self.store = store
        self.key = key  # digest of the cookie value
        self.user_id = user_id
        self.max_age = max_age
        self.secure = secure
        self.new = key is None
        self.created = 0
        self._changed = False
        self._cookie_value: str | None = None
        self._deleted = False
        #: store keys to delete when the response goes out (after the request's
        #: transaction ended: a second SQLite writer mid-request would conflict with it)
        self._dead: list[str] = []
        request.add_response_callback(self._on_response)

    # -- ISession
    def changed(self):
        self._changed = True

    def invalidate(self):
        if self.key:
            self._dead.append(self.key)
            self._deleted = True
        self.clear()
        self.key = None
        self.user_id = None
        self._changed = False

    def flash(self, msg, queue="", allow_duplicate=True):
        # The session is stored as JSON, where a TranslationString would lose its domain
        # and mapping: translate it now, for the user who will read it.
        if isinstance(msg, TranslationString):
            msg = self.request.localizer.translate(msg)
        q = self.setdefault("_f_" + queue, [])
        if allow_duplicate or msg not in q:
            q.append(msg)
        self.changed()

    def pop_flash(self, queue=""):
        msgs = self.pop("_f_" + queue, [])
        if msgs:
            self.changed()
        return msgs

    def peek_flash(self, queue=""):
        return self.get("_f_" + queue, [])

    def new_csrf_token(self):
        token = secrets.token_urlsafe(32)
        self["_csrft_"] = token
        self.changed()
        return token

    def get_csrf_token(self):
        return self.get("_csrft_") or self.new_csrf_token()

    # dict mutations mark the session changed
    def __setitem__(self, k, v):
        super().__setitem__(k, v)
        self.changed()

    def __delitem__(self, k):
        super().__delitem__(k)
        self.changed()

    def setdefault(self, k, default=None):
        if k not in self:
            self.changed()
        return super().setdefault(k, default)

    def pop(self, k, *default):
        if k in self:
            self.changed()
        return super().pop(k, *default)

    # -- login / logout
    def rotate(self, user_id):
        """Start a fresh session for ``user_id``: a new id, keeping no old data."""
        if self.key:
            # Deleted when the response goes out, after the request's transaction: a
            # write here, on another connection, would make SQLite refuse the request's
            # own later writes (its WAL read snapshot would be stale: "database is locked").
            self._old_key = self.key
        self.clear()
        raw = secrets.token_urlsafe(32)
        self._cookie_value = raw
        self.key = _digest(raw)
        self.user_id = user_id
        # When the login happened, for the absolute timeout (kyklos.session.absolute_seconds)
        self["_auth_at"] = time.time()
        self.new_csrf_token()

    def _on_response(self, request, response):
        old = getattr(self, "_old_key", None)
        if old and old != self.key:
            self.store.delete(old)
        for key in self._dead:
            if key != self.key:
                self.store.delete(key)
        self._dead.clear()
        if self._deleted and self.key is None:
            response.delete_cookie(self.cookie_name, path=self.cookie_path)
            return
        if not self._changed:
            return
        if self.key is None:
            raw = secrets.token_urlsafe(32)
            self._cookie_value = raw
            self.key = _digest(raw)
        self.store.save(
            self.key,
            self.user_id,
            dict(self),
            self.max_age,
            request.user_agent or "",
        )
        if self._cookie_value:
            response.set_cookie(
                self.cookie_name,
                self._cookie_value,
                max_age=self.max_age,
                path=self.cookie_path,
                httponly=True,
                samesite="Lax",
                secure=self.secure,
            )


def make_session_factory(settings, engine):
    backend = settings.get("kyklos.session.backend", "database")
    if backend == "redis":
        store = RedisStore(settings["kyklos.redis_url"])
    else:
        store = DatabaseStore(engine)
    max_age = int(settings["kyklos.session.max_age"])
    secure = asbool(settings["kyklos.session.secure"])

    def factory(request):
        portal = is_portal_path(request.path_info)
        raw = request.cookies.get(PORTAL_COOKIE if portal else COOKIE)
        key, user_id, data = None, None, {}
        if raw and len(raw) < 100:
            loaded = store.load(_digest(raw))
            if loaded is not None:
                key = _digest(raw)
                user_id, data = loaded
        return ServerSession(request, store, key, user_id, data, max_age, secure, portal)

    factory.store = store
    factory.secure = secure
    return factory
