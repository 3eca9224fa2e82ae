"""Fixtures of the mail plugin's tests: an app with contacts, activities and mail, a
real Dovecot IMAP server on a private port (one per session, a fresh account per test)
and a Fernet key (kyklos.encryption_keys) for the mailbox passwords."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

DATA = Path(__file__).parent / "data"
#: one key for the whole session, so the app (built once per settings) is reused
KEY = Fernet.generate_key().decode()
#: IMAP accounts made for a session (each test takes a fresh one)
USERS = 500


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "mail"]


@pytest.fixture
def kyklos_settings(smtp_server):
    return {
        **smtp_server.settings,
        "kyklos.encryption_keys": KEY,
        "kyklos.mail.batch": "3",
        "kyklos.mail.timeout": "10",
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONFIG = """\
instance_name = kyklos-test-{port}
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%u
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 0
mailbox_idle_check_interval = 1 secs
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/users
}}
userdb {{
  driver = passwd-file
  args = {dir}/users
  default_fields = uid=nobody gid=nogroup home={dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


class Dovecot:
    """A running Dovecot; ``account()`` adds a user with an empty INBOX."""

    def __init__(self, folder: Path, port: int):
        self.dir, self.port, self.host = folder, port, "127.0.0.1"
        self._n = itertools.count(1)

    def account(self) -> tuple[str, str]:
        # users are written before Dovecot starts: it re-reads a changed passwd-file by
        # its modification time, which misses two changes within the same second
        n = next(self._n)
        assert n <= USERS, "more IMAP accounts than the fixture created"
        return f"user{n}", "secret"

    def client(self, user, password):
        from imapclient import IMAPClient

        c = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        c.login(user, password)
        return c

    def append(self, user, password, *messages: bytes, folder="INBOX") -> None:
        c = self.client(user, password)
        try:
            for raw in messages:
                c.append(folder, raw)
        finally:
            c.logout()


def _ready(port, deadline) -> bool:
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    return True
        except OSError:
            time.sleep(0.1)
    return False


@pytest.fixture(scope="session")
def dovecot():
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None
    )
    if binary is None:
        if os.environ.get("KYKLOS_REQUIRE_DOVECOT") == "1":
            pytest.fail("KYKLOS_REQUIRE_DOVECOT=1 but dovecot is not installed", pytrace=False)
        pytest.skip("dovecot is not installed (apt-get install dovecot-core dovecot-imapd)")
    # not pytest's tmp_path: Dovecot's auth process runs as "dovecot" and needs to read
    # the folder (0700 there), and its unix sockets want a short path
    folder = Path(tempfile.mkdtemp(prefix="kdc", dir="/tmp"))
    folder.chmod(0o755)
    (folder / "mail").mkdir()
    (folder / "users").write_text(
        "".join(f"user{n}:{{PLAIN}}secret::::::\n" for n in range(1, USERS + 1))
    )
    (folder / "users").chmod(0o644)
    shutil.chown(folder / "mail", "nobody", "nogroup")
    port = _free_port()
    (folder / "dovecot.conf").write_text(CONFIG.format(dir=folder, port=port))
    proc = subprocess.Popen(
        [binary, "-F", "-c", str(folder / "dovecot.conf")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    if not _ready(port, time.time() + 20):
        proc.terminate()
        out = proc.communicate(timeout=10)[0].decode(errors="replace")
        log = (folder / "dovecot.log").read_text() if (folder / "dovecot.log").exists() else ""
        pytest.fail(f"dovecot did not start:\n{out}\n{log}", pytrace=False)
    try:
        yield Dovecot(folder, port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def imap(dovecot):
    """A fresh IMAP account: ``(dovecot, user, password)``."""
    user, password = dovecot.account()
    return dovecot, user, password


def eml(name: str) -> bytes:
    return (DATA / name).read_bytes()


# --- OAuth2: a real provider, Dovecot checking tokens with it, SMTP with XOAUTH2 -----------


def peers():
    """tests/oauth_peers.py (pytest runs with --import-mode=importlib: no sys.path)."""
    import importlib.util
    import sys

    name = "kyklos_mail_tests_oauth_peers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).parent / "oauth_peers.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def oauth_provider():
    pytest.importorskip("flask")
    server = peers().ProviderServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oauth_dovecot(oauth_provider, dovecot):
    """A second Dovecot whose oauth2 passdb introspects tokens at ``oauth_provider``
    (``dovecot`` first: it skips the session when Dovecot is not installed)."""
    start_dovecot = peers().start_dovecot
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    try:
        proc, folder, port = start_dovecot(binary, oauth_provider.port, _free_port, _ready)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    box = Dovecot(folder, port)
    box.users = itertools.count(1)
    try:
        yield box
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def oauth_imap(oauth_dovecot):
    """A fresh account on the OAuth2 Dovecot: ``(dovecot, user, password)``."""
    return oauth_dovecot, f"ouser{next(oauth_dovecot.users)}", "secret"


@pytest.fixture(scope="session")
def xoauth2_smtp(oauth_provider):
    server = peers().XOAuth2SMTP(oauth_provider, _free_port)
    server.controller.start()
    yield server
    server.controller.stop()
