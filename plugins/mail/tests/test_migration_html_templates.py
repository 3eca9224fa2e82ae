"""The migration to HTML templates, on a scratch SQLite database: a plain-text
template written before it keeps working: its text becomes escaped HTML with its line
breaks, its ``{field}`` merge fields become ``{{ field }}``, and it is shared."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine, text


def test_plain_text_templates_become_html_with_jinja_fields(registry, tmp_path):
    from kyklos import migrate

    branches = migrate.branches_for(registry.kyklos_plugins)
    mine = next(b for b in branches if b.id == "mail")
    engine = create_engine(f"sqlite:///{tmp_path / 'scratch.sqlite'}")
    try:
        migrate.upgrade(engine, branches)
        migrate.downgrade(engine, mine, "mail_0006")
        when = dt.datetime(2026, 5, 4, 10, 30)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO mail_template (id, name, language, subject, body, active, "
                    "version, custom, created_at, updated_at) VALUES (1, 'Offer', 'el', "
                    ":subject, :body, 1, 1, '{}', :when, :when)"
                ),
                {
                    "subject": "Προσφορά για {account_name}",
                    "body": "Αγαπητή {first_name},\nτιμή < 100 €\n{my_name}",
                    "when": when,
                },
            )
        migrate.upgrade(engine, [mine])
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT subject, body, shared, translation_of_id FROM mail_template")
            ).one()
        assert row.subject == "Προσφορά για {{ account_name }}"
        assert row.body == "<p>Αγαπητή {{ first_name }},<br>τιμή &lt; 100 €<br>{{ my_name }}</p>"
        assert row.shared and row.translation_of_id is None
        migrate.downgrade(engine, mine, "mail_0006")
        with engine.connect() as conn:
            columns = [r[1] for r in conn.execute(text("PRAGMA table_info(mail_template)"))]
        assert "shared" not in columns and "translation_of_id" not in columns
    finally:
        engine.dispose()
