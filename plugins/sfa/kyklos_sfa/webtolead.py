"""Web-to-lead (SFA-02): a public endpoint other sites post their contact forms to.

It is CSRF-exempt by design (the form lives on another site), so it protects itself:

- a per-form random key in the URL (revoked by generating a new one); unknown or
  inactive keys are a 404;
- a rate limit per client address (setting ``kyklos.sfa.webform.rate_limit`` posts per
  minute, counted in ``sfa_web_form_hit``, committed even when the post is refused);
- a honeypot field people never see and bots fill in;
- a minimum fill time: the form carries a timestamp signed with ``kyklos.secret``
  (HMAC); a post sooner than ``webform.min_seconds`` after it, or with a forged or
  stale stamp, is refused;
- an allow-list of fields with length limits, and a body size limit;
- a thank-you redirect only to the form's own configured origin (no open redirect).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import time
from urllib.parse import urlsplit

from sqlalchemy import delete, func, insert, select

from kyklos_sdk import utcnow

from . import _, scoring
from .models import Lead, WebForm, WebFormHit

#: the lead fields a web form may fill, with their length limits
FIELDS = {
    "first_name": 100,
    "last_name": 100,
    "company": 200,
    "job_title": 200,
    "email": 254,
    "phone": 40,
    "country": 2,
    "description": 2000,
}
HONEYPOT = "website"
STAMP = "_ts"
REDIRECT = "_redirect"
MAX_BODY = 16 * 1024
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
WINDOW = dt.timedelta(minutes=1)


def _secret(settings) -> bytes:
    return (settings.get("kyklos.secret") or "kyklos").encode()


def _sign(settings, form_key: str, ts: int) -> str:
    msg = f"web-to-lead:{form_key}:{ts}".encode()
    return hmac.new(_secret(settings), msg, hashlib.sha256).hexdigest()[:32]


def make_stamp(settings, form_key: str, now: float | None = None) -> str:
    """A signed timestamp for a freshly rendered form."""
    ts = int(now if now is not None else time.time())
    return f"{ts}.{_sign(settings, form_key, ts)}"


def stamp_age(settings, form_key: str, stamp: str | None, now: float | None = None):
    """Seconds since the stamp was made, or ``None`` if it is missing or forged."""
    if not stamp or "." not in stamp or len(stamp) > 80:
        return None
    ts_text, sig = stamp.split(".", 1)
    if not ts_text.isdigit():
        return None
    ts = int(ts_text)
    if not hmac.compare_digest(sig, _sign(settings, form_key, ts)):
        return None
    return (now if now is not None else time.time()) - ts


def count_hit(engine, client: str, limit: int) -> bool:
    """Record a post from ``client`` and tell whether it is within the limit. Runs on
    its own connection and commits at once, so refused posts count too (the request's
    own transaction is rolled back on an error response)."""
    now = utcnow()
    since = now - WINDOW
    with engine.begin() as conn:
        conn.execute(
            delete(WebFormHit).where(WebFormHit.client == client,
                                     WebFormHit.at < now - 10 * WINDOW)
        )
        n = conn.execute(
            select(func.count(WebFormHit.id)).where(
                WebFormHit.client == client, WebFormHit.at > since
            )
        ).scalar_one()
        conn.execute(insert(WebFormHit).values(client=client, at=now))
    return n < limit


def form_by_key(db, key: str) -> WebForm | None:
    if not key or len(key) > 64:
        return None
    return db.execute(
        select(WebForm).where(WebForm.form_key == key, WebForm.active.is_(True))
    ).scalar_one_or_none()


def clean_fields(params) -> tuple[dict, dict]:
    """``(values, errors)`` of the allow-listed fields of a post."""
    values, errors = {}, {}
    for name, limit in FIELDS.items():
        raw = params.get(name)
        if raw is None:
            continue
        text = " ".join(str(raw).split()) if name != "description" else str(raw).strip()
        if any(ord(c) < 32 and c not in "\n\t" for c in text):
            errors[name] = _("Invalid characters.")
            continue
        if len(text) > limit:
            errors[name] = _("Too long.")
            continue
        if text:
            values[name] = text
    if not values.get("last_name"):
        errors["last_name"] = _("Required.")
    email = values.get("email")
    if email and not EMAIL_RE.match(email):
        errors["email"] = _("Not an e-mail address.")
    if "country" in values:
        values["country"] = values["country"].upper()
        if not re.fullmatch(r"[A-Z]{2}", values["country"]):
            errors["country"] = _("Give a two-letter country code.")
    if email:
        values["email"] = email.lower()
    return values, errors


def redirect_target(form: WebForm, requested: str | None) -> str | None:
    """Where to send the visitor after a post: a requested URL only if it is on the
    form's allowed origin, else the configured thank-you page (checked the same way)."""
    origin = (form.allowed_origin or "").lower().rstrip("/")
    if not origin:
        return None
    for url in (requested, form.redirect_url):
        if not url or len(url) > 500 or any(ord(c) < 33 for c in url) or "\\" in url:
            continue
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}".lower() \
                == origin and not parts.username and not parts.password:
            return url
    return None


def create_lead(db, form: WebForm, values: dict) -> Lead:
    lead = Lead(
        **values,
        source=form.source or "web",
        campaign=form.campaign,
        status="new",
        web_form_id=form.id,
        owner_id=form.owner_id,
        created_by_id=None,
    )
    fields = {f: getattr(lead, f, None) for f, _t in scoring.SCORING_FIELDS}
    lead.score, lead.score_explanation = scoring.score(scoring.active_rules(db), fields)
    db.add(lead)
    db.flush()
    return lead


def snippet_html(action: str, token_url: str, script: str, fields, translate) -> str:
    """The HTML a site owner pastes into their page: a plain form posting here, the
    hidden honeypot and timestamp fields, and the script that fetches the stamp."""
    from html import escape

    rows = []
    for name, title, limit in fields:
        label = escape(translate(title))
        if name == "description":
            control = f'<textarea id="k-{name}" name="{name}" maxlength="{limit}"></textarea>'
        else:
            kind = {"email": "email", "phone": "tel"}.get(name, "text")
            req = " required" if name == "last_name" else ""
            control = (f'<input id="k-{name}" name="{name}" type="{kind}" '
                       f'maxlength="{limit}"{req}>')
        rows.append(f'  <p><label for="k-{name}">{label}</label><br>{control}</p>')
    hp = escape(translate(_("Leave this field empty")))
    send = escape(translate(_("Send")))
    return "\n".join([
        f'<form method="post" action="{escape(action)}" data-kyklos-lead-form>',
        *rows,
        f'  <p style="position:absolute;left:-5000px" aria-hidden="true"><label>{hp}'
        f'<input name="{HONEYPOT}" tabindex="-1" autocomplete="off"></label></p>',
        f'  <input type="hidden" name="{STAMP}" value="">',
        f'  <button type="submit">{send}</button>',
        "</form>",
        f'<script src="{escape(script)}" data-token-url="{escape(token_url)}" defer></script>',
    ])
