"""Schemathesis against the real plugins (contacts, activities, sfa) over HTTP: more
examples per operation than the document test in tests/test_openapi.py, then the
stateful phase (create a record, read, change and delete it through the links the
document declares). No 5xx; status codes, content types and bodies as documented.

Sized for CI: the example counts are chosen so the whole module stays within a couple of
minutes on either database; ``KYKLOS_FUZZ_EXAMPLES`` raises them for a longer run."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytestmark = pytest.mark.filterwarnings("ignore")

EXAMPLES = int(os.environ.get("KYKLOS_FUZZ_EXAMPLES", "3"))
STATEFUL_EXAMPLES = int(os.environ.get("KYKLOS_FUZZ_STATEFUL", "8"))


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


def _references(registry) -> set[str]:
    return {
        f.name
        for et in registry.kyklos_entities.values()
        for f in et.fields.values()
        if f.type == "reference"
    }


def _doubtful(case, references) -> bool:
    """Schema-valid requests the server may rightly refuse with a 400: an opaque cursor
    it never issued, ids that rarely exist, bodies checked against data."""
    body = case.body if isinstance(case.body, dict) else {}
    data = body.get("data") if isinstance(body.get("data"), dict) else {}
    return (
        "cursor" in (case.query or {})
        or any(body.get(n) is not None or data.get(n) is not None for n in references)
        or case.operation.definition.raw.get("x-kyklos-semantic-checks", False)
    )


def _short(exc) -> str:
    """The failure without the reproduction noise: what failed and the response."""
    return str(exc)[:1500]


@pytest.fixture
def fuzz_schema(live_server, api):
    token = api("admin").authorization[1]
    auth = {"Authorization": f"Bearer {token}"}
    loaded = schemathesis.openapi.from_url(f"{live_server}/api/openapi.json", headers=auth)
    # schema-valid data: what this test holds the server to is no 5xx and answers as
    # documented (refusing every schema-violating value is another, looser promise)
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE])
    return loaded, auth


def test_every_operation_with_more_examples(fuzz_schema, live_server, registry):
    loaded, auth = fuzz_schema
    references = _references(registry)
    failures, ran = [], 0
    for result in loaded.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(
                base_url=live_server,
                headers=auth,
                excluded_checks=[positive_data_acceptance] if _doubtful(case, references) else None,
            )

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect all
            failures.append(f"{operation.label}: {_short(exc)}")
        ran += 1
    assert ran >= 150, ran
    assert not failures, "\n\n".join(failures)


def test_stateful_sequences(fuzz_schema, live_server, registry):
    loaded, auth = fuzz_schema
    references = _references(registry)
    machine = loaded.as_state_machine()

    class Sequences(machine):
        def get_call_kwargs(self, case):
            return {"base_url": live_server, "headers": auth}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            if response.status_code >= 500:
                raise AssertionError(
                    f"{case.operation.label}: {response.status_code} {response.text[:300]}"
                )
            excluded = [positive_data_acceptance] if _doubtful(case, references) else None
            case.validate_response(
                response, excluded_checks=excluded, transport_kwargs=kwargs or None
            )

    Sequences.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
