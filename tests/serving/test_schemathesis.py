"""Property-based requests generated from the OpenAPI spec never produce a server error."""

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.serving.conftest import auth


def test_no_server_errors(app, keys):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_5xx(case):
            response = case.call(headers=auth(keys["admin"]))
            assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])

        no_5xx()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert len(checked) >= 12, checked
