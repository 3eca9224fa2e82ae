"""The migration that gives recipients the "bounced" state, on a scratch SQLite
database: rows a hard bounce marked failed ("bounced: ...") before it become bounced,
rows the SMTP server refused stay failed, and the downgrade turns them back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine, text


def test_bounced_rows_are_told_apart_from_failed_ones(registry, tmp_path):
    from kyklos import migrate

    branches = migrate.branches_for(registry.kyklos_plugins)
    mine = next(b for b in branches if b.id == "campaigns")
    engine = create_engine(f"sqlite:///{tmp_path / 'scratch.sqlite'}")
    try:
        migrate.upgrade(engine, branches)
        migrate.downgrade(engine, mine, "campaigns_0002")
        when = dt.datetime(2026, 5, 4, 10, 30)
        with engine.begin() as conn:
            for rid, state, error in (
                (1, "failed", "bounced: 5.1.1 user unknown"),
                (2, "failed", "550 relay denied"),
                (3, "sent", None),
            ):
                conn.execute(
                    text(
                        "INSERT INTO campaigns_recipient (id, campaign_id, person_id, "
                        "address, name, state, attempts, error, version, custom, "
                        "created_at, updated_at) VALUES (:id, 1, :id, :addr, '', :state, "
                        "1, :error, 1, '{}', :when, :when)"
                    ),
                    {
                        "id": rid,
                        "addr": f"p{rid}@example.com",
                        "state": state,
                        "error": error,
                        "when": when,
                    },
                )
        migrate.upgrade(engine, [mine])
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, state, bounced_at, soft_bounces FROM campaigns_recipient "
                    "ORDER BY id"
                )
            ).all()
        assert [(r.id, r.state, r.soft_bounces) for r in rows] == [
            (1, "bounced", 0),
            (2, "failed", 0),
            (3, "sent", 0),
        ]
        assert rows[0].bounced_at is not None and rows[1].bounced_at is None
        migrate.downgrade(engine, mine, "campaigns_0002")
        with engine.connect() as conn:
            states = conn.execute(
                text("SELECT state FROM campaigns_recipient ORDER BY id")
            ).scalars()
            assert list(states) == ["failed", "failed", "sent"]
    finally:
        engine.dispose()
