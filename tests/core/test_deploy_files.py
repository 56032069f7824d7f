"""The deployment examples say what their containers need: read as docker compose reads them (anchors merged)."""

from __future__ import annotations

from pathlib import Path

import yaml

DISTRICT = Path(__file__).resolve().parents[2] / "deploy" / "district" / "compose.yaml"


def test_the_district_workers_reach_the_broker_the_code_location_sends_to() -> None:
    """dagster_celery.app alone takes `pyamqp://guest@localhost`: each worker must be given Celery's own
    CELERY_BROKER_URL, the same broker as GOVHUB_CELERY_BROKER (tests/pipelines/test_celery.py starts its workers
    the same way)."""
    services = yaml.safe_load(DISTRICT.read_text(encoding="utf-8"))["services"]
    workers = {name: s for name, s in services.items() if str(s.get("command", "")).startswith("celery ")}
    assert len(workers) >= 2
    for name, service in workers.items():
        env = service["environment"]
        assert env["CELERY_BROKER_URL"] == env["GOVHUB_CELERY_BROKER"], name
        assert "@rabbitmq:5672" in env["CELERY_BROKER_URL"] and "guest" not in env["CELERY_BROKER_URL"], name
        assert f"-Q {env.get('GOVHUB_CELERY_QUEUE', 'dagster')}" in service["command"], name
