"""The plugin loads the way the core loads it: manifest, migrations up and down,
templates, permissions (the SDK's check), and its demo data through the CLI."""

from kyklos_sdk.testing import check_plugin, run_cli, write_ini


def test_check_plugin():
    assert check_plugin("activities") == []


def test_demo_data_cli(tmp_path):
    import sqlite3

    ini = write_ini(tmp_path, plugins="contacts activities")
    run_cli("migrate", ini, check=True)
    run_cli("demo-data", ini, "--size", "20", check=True)
    db = sqlite3.connect(tmp_path / "kyklos.sqlite")
    try:
        (n,) = db.execute("SELECT count(*) FROM activities_activity").fetchone()
        (r,) = db.execute("SELECT count(*) FROM activities_resource").fetchone()
        (rooms,) = db.execute(
            "SELECT count(*) FROM activities_resource WHERE name = 'Αίθουσα συσκέψεων'"
        ).fetchone()
        (p,) = db.execute("SELECT count(*) FROM activities_participant").fetchone()
    finally:
        db.close()
    # size * 5 with the demo people, the team meeting, and each demo user's agenda
    # around today (up to ten items each)
    assert 20 * 5 + 1 < n <= 20 * 5 + 1 + 4 * 10 and r == 9 and rooms == 1 and p > n
