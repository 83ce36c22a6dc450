"""Schemathesis against the app's own OpenAPI spec: generated requests, anonymous and with a
valid token, never get a 5xx."""

from __future__ import annotations

import tempfile

import schemathesis
from hypothesis import HealthCheck, settings

from opsweek.alerts.changes import AlertChanges
from opsweek.app import App
from opsweek.config import load_settings
from opsweek.db.session import open_store
from opsweek.tokens import Tokens
from opsweek.web import create_app
from tests.alerts.helpers import raw_inputs

_DATA = tempfile.mkdtemp(prefix="opsweek-schemathesis-")
_STORE = open_store(f"sqlite:///{_DATA}/api.db")
with _STORE.writing() as _session:
    TOKEN = Tokens(_session).create("fuzzer", "schemathesis")[1]
    AlertChanges(_STORE).ingest(raw_inputs("refine_failure.eml"), None, _session)
APP = create_app(
    App(
        load_settings(
            env={"OPSWEEK_DATA_DIR": _DATA, "OPSWEEK_WEB_SECRET_KEY": "schemathesis-only"}
        ),
        store=_STORE,
    )
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECK = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))


@schema.parametrize()
@CHECK
def test_no_5xx_anonymous(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, (case.method, case.path, response.text[:300])


@schema.parametrize()
@CHECK
def test_no_5xx_with_a_token(case: schemathesis.Case) -> None:
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
