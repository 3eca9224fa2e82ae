"""Fixtures of the sales plugin's tests: the app with contacts, activities and sfa."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


@pytest.fixture
def stages(dbsession):
    """``{code: id}`` of the seeded pipeline stages."""
    from kyklos_sfa.models import Stage
    from kyklos_sfa.pipeline import ensure_defaults

    with dbsession() as db:
        ensure_defaults(db)
        return dict(db.execute(select(Stage.code, Stage.id)).all())


@pytest.fixture
def loss_reasons(dbsession, stages):
    from kyklos_sfa.models import LossReason

    with dbsession() as db:
        return dict(db.execute(select(LossReason.name, LossReason.id)).all())


@pytest.fixture
def admin(api):
    return api("admin")


@pytest.fixture
def rates(admin):
    """Exchange rates: EUR 1 = RON 5.00 = PLN 4.00 (from 2020 on)."""
    admin.post_json(
        "/api/v1/_exchange-rates",
        {"rates": [{"currency": "RON", "rate_date": "2020-01-01", "rate": "5.00"},
                   {"currency": "PLN", "rate_date": "2020-01-01", "rate": "4.00"}]},
    )


def money(amount, currency="EUR"):
    return {"amount": str(amount), "currency": currency}


@pytest.fixture
def make_opp(stages):
    """``make_opp(client, name, stage_code, amount, currency, **fields)`` -> record JSON,
    created through the API."""

    def make(client, name="Deal", stage="qualification", amount=None, currency="EUR",
             status=201, **fields):
        body = {"name": name, "stage_id": stages[stage], **fields}
        if amount is not None:
            body["amount"] = money(amount, currency)
        return client.post_json("/api/v1/opportunities", body, status=status).json

    return make


@pytest.fixture
def set_columns(dbsession):
    """Write columns the API keeps read-only (dates in the past, for reports)."""

    def run(model, record_id, **values):
        with dbsession() as db:
            db.execute(update(model).where(model.id == record_id).values(**values))

    return run


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def _error_fields(problem: dict) -> set[str]:
    errors = problem.get("errors") or []
    if isinstance(errors, dict):
        return set(errors)
    return {e.get("field") for e in errors}


@pytest.fixture
def error_fields():
    """``error_fields(problem)`` -> the field names a problem+json complains about."""
    return _error_fields
