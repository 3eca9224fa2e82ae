"""Exchange rates fetched from a public source the administrator configures (site setting
``rates.source_url``), by hand from the settings page or daily by the job
``kyklos.rates.fetch``.

Two formats are read: the European Central Bank's daily XML
(``<Cube time="..."><Cube currency="USD" rate="1.0850"/>...``) and the common JSON shape
``{"base": "EUR", "date": "YYYY-MM-DD", "rates": {"USD": 1.085, ...}}`` (Frankfurter and
similar services). Rates against another base than ours are re-based when the source
lists our base. The request goes through the webhooks' SSRF guard: public addresses only
(``kyklos.webhooks.allow_networks`` admits internal ones), no redirects, bounded size
and time.
"""

from __future__ import annotations

import datetime as dt
import decimal
import http.client
import json
import re
import ssl
from decimal import Decimal

from kyklos.entities import money
from kyklos.i18n import _

MAX_BYTES = 1024 * 1024
TIMEOUT = 20.0
JOB = "kyklos.rates.fetch"


class FetchError(RuntimeError):
    """Why a fetch failed: ``msg`` a translation string whose mapping may hold
    translation strings too (the reason); :meth:`text` is it in the reader's language,
    ``str()`` in English, for the job log."""

    def __init__(self, msg):
        super().__init__(_interpolate(msg))
        self.msg = msg

    def text(self, request) -> str:
        """The message in the request's language, its reason translated as well (the
        localizer interpolates a mapping but does not translate what is inside it)."""
        from kyklos.i18n import translate

        mapping = getattr(self.msg, "mapping", None) or {}
        inner = {k: translate(request, v) if hasattr(v, "interpolate") else v
                 for k, v in mapping.items()}
        return translate(request, self.msg, mapping=inner or None)


def _interpolate(msg) -> str:
    if not hasattr(msg, "interpolate"):
        return str(msg)
    mapping = msg.mapping or {}
    inner = {k: _interpolate(v) for k, v in mapping.items()}
    return type(msg)(msg, mapping=inner).interpolate() if inner else msg.interpolate()


def network_reason(exc: BaseException):
    """A network failure in words a person can read in their language (an OS error's
    own text is English and technical)."""
    if isinstance(exc, TimeoutError):
        return _("it did not answer within ${seconds} seconds",
                 mapping={"seconds": int(TIMEOUT)})
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _("its security certificate could not be verified")
    if isinstance(exc, ssl.SSLError):
        return _("the secure connection could not be set up")
    if isinstance(exc, ConnectionRefusedError):
        return _("it refused the connection")
    if isinstance(exc, ConnectionError):
        return _("the connection was interrupted")
    if isinstance(exc, http.client.HTTPException):
        return _("its answer was not valid HTTP")
    return _("a network error occurred")


def download(settings, url: str) -> bytes:
    from kyklos.workflow import webhooks as w

    try:
        scheme, host, port, path = w.check_url(url)
        address = w.resolve(host, port, w.allowed_networks(settings))
    except w.WebhookRefused as exc:
        raise FetchError(
            _("The rate source may not be called: ${why}.", mapping={"why": exc.message})
        ) from None
    if scheme == "https":
        conn = w._PinnedHTTPS(address, host, port, TIMEOUT, ssl.create_default_context())
    else:
        conn = w._PinnedHTTP(address, host, port, TIMEOUT)
    try:
        conn.request("GET", path, headers={"User-Agent": "Kyklos-Rates/1", "Accept": "*/*"})
        resp = conn.getresponse()
        data = resp.read(MAX_BYTES + 1)
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(
            _("The rate source could not be reached: ${why}.",
              mapping={"why": network_reason(exc)})
        ) from None
    finally:
        conn.close()
    if resp.status != 200:
        raise FetchError(_("The rate source answered ${status}.", mapping={"status": resp.status}))
    if len(data) > MAX_BYTES:
        raise FetchError(_("The rate source sent more than 1 MB."))
    return data


_XML_DAY = re.compile(rb"""<(?:\w+:)?Cube\s+time=["'](\d{4}-\d{2}-\d{2})["']""")
_XML_RATE = re.compile(
    rb"""<(?:\w+:)?Cube\s+currency=["']([A-Z]{3})["']\s+rate=["']([0-9.]+)["']"""
)


def parse(data: bytes) -> tuple[str, dt.date, dict[str, Decimal]]:
    """``(source base, day, {currency: rate})`` of a source document."""
    text = data.lstrip()
    try:
        if text.startswith(b"<"):
            # The ECB's document, read by pattern: no XML parser, so no entity tricks.
            day = _XML_DAY.search(text)
            rates = {c.decode(): Decimal(r.decode()) for c, r in _XML_RATE.findall(text)}
            if day is None or not rates:
                raise ValueError("no Cube elements")
            return "EUR", dt.date.fromisoformat(day.group(1).decode()), rates
        doc = json.loads(text.decode("utf-8"), parse_float=Decimal)
        base = doc.get("base") or doc.get("base_code") or "EUR"
        day = dt.date.fromisoformat(str(doc.get("date") or dt.date.today().isoformat())[:10])
        raw = doc.get("rates") or doc.get("conversion_rates") or {}
        rates = {str(c): Decimal(str(v)) for c, v in raw.items()}
        if not rates:
            raise ValueError("no rates")
        return str(base), day, rates
    except (ValueError, AttributeError, TypeError, decimal.InvalidOperation, UnicodeError):
        raise FetchError(
            _("The rate source's answer is neither the ECB's XML nor JSON with 'rates'.")
        ) from None


def rebase(source_base: str, rates: dict, base: str) -> dict[str, Decimal]:
    """Units of each currency for one ``base`` (ours), from rates for one ``source_base``."""
    rates = {c: r for c, r in rates.items() if money.is_currency(c) and r > 0}
    if source_base == base:
        out = dict(rates)
    elif base in rates:
        ctx = decimal.Context(prec=28)
        factor = rates[base]
        out = {c: ctx.divide(r, factor) for c, r in rates.items() if c != base}
        if money.is_currency(source_base):
            out[source_base] = ctx.divide(Decimal(1), factor)
    else:
        raise FetchError(
            _(
                "The rate source gives rates for ${src} and does not list ${base}.",
                mapping={"src": source_base, "base": base},
            )
        )
    out.pop(base, None)
    q = Decimal(1).scaleb(-money.RATE_SCALE)
    return {c: r.quantize(q, rounding=decimal.ROUND_HALF_UP) for c, r in out.items()}


def fetch_rates(request, url: str) -> int:
    """Fetch and store the source's rates; returns how many were stored."""
    from kyklos import sitesettings as ss

    settings = request.registry.settings
    source_base, day, rates = parse(download(settings, url))
    base = money.base_currency(settings)
    stored = 0
    for currency, rate in sorted(rebase(source_base, rates, base).items()):
        if rate <= 0:
            continue
        money.set_rate(request.dbsession, currency, day, rate, base=base)
        stored += 1
    ss._put(
        request,
        "rates.last_fetch",
        {"at": dt.datetime.now(dt.UTC).isoformat(), "date": day.isoformat(), "count": stored},
    )
    ss.forget(request)
    return stored


def fetch_job(ctx):
    """The daily job: nothing to do while no source is configured."""
    from kyklos import sitesettings as ss

    url = ss.get(ctx.request, "rates.source_url")
    if not url:
        return {"skipped": "no source"}
    try:
        n = fetch_rates(ctx.request, url)
    except FetchError as exc:
        # A source that is down today is tried again tomorrow; the job log says why.
        return {"error": str(exc)}
    return {"stored": n}


def includeme(config):
    # The function, not the directive: the settings are included before kyklos.jobs
    # adds its directives; the job is registered at commit either way.
    from kyklos.jobs import add_job, crontab

    add_job(
        config,
        JOB,
        fetch_job,
        retries=2,
        retry_delay=600,
        periodic=crontab(minute="30", hour="16"),
        title=_("Fetch exchange rates"),
    )
