"""`/metrics` (SPEC §12) from a real gunicorn with two workers and a real qcluster sharing
one multiprocess folder: after a few requests and a job, every named series has non-zero
counts, added up over all processes whichever worker answers the scrape; and only
METRICS_ALLOWED_IPS are answered."""

from __future__ import annotations

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from assets.models import Job, JobStatus, Role
from tests.conftest import assert_error, small_jpeg
from tests.graphics.conftest import qcluster_factory, wait_until  # noqa: F401  (a fixture)
from tests.images import jpeg_bytes

LISTS = 5


def scrape(server) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one /metrics answer."""
    response = server.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def total(samples, name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and labels.items() <= dict(ls).items())


def settled(samples) -> bool:
    return (
        total(samples, "assets_jobs_total", kind="thumbnail") >= 1
        and total(samples, "assets_model_inference_seconds_count") >= 3
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_every_series_counts_requests_and_jobs_from_every_process(gunicorn, qcluster_factory, make_user, tmp_path):  # noqa: F811
    folder = tmp_path / "metrics"
    folder.mkdir()
    _, key = make_user(Role.ADMIN)
    headers = {"X-Api-Key": key}
    server = gunicorn(workers=2, PROMETHEUS_MULTIPROC_DIR=str(folder))
    for _ in range(LISTS):
        assert server.get("/api/v1/assets", headers=headers).status_code == 200
    upload = requests.post(f"{server.base}/api/v1/assets", headers=headers, files={"file": ("a.jpg", small_jpeg())}, timeout=30)
    assert upload.status_code == 201, upload.text
    asset_id = upload.json()["id"]
    cut = requests.post(
        f"{server.base}/api/v1/assets/file/addons/bg_remove", headers=headers,
        files={"image": ("b.jpg", jpeg_bytes("astronaut", (320, 320)))}, timeout=60,
    )
    assert cut.status_code == 200 and cut.headers["Content-Type"] == "image/png"
    assert server.get("/api/v1/nothing-here", headers=headers).status_code == 404

    waiting = scrape(server)  # the upload's thumbnail job waits: no worker yet
    assert waiting[("assets_queue_length", (("kind", "thumbnail"), ("queue", "jobs")))] == 1

    cluster = qcluster_factory(PROMETHEUS_MULTIPROC_DIR=str(folder))
    cluster.start()
    assert wait_until(lambda: Job.objects.filter(status=JobStatus.OK, request__asset_id=asset_id).exists(), 60), cluster.log()
    assert wait_until(lambda: not Job.objects.filter(status=JobStatus.QUEUED).exists(), 30), cluster.log()
    # A job's row commits a moment before its process counts it, and the second web
    # worker may still be warming its model when the first answers: wait for both.
    assert wait_until(lambda: settled(scrape(server)), 30), (scrape(server), cluster.log())

    for _ in range(3):  # each scrape may be answered by either worker: the sums are the same
        samples = scrape(server)
        assets_get = {"route": "api/v1/assets", "method": "GET", "status": "200"}
        assert total(samples, "assets_http_requests_total", **assets_get) == LISTS
        assert total(samples, "assets_http_request_duration_seconds_count", **assets_get) == LISTS
        assert total(samples, "assets_http_request_duration_seconds_sum", **assets_get) > 0
        assert total(samples, "assets_http_requests_total", route="api/v1/assets", method="POST", status="201") == 1
        assert total(samples, "assets_http_requests_total", route="unmatched", status="404") == 1
        # two workers each ran the model once as they started, then one request
        assert total(samples, "assets_model_inference_seconds_count", model="u2netp") == 3
        assert total(samples, "assets_model_inference_seconds_sum", model="u2netp") > 0
        assert total(samples, "assets_image_decode_seconds_count", format="jpeg") >= 3  # upload, cut-out, thumbnail
        assert total(samples, "assets_image_encode_seconds_count", format="png") >= 1  # the cut-out (web)
        assert total(samples, "assets_image_encode_seconds_count") >= 2  # and the thumbnail (worker)
        assert total(samples, "assets_jobs_total", kind="thumbnail", status="OK") == 1
        assert total(samples, "assets_job_duration_seconds_count", kind="thumbnail", status="OK") == 1
        assert samples[("assets_queue_length", (("kind", "thumbnail"), ("queue", "jobs")))] == 0


@pytest.mark.django_db
def test_metrics_answer_only_the_allowed_addresses(client, settings):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    body = assert_error(client.get("/metrics", REMOTE_ADDR="203.0.113.9"), 403, code="permission_denied")
    assert "METRICS_ALLOWED_IPS" in body["message"] and "203.0.113.9" in body["message"]
    settings.METRICS_ALLOWED_IPS = ["203.0.113.0/24"]
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
