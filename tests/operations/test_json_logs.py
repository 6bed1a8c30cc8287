"""LOG_FORMAT=json (SPEC §12): everything a real gunicorn and a real qcluster write is one
JSON object per line; each request has its line with the request id its response carries,
the route, status, latency and, once authenticated, the account; each job has its line
with its kind and outcome."""

from __future__ import annotations

import json

import pytest
import requests

from assets.models import Job, JobStatus, Role
from tests.conftest import small_jpeg
from tests.graphics.conftest import qcluster_factory, wait_until  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def json_lines(text: str) -> list[dict]:
    """Every line as a JSON object; fails naming the first line that is not one."""
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"line {number} is not JSON: {line!r}")
        assert isinstance(record, dict), line
        records.append(record)
    return records


def test_every_line_is_json_and_each_request_and_job_has_its_record(gunicorn, qcluster_factory, make_user):  # noqa: F811
    user, key = make_user(Role.ADMIN, account="initech")
    server = gunicorn(LOG_FORMAT="json")
    listed = server.get("/api/v1/assets", headers={"X-Api-Key": key, "X-Request-Id": "trace-0123456789"})
    refused = server.get("/api/v1/assets")
    missing = server.get("/api/v1/assets/" + "0" * 32, headers={"X-Api-Key": key})
    upload = requests.post(f"{server.base}/api/v1/assets", headers={"X-Api-Key": key}, files={"file": ("a.jpg", small_jpeg())}, timeout=30)
    assert (listed.status_code, refused.status_code, missing.status_code, upload.status_code) == (200, 401, 404, 201)
    cluster = qcluster_factory(LOG_FORMAT="json")
    cluster.start()
    assert wait_until(lambda: Job.objects.filter(status=JobStatus.OK).exists(), 60), cluster.log()
    assert wait_until(lambda: '"outcome": "OK"' in cluster.log(), 30), cluster.log()  # logged just after the commit
    cluster.stop()
    server.stop()

    records = json_lines(server.log())
    by_id = {r.get("request_id"): r for r in records if r.get("logger") == "assets.requests"}
    line = by_id["trace-0123456789"]  # the id the client sent, which the response carried back
    assert listed.headers["X-Request-Id"] == "trace-0123456789"
    assert (line["route"], line["method"], line["status"], line["account"], line["user"]) == (
        "api/v1/assets", "GET", 200, "initech", user.username
    )
    assert isinstance(line["latency_ms"], float) and line["latency_ms"] > 0
    assert line["level"] == "INFO" and line["time"]
    assert by_id[refused.headers["X-Request-Id"]]["status"] == 401 and "account" not in by_id[refused.headers["X-Request-Id"]]
    assert by_id[missing.headers["X-Request-Id"]]["route"] == "api/v1/assets/<hex32:asset_id>"
    assert by_id[upload.headers["X-Request-Id"]]["status"] == 201
    assert any(r.get("logger") == "gunicorn.error" for r in records)  # gunicorn's own lines are JSON too

    jobs = [r for r in json_lines(cluster.log()) if r.get("kind")]
    [job] = jobs
    assert (job["kind"], job["outcome"], job["attempts"]) == ("thumbnail", "OK", 1)
    assert job["job_id"] == Job.objects.get().id and job["duration_ms"] >= 0
