"""Scenario 2: the list API, page 1 and a deep keyset page, for a restricted user,
against the same SQL run raw."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from sqlalchemy import text

from . import env as E
from .harness import Result, check_rows, merge_checks, repeat, summary_ms

LIMIT = 50


def _filter(ctx):
    """The filter: a custom field when custom fields exist, else a standard column."""
    if ctx.custom_field("cf_01") is not None:
        return {"cf_01": "gold"}, "cf_01", "gold"
    return {"country": "GR"}, "country", "GR"


def _json_expr(ctx, name):
    if ctx.kind == "postgresql":
        return f"(custom ->> '{name}')"
    return f"json_extract(custom, '$.{name}')"


def expected_ids(ctx, owners: set[int], fname: str, value, after=None, limit=LIMIT):
    """Hand-written SQL for the page the user should see: owners from the oracle."""
    col = _json_expr(ctx, fname) if fname.startswith("cf_") else fname
    owner_list = ",".join(str(int(o)) for o in sorted(owners))
    sql = (f"SELECT id FROM contacts_person WHERE deleted_at IS NULL "
           f"AND owner_id IN ({owner_list}) AND {col} = :v")
    params = {"v": value, "n": limit}
    if after is not None:
        sql += " AND (last_name > :ln OR (last_name = :ln AND id > :id))"
        params.update(ln=after[0], id=after[1])
    sql += " ORDER BY last_name, id LIMIT :n"
    with ctx.engine.connect() as c:
        return [r[0] for r in c.execute(text(sql), params)]


def deep_cursor(ctx, token, query: dict, depth_fraction=0.9):
    """A real cursor for the page starting at ``depth_fraction`` of the filtered list:
    (cursor, the row before it, total visible)."""
    from kyklos.entities import query as Q

    path = "/api/v1/persons?" + urlencode({**query, "count": "exact", "limit": 1})
    total = json.loads(E.wsgi_get(ctx.app, path, token).body)["count"]
    depth = max(0, int(total * depth_fraction) - 1)
    et = ctx.entity("person")
    with E.request_as(ctx.registry, token) as request:
        lp = Q.parse_list_params(request, et, _multidict(query))
        from kyklos.entities.service import visible_select

        stmt = (visible_select(request, et).where(*Q._where(request, et, lp))
                .order_by(*Q._order(et, Q._keys(et, lp))).offset(depth).limit(1))
        row = request.dbsession.execute(stmt).scalars().first()
        if row is None:
            return None, None, total
        cursor = Q.encode_cursor(request, et, Q._keys(et, lp), row)
        return cursor, (row.last_name, row.id), total


def _multidict(d):
    from webob.multidict import MultiDict

    return MultiDict(list(d.items()))


def run(ctx) -> Result:
    res = Result(2, "list API page 1 / deep page", ctx.kind,
                 target="p95 <= raw + 10 ms; deep <= 1.5x page 1")
    org = ctx.org
    uid = org.region_managers[0]  # subtree of one region: a third of the people
    token = ctx.token(uid)
    params, fname, value = _filter(ctx)
    query = {**params, "sort": "last_name", "limit": str(LIMIT)}
    cursor, before, total = deep_cursor(ctx, token, query)
    res.note = (f"filter {fname}={value}" + ("" if fname.startswith("cf_") else
                " (custom fields not available: standard column)") +
                f"; {total} rows visible and matching; deep page at 90 %")
    pages = {"page1": query}
    if cursor is not None:
        pages["deep"] = {**query, "cursor": cursor}
    n = ctx.repeats
    owners = org.visible_owners(uid)
    checks = []
    for label, q in pages.items():
        path = "/api/v1/persons?" + urlencode(q)
        resp = E.wsgi_get(ctx.app, path, token)
        assert resp.status_int == 200, (path, resp.status, resp.text[:500])
        got = [item["id"] for item in json.loads(resp.body)["items"]]
        want = expected_ids(ctx, owners, fname, value, before if label == "deep" else None)
        checks.append(check_rows(want, got))
        # the order must be the oracle's order too
        if got != want and checks[-1]["ok"]:
            checks[-1]["ok"] = False
            checks[-1]["order_differs"] = True
        with E.capture_sql(ctx.engine) as stmts:
            E.wsgi_get(ctx.app, path, token)
        selects = [(s, p) for s, p in stmts if E.is_select(s)]
        data = [(s, p) for s, p in selects if "contacts_person" in s]
        t_api = repeat(lambda path=path: E.wsgi_get(ctx.app, path, token), n)
        replay_all = E.replay(ctx.engine, selects)
        replay_data = E.replay(ctx.engine, data)
        t_raw = repeat(replay_all, n)
        t_data = repeat(replay_data, n)
        replay_all.close()
        replay_data.close()
        res.kyklos[label] = summary_ms(t_api)
        res.baseline[label] = {**summary_ms(t_raw), "statements": len(selects)}
        res.baseline[label + "_data_sql"] = {**summary_ms(t_data), "statements": len(data)}
    k1, b1 = res.kyklos["page1"], res.baseline["page1"]
    res.efficiency = b1["p50_ms"] / k1["p50_ms"] if k1["p50_ms"] else None
    met = k1["p95_ms"] <= b1["p95_ms"] + 10
    if "deep" in res.kyklos:
        kd, bd = res.kyklos["deep"], res.baseline["deep"]
        met = met and kd["p95_ms"] <= bd["p95_ms"] + 10 and kd["p95_ms"] <= 1.5 * k1["p95_ms"]
        res.kyklos["headline"] = f"p95 {k1['p95_ms']:.1f}/{kd['p95_ms']:.1f} ms"
        res.baseline["headline"] = f"p95 {b1['p95_ms']:.1f}/{bd['p95_ms']:.1f} ms"
    else:
        res.kyklos["headline"] = f"p95 {k1['p95_ms']:.1f} ms"
        res.baseline["headline"] = f"p95 {b1['p95_ms']:.1f} ms"
    res.target_met = met
    res.correctness = merge_checks(*checks)
    res.correctness["pages"] = checks
    return res
