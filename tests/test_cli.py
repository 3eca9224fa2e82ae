"""The `kyklos` command: users, tokens, plugin listing, and one-line errors."""

import json
import os
import subprocess
import sys

import pytest
from cli_support import run

from kyklos_sdk.testing import write_ini

SUBCOMMANDS = [
    ["init"], ["migrate"], ["plugins", "list"], ["plugins", "check"], ["users", "create"],
    ["tokens", "create"], ["demo-data"], ["shell"], ["makemigration"],
]


@pytest.mark.parametrize("cmd", SUBCOMMANDS, ids=lambda c: " ".join(c))
def test_every_subcommand_has_help(cmd):
    proc = run(*cmd, "--help", check=True)
    assert "INI" in proc.stdout
    assert "Usage:" in proc.stdout


def test_users_tokens_and_api(tmp_path):
    ini = write_ini(tmp_path, "samplea")
    run("init", ini, "--admin-email", "boss@example.com", "--admin-password",
        "Long-enough-pass-1", check=True)
    made = run("users", "create", ini, "--email", "rep@example.com", "--password",
               "Another-good-pass-2", "--role", "thingsreader", check=True)
    assert "user rep@example.com created" in made.stdout
    dup = run("users", "create", ini, "--email", "rep@example.com", "--password",
              "Another-good-pass-2")
    assert dup.returncode == 1 and "exists" in dup.stderr
    weak = run("users", "create", ini, "--email", "weak@example.com", "--password", "password")
    assert weak.returncode == 1 and "password refused" in weak.stderr
    badrole = run("users", "create", ini, "--email", "x@example.com", "--password",
                  "Another-good-pass-2", "--role", "nosuch")
    assert badrole.returncode == 1 and "unknown role(s): nosuch" in badrole.stderr

    tok = run("tokens", "create", ini, "--user", "boss@example.com", check=True)
    token = tok.stdout.strip().splitlines()[-1]
    assert token.startswith("kyk_") and len(token) > 30

    # The token is stored hashed: the database never contains it.
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path}/kyklos.sqlite")
    with engine.connect() as conn:
        hashes = [r[0] for r in conn.execute(text("SELECT token_hash FROM kyklos_api_token"))]
    engine.dispose()
    assert hashes and token not in hashes and all(len(h) == 64 for h in hashes)

    # ... and it authenticates against an app on that database.
    import webtest

    from kyklos_sdk.testing import build_app

    app = build_app(f"sqlite:///{tmp_path}/kyklos.sqlite", ["samplea"])
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    client.authorization = ("Bearer", token)
    meta = client.get("/api/v1/_meta/plugins").json
    assert [p["id"] for p in meta["plugins"]] == ["samplea"]
    client.authorization = ("Bearer", token + "x")
    assert client.get("/api/v1/_meta/plugins", status=401).content_type == \
        "application/problem+json"
    app.registry["dbengine"].dispose()


def test_plugins_list_json(tmp_path):
    ini = write_ini(tmp_path, "samplea")
    run("init", ini, check=True)
    rows = json.loads(run("plugins", "list", ini, "--json", check=True).stdout)
    by_id = {r["id"]: r for r in rows}
    assert by_id["samplea"]["enabled"] is True
    assert by_id["samplea"]["migrations"] == "up to date"
    assert by_id["sampleb"]["enabled"] is False
    assert by_id["sampleb"]["depends"] == ["samplea"]
    assert by_id["contacts"]["version"] == "0.1.0"
    assert "fails at import" in by_id["broken"]["error"]


@pytest.mark.parametrize("content, message", [
    (None, "no such configuration file"),
    ("[app:main\nuse = egg:kyklos\n", "cannot read the configuration"),
    ("[app:main]\nuse = egg:kyklos\n", "setting sqlalchemy.url is missing"),
    ("[app:main]\nuse = egg:kyklos\nsqlalchemy.url = nosuchdb://x\n", "cannot use database URL"),
    # (a database server needs an encryption key: kyklos.secret gives one)
    ("[app:main]\nuse = egg:kyklos\nkyklos.secret = s3cret\nsqlalchemy.url = "
     "postgresql+psycopg://nobody@127.0.0.1:1/none\n", "cannot reach the database"),
    ("[app:main]\nuse = egg:kyklos\nsqlalchemy.url = "
     "postgresql+psycopg://nobody@127.0.0.1:1/none\n", "no encryption key"),
])
def test_bad_configuration_is_one_line(tmp_path, content, message):
    ini = tmp_path / "bad.ini"
    if content is not None:
        ini.write_text(content)
    proc = run("migrate", ini)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_pserve_http_port_chooses_the_port(tmp_path):
    """`pserve INI http_port=N` serves on N (PasteDeploy's [DEFAULT] trap avoided)."""
    import socket
    import time
    import urllib.request

    ini = write_ini(tmp_path, "")
    run("init", ini, check=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pserve = os.path.join(os.path.dirname(sys.executable), "pserve")
    proc = subprocess.Popen([pserve, str(ini), f"http_port={port}"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        # a deadline, not a number of tries: on a loaded machine the app takes well over
        # the ten seconds 100 quick refusals last to start listening
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(proc.stdout.read().decode()[-2000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    assert r.status == 200
                    assert b"csrf_token" in r.read()
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("pserve did not answer on the chosen port")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
