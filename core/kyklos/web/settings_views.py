"""The administrator's settings page (``/settings``) and its API (``/api/v1/_settings``).

The page groups the settings of :mod:`kyklos.sitesettings` in sections (Company, Money,
Region, Site), saves them all or none, takes the company logo as an upload checked by
content, keeps exchange rates entered by hand, and lists the enabled plugins (changing
them needs the .ini and a restart, which the page says).
"""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPNoContent, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.response import Response
from sqlalchemy import select

from kyklos import sitesettings as ss
from kyklos.entities import money, values
from kyklos.entities.api import _json, read_json
from kyklos.i18n import LANGUAGES, _
from kyklos.problem import Problem

T = "kyklos:web/templates/"
MANAGE = ss.MANAGE


# --- shared -----------------------------------------------------------------------------


def logo_json(request) -> dict | None:
    meta = ss.get(request, ss.LOGO)
    if not isinstance(meta, dict):
        return None
    return {
        "content_type": meta.get("content_type"),
        "size": meta.get("size"),
        "sha256": meta.get("sha256"),
        "url": request.route_url("settings.logo"),
    }


def settings_json(request) -> dict:
    out = {}
    for key in ss.SPECS:
        out[key] = logo_json(request) if key == ss.LOGO else ss.get(request, key)
    return out


def latest_rates(request) -> list[dict]:
    """The latest rate of each currency (against the base), with its age."""
    base = money.base_currency(request.registry.settings)
    rows = request.dbsession.execute(
        select(money.ExchangeRate)
        .where(money.ExchangeRate.base == base)
        .order_by(money.ExchangeRate.currency, money.ExchangeRate.rate_date.desc())
        .limit(2000)
    ).scalars()
    max_age = ss.get(request, "rates.max_age_days")
    today = dt.date.today()
    seen, out = set(), []
    in_use = set(ss.currencies_in_use(request))
    for r in rows:
        if r.currency in seen:
            continue
        seen.add(r.currency)
        age = (today - r.rate_date).days
        out.append(
            {
                "currency": r.currency,
                "rate_date": r.rate_date,
                "rate": format(r.rate.normalize(), "f"),
                "age": age,
                "stale": age > max_age,
                "in_use": r.currency in in_use,
            }
        )
    out.sort(key=lambda x: (not x["in_use"], x["currency"]))
    return out


# --- the page ---------------------------------------------------------------------------


def _form_changes(request) -> tuple[dict, dict]:
    """The submitted form as ``{key: value}`` in the API's types, and errors of values
    that are not even of the right type (a number field holding letters)."""
    post = request.POST
    changes, errors = {}, {}
    for key in ss.WRITABLE:
        spec = ss.SPECS[key]
        if spec.kind == "currencies":
            codes = [c for c in post.getall(key) if c]
            added = post.get(f"{key}.add") or ""
            if added:
                codes.append(added)
            changes[key] = codes
        elif spec.kind == "languages":
            changes[key] = post.getall(key)
        elif spec.kind == "integer":
            raw = (post.get(key) or "").strip()
            try:
                changes[key] = int(raw)
            except ValueError:
                errors[key] = _("Enter a whole number.")
        else:
            changes[key] = post.get(key, "")
    return changes, errors


def _choices(request) -> dict:
    locale = request.locale_name
    in_use = ss.currencies_in_use(request)
    names = dict(ss.currency_names(locale))
    return {
        "currencies_in_use": [(c, names.get(c, c)) for c in in_use],
        "currencies_other": [(c, n) for c, n in names.items() if c not in in_use],
        "all_currencies": list(names.items()),
        "countries": ss.country_names(locale),
        "timezones": ss.timezones(),
        "languages": [(c, LANGUAGES[c]) for c in ss.language_codes()],
    }


def _page_data(request, form_values=None, errors=None, rate_errors=None, rate_form=None):
    from kyklos.web.admin import plugin_rows

    current = form_values if form_values is not None else ss.all_values(request)
    errors = errors or {}
    sections = []
    for sid, title in ss.SECTIONS:
        specs = [s for s in ss.SPECS.values() if s.section == sid]
        sections.append({"id": sid, "title": title, "specs": specs})
    base = money.base_currency(request.registry.settings)
    rates = latest_rates(request)
    reg = request.registry
    return {
        "title": _("Settings"),
        "sections": sections,
        "values": current,
        "errors": errors,
        "logo": logo_json(request),
        "choices": _choices(request),
        "base": base,
        "rates": rates,
        "stale": [r for r in rates if r["stale"] and r["in_use"]],
        "missing_rates": [
            c
            for c in ss.currencies_in_use(request)
            if c != base and c not in {r["currency"] for r in rates}
        ],
        "max_age": ss.get(request, "rates.max_age_days"),
        "rate_errors": rate_errors or {},
        "rate_form": rate_form or {"currency": "", "rate_date": dt.date.today().isoformat()},
        "plugins": plugin_rows(reg),
        "themes": [
            (t.id, t.manifest.title if t.manifest else t.id, t in reg.kyklos_theme_chain)
            for t in sorted(reg.kyklos_themes.values(), key=lambda t: t.id)
        ],
        "fetched": ss.get(request, "rates.last_fetch"),
    }


def _render(request, data, status=200):
    response = render_to_response(T + "settings.pt", data, request=request)
    response.status = status
    return response


def settings_view(request):
    if request.method != "POST":
        return _render(request, _page_data(request))
    changes, errors = _form_changes(request)
    stored = ss._rows(request)
    defaults = {k: ss.ini_default(request.registry.settings, k) for k in changes}
    clean, more = ss.validate({k: v for k, v in changes.items() if k not in errors})
    errors.update(more)
    upload = request.POST.get(ss.LOGO)
    logo = None
    if getattr(upload, "file", None) is not None:
        data = upload.file.read(ss.LOGO_MAX_BYTES + 1)
        try:
            ss.check_logo(upload.filename, data)
            logo = (upload.filename, data)
        except ss.Invalid as exc:
            errors[ss.LOGO] = exc.msg
    if errors:
        form_values = dict(ss.all_values(request))
        form_values.update(changes)
        return _render(request, _page_data(request, form_values, errors), 400)
    # A value left at its .ini default is not stored: the .ini keeps deciding it.
    clean = {k: v for k, v in clean.items() if k in stored or v != defaults.get(k)}
    ss.save(request, clean)
    if logo is not None:
        ss.save_logo(request, *logo)
    elif request.POST.get(f"{ss.LOGO}.remove"):
        ss.delete_logo(request)
    request.session.flash(_("Settings saved."), "success")
    return HTTPSeeOther(request.route_url("settings"))


def rates_view(request):
    """Add (or replace) an exchange rate entered by hand."""
    post = request.POST
    form = {
        "currency": post.get("currency", ""),
        "rate_date": post.get("rate_date", ""),
        "rate": post.get("rate", ""),
    }
    base = money.base_currency(request.registry.settings)
    errors = {}
    if not money.is_currency(form["currency"]) or form["currency"] == base:
        errors["currency"] = _("Choose a currency other than ${base}.", mapping={"base": base})
    try:
        day = values.parse_date(form["rate_date"])
    except values.Invalid as exc:
        errors["rate_date"] = exc.msg
        day = None
    try:
        rate = money.parse_amount(form["rate"].strip().replace(",", "."), 24, money.RATE_SCALE)
        if rate <= 0:
            raise money.MoneyError(_("A rate must be positive."))
    except money.MoneyError as exc:
        errors["rate"] = exc.args[0]
        rate = None
    if errors:
        data = _page_data(request, rate_errors=errors, rate_form=form)
        return _render(request, data, 400)
    money.set_rate(request.dbsession, form["currency"], day, rate, base=base)
    request.session.flash(_("Exchange rate saved."), "success")
    return HTTPSeeOther(request.route_url("settings", _anchor="money"))


def fetch_view(request):
    """Fetch the rates now from the configured source (the daily job does the same)."""
    from kyklos.entities.rates_fetch import FetchError, fetch_rates

    url = ss.get(request, "rates.source_url")
    if not url:
        request.session.flash(_("Set an exchange rate source first."), "warning")
        return HTTPSeeOther(request.route_url("settings", _anchor="money"))
    try:
        n = fetch_rates(request, url)
    except FetchError as exc:
        request.session.flash(exc.text(request), "danger")
    else:
        request.session.flash(_("${n} exchange rates fetched.", mapping={"n": n}), "success")
    return HTTPSeeOther(request.route_url("settings", _anchor="money"))


def logo_view(request):
    found = ss.company_logo(request)
    if found is None:
        raise HTTPNotFound()
    data, ctype = found
    resp = Response(body=data, content_type=ctype)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.cache_control.private = True
    resp.cache_control.max_age = 300
    return resp


# --- the API ----------------------------------------------------------------------------


def api_get(request):
    return _json(request, settings_json(request))


def api_patch(request):
    body = read_json(request)
    errors = {}
    for key in body:
        if key not in ss.WRITABLE:
            errors[str(key)[:100]] = (
                _("Upload the logo to /api/v1/_settings/logo.")
                if key == ss.LOGO
                else _("Unknown setting.")
            )
    clean, more = ss.validate({k: v for k, v in body.items() if k in ss.WRITABLE})
    errors.update(more)
    if errors:
        # Nothing is written when any value is refused.
        raise Problem(400, _("Invalid settings"), errors=errors)
    ss.save(request, clean)
    return _json(request, settings_json(request))


def api_logo_put(request):
    from kyklos.entities.attachments import check_request_size

    check_request_size(request)
    upload = request.POST.get("file")
    if getattr(upload, "file", None) is None:
        raise Problem(400, _("Invalid data"), errors={"file": _("Send the image as 'file'.")})
    data = upload.file.read(ss.LOGO_MAX_BYTES + 1)
    try:
        ss.save_logo(request, upload.filename, data)
    except ss.Invalid as exc:
        raise Problem(400, _("File refused"), exc.msg, errors={"file": exc.msg}) from None
    return _json(request, logo_json(request))


def api_logo_delete(request):
    ss.delete_logo(request)
    return HTTPNoContent()


def openapi_paths(request) -> dict:
    from kyklos.entities import openapi as o

    codes = sorted(money.currencies())
    single_line = r"^[^\u0000\r\n]*$"
    props: dict = {}
    for key in ss.WRITABLE:
        spec = ss.SPECS[key]
        kind = spec.kind
        if kind in ("text", "email"):
            schema = {"type": "string", "maxLength": spec.max_length, "pattern": single_line}
        elif kind == "multiline":
            schema = {"type": "string", "maxLength": spec.max_length, "pattern": o.TEXT}
        elif kind == "url":
            schema = {"type": "string", "maxLength": spec.max_length, "pattern": single_line}
        elif kind == "currency":
            schema = {"type": "string", "enum": codes}
        elif kind == "currencies":
            schema = o.array({"type": "string", "enum": codes}, maxItems=50)
        elif kind == "country":
            schema = {"type": "string", "enum": ["", *sorted(ss.countries())]}
        elif kind == "timezone":
            schema = {"type": "string", "enum": list(ss.timezones())}
        elif kind == "languages":
            schema = o.array(
                {"type": "string", "enum": list(ss.language_codes())}, minItems=1, maxItems=20
            )
        else:  # integer
            schema = {"type": "integer", "minimum": spec.minimum, "maximum": spec.maximum}
        schema["description"] = str(spec.description)
        props[key] = schema
    logo = o.nullable(
        o.obj(
            {
                "content_type": {"type": "string"},
                "size": {"type": "integer"},
                "sha256": {"type": "string"},
                "url": {"type": "string"},
            },
            ["content_type", "size", "sha256", "url"],
        )
    )
    read = o.obj({**props, ss.LOGO: logo}, [*ss.WRITABLE, ss.LOGO], strict=False)
    patch = o.obj({k: o.nullable(v) for k, v in props.items()})
    tag = "Settings"
    return {
        "/api/v1/_settings": {
            "get": o.operation(
                tag,
                "get_settings",
                {"200": o.json_ok(read, "Every site setting"), **o.problems("401", "403")},
                summary="Site settings (company, money, region, site)",
            ),
            "patch": o.operation(
                tag,
                "update_settings",
                {
                    "200": o.json_ok(read, "Every site setting after the change"),
                    **o.problems("400", "401", "403", "413", "415"),
                },
                summary="Change settings: all or none; null resets a setting to the .ini",
                body=o.json_body(patch),
                **o.SEMANTIC,
            ),
        },
        "/api/v1/_settings/logo": {
            "get": o.operation(
                tag,
                "get_company_logo",
                {
                    "200": {
                        "description": "The company logo",
                        "content": {m: {"schema": o.BINARY} for m in ss.LOGO_TYPES},
                    },
                    **o.problems("401", "404"),
                },
            ),
            "put": o.operation(
                tag,
                "set_company_logo",
                {
                    "200": o.json_ok(logo),
                    **o.problems("400", "401", "403", "413"),
                },
                summary="Upload the logo (PNG, JPEG, GIF or WebP; checked by content)",
                body=o.multipart(file=o.BINARY),
                **o.SEMANTIC,
            ),
            "delete": o.operation(
                tag,
                "delete_company_logo",
                {"204": o.no_content(), **o.problems("401", "403")},
            ),
        },
    }


def includeme(config):
    config.declare_permission(MANAGE, _("Manage site settings"))
    config.include("kyklos.entities.rates_fetch")
    config.add_openapi_paths(openapi_paths)
    config.add_route("settings", "/settings", request_method=("GET", "POST"))
    config.add_view(settings_view, route_name="settings", permission=MANAGE)
    config.add_route("settings.rates", "/settings/rates", request_method="POST")
    config.add_view(rates_view, route_name="settings.rates", permission=MANAGE)
    config.add_route("settings.rates.fetch", "/settings/rates/fetch", request_method="POST")
    config.add_view(fetch_view, route_name="settings.rates.fetch", permission=MANAGE)
    config.add_route("settings.logo", "/api/v1/_settings/logo")
    config.add_view(
        logo_view, route_name="settings.logo", request_method="GET", permission="authenticated"
    )
    config.add_view(
        api_logo_put, route_name="settings.logo", request_method="PUT", permission=MANAGE
    )
    config.add_view(
        api_logo_delete, route_name="settings.logo", request_method="DELETE", permission=MANAGE
    )
    config.add_route("api.settings", "/api/v1/_settings", request_method=("GET", "PATCH"))
    config.add_view(api_get, route_name="api.settings", request_method="GET", permission=MANAGE)
    config.add_view(api_patch, route_name="api.settings", request_method="PATCH", permission=MANAGE)
