"""Fixtures of the SMS plugin's tests: an app with contacts, activities and sms, a key
for the gateway's password, and a real Jasmin gateway in front of a test SMSC (one per
session; see jasmin_gateway.py and the plugin's README)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

sys.path.insert(0, str(Path(__file__).parent))

#: one key for the whole session, so the app (built once per settings) is reused
KEY = Fernet.generate_key().decode()


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "sms"]


@pytest.fixture
def kyklos_settings():
    return {"kyklos.encryption_keys": KEY, "kyklos.sms.timeout": "10"}


@pytest.fixture
def admin(api):
    return api("admin")


@pytest.fixture(scope="session")
def _jasmin():
    from jasmin_gateway import Jasmin, Unavailable, ensure_venv
    from smsc import SMSC

    required = os.environ.get("KYKLOS_REQUIRE_JASMIN") == "1"
    smsc = SMSC()
    gw = None
    try:
        gw = Jasmin(ensure_venv(), smsc)
        gw.start()
    except (Unavailable, OSError, Exception) as exc:  # noqa: B014 - any reason to skip
        log = gw.log() if gw is not None and gw.dir.exists() else ""
        if gw is not None:
            gw.stop()
        smsc.close()
        if required:
            pytest.fail(f"KYKLOS_REQUIRE_JASMIN=1 but Jasmin did not start: {exc}\n{log}",
                        pytrace=False)  # fmt: skip
        pytest.skip(f"no Jasmin gateway here ({exc}); see plugins/sms/README.md")
    try:
        yield gw
    finally:
        gw.stop()
        smsc.close()


@pytest.fixture
def jasmin(_jasmin):
    """The running gateway; its SMSC's list of received messages starts empty."""
    with _jasmin.smsc.lock:
        _jasmin.smsc.submitted.clear()
    _jasmin.smsc.receipt_status = "DELIVRD"
    # the gateway is shared by the session: a test that finds its SMPP link to the SMSC
    # dropped (an earlier test's load, a slow machine) gets it started again, or a
    # failure that says so, instead of messages that wait forever in Jasmin's queue
    _jasmin.ensure_bound()
    return _jasmin
