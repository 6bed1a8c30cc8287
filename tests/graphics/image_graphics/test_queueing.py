"""Image Graphics (SPEC §5): a valid request is a 202 with the job id and a Location, and
leaves exactly one QUEUED job row holding the canonical request; both job endpoints show
it, each only for its own kind and account."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from assets.models import Job, JobStatus, Role
from graphics.image_graphics import JOB_KIND
from graphics.processing.request import GraphicsRequest, parse_request
from tests.conftest import assert_error
from tests.graphics.conftest import snapshot
from tests.graphics.image_graphics.conftest import URL, body_for, job_url, queue

pytestmark = pytest.mark.django_db

HEX32 = re.compile(r"^[0-9a-f]{32}$")


# --- queueing and reading the job ------------------------------------------------------------


def test_valid_request_is_202_with_job_id_location_and_a_queued_job_row(creator, source, media_root):
    before = snapshot(media_root)
    body = body_for(source.id, {"size": {"width": 64}, "disposition": {"add_as_conversion": True, "conversion_name": "thumb"}})
    response = creator.post(URL, body, format="json")

    assert response.status_code == 202, response.content
    document = response.json()
    assert set(document) == {"status", "job_id"}
    assert document["status"] == "QUEUED"
    assert HEX32.match(document["job_id"])
    assert urlsplit(response["Location"]).path == f"/api/v1/assets/addons/image_graphics/jobs/{document['job_id']}"

    job = Job.objects.get(id=document["job_id"])
    assert job.status == JobStatus.QUEUED
    assert job.kind == JOB_KIND == "image_graphics"
    # the canonical form of the request, which rebuilds the same typed request on the worker
    assert job.request == parse_request(body).to_json()
    assert GraphicsRequest.from_json(job.request) == parse_request(body)
    assert job.account == creator.user.membership.account
    assert job.user == creator.user
    assert job.output == [] and job.error == [] and job.finished_at is None
    # Queueing renders and saves nothing.
    after = snapshot(media_root)
    assert after["jobs"] == before["jobs"] + 1
    assert (after["assets"], after["conversions"], after["files"]) == (
        before["assets"], before["conversions"], before["files"]
    )


def test_both_job_endpoints_show_the_queued_job(creator, source, client_for):
    job = queue(creator, body_for(source.id))
    reader = client_for(Role.USER)  # reading jobs is for every role of the account
    for url in (job_url(job.id), f"/api/v1/jobs/{job.id}"):
        response = reader.get(url)
        assert response.status_code == 200, response.content
        document = response.json()
        assert document["status"] == "QUEUED"
        assert document["job_id"] == job.id
        assert document["output"] == []
        assert document["error"] == []
        assert document["created_at"]
        assert document["finished_at"] is None


def test_job_of_another_kind_is_404_on_the_image_graphics_path_but_200_on_jobs(creator):
    other_job = Job.objects.create(
        account=creator.user.membership.account, user=creator.user, kind="bg_remove_save", request={}
    )
    assert_error(creator.get(job_url(other_job.id)), 404, code="job_not_found")
    response = creator.get(f"/api/v1/jobs/{other_job.id}")
    assert response.status_code == 200, response.content
    assert response.json()["kind"] == "bg_remove_save"


def test_image_graphics_job_of_another_account_is_404_on_both_paths(creator, source, client_for):
    job = queue(creator, body_for(source.id))
    outsider = client_for(Role.ADMIN, account="globex")
    for url in (job_url(job.id), f"/api/v1/jobs/{job.id}"):
        body = assert_error(outsider.get(url), 404)
        assert body["code"] == "job_not_found"
