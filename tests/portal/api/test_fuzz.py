"""A fuzz of the docking API with schemathesis (offline, against 127.0.0.1): every operation of the OpenAPI document
the API serves, with parameters generated to fit it and to break it — no call ends in a server error, every answer
has a documented status and media type, and JSON answers match their schema.

The document is taken from the code at collection time (schemathesis' fixture-based loading does not run on this
pytest) and the first test proves the running API serves exactly that document."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from govhub.portal.api.openapi import document
from tests.portal.api.conftest import Api

# A cursor or a `since` is a string by the document and refused unless the hub issued it: "schema-valid input is
# accepted" does not hold for opaque parameters, so that one check is left out; every other check runs.
EXCLUDED = [positive_data_acceptance]
REAL = [
    ("gaj", "hjrk"),
    ("fgj", "clfjy"),
    ("scjgj", "qydj"),
    ("mzj", "hydj"),
]  # granted, base and own resources
schema = schemathesis.openapi.from_dict(document())
PLACEHOLDER = "Bearer <the consumer's token>"  # set at collection (the API is not up yet), swapped per call


@schema.auth()
class ConsumerToken:
    """The consumer's bearer token on every generated call — except those meant to go without one (schemathesis
    leaves the header out of the cases that test a missing credential, and expects 401)."""

    def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
        return PLACEHOLDER

    def set(self, case: schemathesis.Case, data: str, context: schemathesis.AuthContext) -> None:
        case.headers = {**(case.headers or {}), "Authorization": data}


def _with_token(case: schemathesis.Case, api: Api) -> None:
    if (case.headers or {}).get("Authorization") == PLACEHOLDER:
        case.headers["Authorization"] = f"Bearer {api.secret}"


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_call_ends_in_a_server_error(case: schemathesis.Case, api: Api) -> None:
    _with_token(case, api)
    case.call_and_validate(base_url=api.url, excluded_checks=EXCLUDED)
    if case.path_parameters:  # the same query parameters against resources that exist and are reachable
        agency, resource = REAL[sum(map(ord, repr(case.query))) % len(REAL)]
        case.path_parameters = {"agency": agency, "resource": resource}
        case.call_and_validate(base_url=api.url, excluded_checks=EXCLUDED)
