"""GET jobs/{id} (SPEC §3): the job document (status, output, error, times, kind, user) for
any role of the account, 404 for another account's or an unknown job, 401 without
credentials."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from assets.models import Job, JobStatus, Role
from tests.conftest import assert_error

pytestmark = pytest.mark.django_db


# --- jobs ------------------------------------------------------------------------------------


def test_job_document_shows_status_output_error_times_kind_and_user(client_for):
    admin = client_for(Role.ADMIN)
    finished = timezone.now() + timedelta(seconds=3)
    output = [{"name": "framed", "asset_id": "a" * 32}]
    error = [{"name": None, "asset_id": "b" * 32, "error": "image_id " + "c" * 32 + " does not exist"}]
    job = Job.objects.create(
        account=admin.user.membership.account,
        user=admin.user,
        kind="image_graphics",
        status=JobStatus.ERROR,
        output=output,
        error=error,
        finished_at=finished,
    )
    reader = client_for(Role.USER)  # any role of the account may read any job of it
    response = reader.get(f"/api/v1/jobs/{job.id}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ERROR"
    assert body["output"] == output
    assert body["error"] == error
    assert body["kind"] == "image_graphics"
    assert body["user"] == admin.user.username
    assert body["created_at"]
    assert body["finished_at"]
    assert parse_datetime(body["created_at"]) == Job.objects.get(pk=job.pk).created_at
    assert parse_datetime(body["finished_at"]) == finished


def test_queued_job_has_no_finish_time(client_for):
    admin = client_for(Role.ADMIN)
    job = Job.objects.create(account=admin.user.membership.account, user=admin.user, kind="image_graphics")
    body = admin.get(f"/api/v1/jobs/{job.id}").json()
    assert (body["status"], body["output"], body["error"], body["finished_at"]) == ("QUEUED", [], [], None)


def test_another_accounts_job_is_404(client_for):
    other = client_for(Role.ADMIN, account="globex")
    job = Job.objects.create(
        account=other.user.membership.account, user=other.user, kind="image_graphics", status=JobStatus.OK
    )
    response = client_for(Role.ADMIN).get(f"/api/v1/jobs/{job.id}")
    body = assert_error(response, 404)
    assert "globex" not in body["message"]
    assert other.get(f"/api/v1/jobs/{job.id}").status_code == 200


@pytest.mark.parametrize("job_id", ["0" * 32, "not-a-job-id"])
def test_unknown_job_is_404(client_for, job_id):
    response = client_for(Role.ADMIN).get(f"/api/v1/jobs/{job_id}")
    assert_error(response, 404)


def test_job_needs_credentials(client_for):
    admin = client_for(Role.ADMIN)
    job = Job.objects.create(account=admin.user.membership.account, user=admin.user, kind="image_graphics")
    assert_error(APIClient().get(f"/api/v1/jobs/{job.id}"), 401)
