"""Shared set-up for the security tests: the sample plugin "samplea" (entity type
"thing", territory field "colour") and a real SMTP server; helpers in secsupport.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The helpers module sits beside this file (tests/conftest.py owns the name "conftest").
if str(Path(__file__).parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


@pytest.fixture
def kyklos_settings(smtp_server):
    # Every security test module shares one app: the SMTP sink's settings are the same
    # for the whole session.
    return smtp_server.settings
