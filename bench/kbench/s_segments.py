"""Scenario 3: 20 saved segments (saved list views) evaluated through the list query
layer, against hand-written SQL for each."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, text
from webob.multidict import MultiDict

from . import env as E
from .harness import Result, check_rows, merge_checks, pct, repeat

LIMIT = 50


def _utc(y, m, d):
    return dt.datetime(y, m, d, tzinfo=dt.UTC)


def _text(sql: str, binds: dict):
    """``text(sql)`` with datetimes bound as UTCDateTime, as every column of that type
    stores them (naive UTC)."""
    from kyklos.db import UTCDateTime

    stmt = text(sql)
    typed = [bindparam(k, type_=UTCDateTime()) for k, v in binds.items()
             if isinstance(v, dt.datetime)]
    return stmt.bindparams(*typed) if typed else stmt


def segments(ctx) -> list[tuple[str, list, str, dict]]:
    """``(name, list params, hand-written WHERE, its binds)``. The SQL is what a
    developer would write for the same question, with the same case rules
    (``lower(x) LIKE lower(pattern)``) and NULL handling as the list filters."""
    org = ctx.org
    rep = org.reps[0]
    team = sorted(u for u, d in org.member_of.items() if d == org.member_of[rep])
    out = [
        ("country GR", [("country", "GR")], "country = :a", {"a": "GR"}),
        ("country RO or PL", [("country__in", "RO,PL")], "country IN (:a, :b)",
         {"a": "RO", "b": "PL"}),
        ("women in Poland", [("gender", "female"), ("country", "PL")],
         "gender = :a AND country = :b", {"a": "female", "b": "PL"}),
        ("source web", [("source", "web")], "source = :a", {"a": "web"}),
        ("referral or partner", [("source__in", "referral,partner")], "source IN (:a, :b)",
         {"a": "referral", "b": "partner"}),
        ("surname starts pop", [("last_name__startswith", "pop")],
         "lower(last_name) LIKE :a", {"a": "pop%"}),
        ("first name has ann", [("first_name__contains", "ann")],
         "lower(first_name) LIKE :a", {"a": "%ann%"}),
        ("gmail addresses", [("email__contains", "gmail")], "lower(email) LIKE :a",
         {"a": "%gmail%"}),
        ("created in 2024", [("created_at__between", "2024-01-01,2024-12-31")],
         "created_at BETWEEN :a AND :b", {"a": _utc(2024, 1, 1), "b": _utc(2024, 12, 31)}),
        ("created since mid-2025", [("created_at__gte", "2025-06-01")], "created_at >= :a",
         {"a": _utc(2025, 6, 1)}),
        ("one rep's people", [("owner_id", str(rep))], "owner_id = :a", {"a": rep}),
        ("one team's people", [("owner_id__in", ",".join(map(str, team)))],
         f"owner_id IN ({','.join(map(str, team))})", {}),
        ("Warsaw", [("city", "Warszawa")], "city = :a", {"a": "Warszawa"}),
        ("men in Romania", [("country", "RO"), ("gender", "male")],
         "country = :a AND gender = :b", {"a": "RO", "b": "male"}),
        ("UK adverts", [("country", "GB"), ("source", "advert")],
         "country = :a AND source = :b", {"a": "GB", "b": "advert"}),
        ("search maria", [("q", "maria")],
         "(lower(first_name) LIKE :a OR lower(last_name) LIKE :a OR lower(email) LIKE :a "
         "OR lower(phone) LIKE :a OR lower(job_title) LIKE :a)", {"a": "%maria%"}),
        ("Greek mobiles", [("phone__startswith", "+3069")], "lower(phone) LIKE :a",
         {"a": "+3069%"}),
        ("customers", [("roles__contains", "customer")],
         "CAST(roles AS TEXT) LIKE :a", {"a": '%"customer"%'}),
    ]
    mirror = ("id IN (SELECT record_id FROM kyklos_custom_value WHERE field_id = "
              "(SELECT id FROM kyklos_custom_field WHERE entity = 'person' AND name = :f) "
              "AND {cond})")
    if ctx.custom_field("cf_01") is not None:
        out.append(("custom: gold tier", [("cf_01", "gold")],
                    mirror.format(cond="v_text = :a"), {"f": "cf_01", "a": "gold"}))
    else:
        out.append(("surname Nowak", [("last_name", "Nowak")], "last_name = :a",
                    {"a": "Nowak"}))
    if ctx.custom_field("cf_02") is not None:
        out.append(("custom: cf_02 < 500", [("cf_02__lt", "500")],
                    mirror.format(cond="v_num < :a"), {"f": "cf_02", "a": 500}))
    else:
        out.append(("not in Greece", [("country__ne", "GR")],
                    "(country != :a OR country IS NULL)", {"a": "GR"}))
    return out


def save_views(ctx, user_id, segs) -> list[int]:
    """Store the segments as saved views of the user (as the list page saves them)."""
    from kyklos.entities.savedviews import SavedView

    ids = []
    with E.session(ctx.registry) as db:
        for name, params, _sql, _b in segs:
            v = SavedView(user_id=user_id, entity="person", name=name,
                          params=[list(p) for p in params], shared=False)
            db.add(v)
            db.flush()
            ids.append(v.id)
    return ids


def run(ctx) -> Result:
    from kyklos.entities import query as Q
    from kyklos.entities.savedviews import SavedView

    res = Result(3, "20 saved segments", ctx.kind, target="each <= 1.5x hand-written SQL")
    admin = ctx.org.admin_id
    token = ctx.token(admin)
    segs = segments(ctx)
    view_ids = save_views(ctx, admin, segs)
    et = ctx.entity("person")
    n = 2 if ctx.quick else 5
    per = []
    checks = []
    with E.request_as(ctx.registry, token) as request:
        db = request.dbsession
        for (name, _params, where, binds), vid in zip(segs, view_ids, strict=True):
            view = db.get(SavedView, vid)
            md = MultiDict([tuple(p) for p in view.params] + [("count", "exact"),
                                                            ("limit", str(LIMIT))])

            def kyklos(md=md):
                lp = Q.parse_list_params(request, et, md)
                r = Q.run_list(request, et, lp)
                return [x.id for x in r.items], r.count

            base = f"FROM contacts_person WHERE deleted_at IS NULL AND {where}"
            page_sql = _text(f"SELECT id {base} ORDER BY id DESC LIMIT {LIMIT + 1}", binds)
            count_sql = _text(f"SELECT count(*) {base}", binds)
            conn = db.connection()

            def hand(conn=conn, page_sql=page_sql, count_sql=count_sql, binds=binds):
                ids = [r[0] for r in conn.execute(page_sql, binds)][:LIMIT]
                return ids, conn.execute(count_sql, binds).scalar_one()

            try:
                got_ids, got_count = kyklos()
            except Exception as exc:
                raise RuntimeError(f"segment {name!r}: {getattr(exc, 'errors', exc)}") from exc
            want_ids, want_count = hand()
            c = check_rows(want_ids, got_ids)
            c["segment"] = name
            c["count"] = got_count
            c["count_expected"] = want_count
            if got_count != want_count:
                c["ok"] = False
                diff = got_count - want_count
                c["rows_lost" if diff < 0 else "rows_leaked"] += abs(diff)
            checks.append(c)
            tk = repeat(kyklos, n)
            th = repeat(hand, n)
            per.append({"segment": name, "rows": want_count,
                        "kyklos_p50_ms": round(pct(tk, 50) * 1000, 3),
                        "hand_p50_ms": round(pct(th, 50) * 1000, 3),
                        "kyklos_p95_ms": round(pct(tk, 95) * 1000, 3),
                        "hand_p95_ms": round(pct(th, 95) * 1000, 3)})
    ratios = [p["kyklos_p50_ms"] / p["hand_p50_ms"] for p in per if p["hand_p50_ms"]]
    for p, r in zip(per, ratios, strict=False):
        p["ratio"] = round(r, 2)
    worst = max(ratios) if ratios else None
    total_k = sum(p["kyklos_p50_ms"] for p in per)
    total_h = sum(p["hand_p50_ms"] for p in per)
    res.kyklos = {"segments": per, "sum_p50_ms": round(total_k, 2),
                  "headline": f"sum p50 {total_k:.0f} ms"}
    res.baseline = {"sum_p50_ms": round(total_h, 2), "headline": f"sum p50 {total_h:.0f} ms"}
    res.efficiency = total_h / total_k if total_k else None
    res.target_met = worst is not None and worst <= 1.5
    res.note = (f"page of {LIMIT} + exact count per segment, admin (rules: scenario 4); "
                f"worst segment {worst:.2f}x" if worst else "")
    res.correctness = merge_checks(*checks)
    res.correctness["segments"] = checks
    return res
