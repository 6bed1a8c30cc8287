"""The Django admin's jobs: a read-only list and page (output and error pretty-printed),
and the re-queue action: failed background saves and Image Graphics jobs go back to the
broker and then run (only their failed items), other jobs are skipped with a reason, and
the action needs the change permission."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from assets.jobs import job_handler, job_kinds, job_ring
from assets.models import Asset, Job, JobStatus
from tests.images import png_bytes
from tests.web.conftest import JOBS, listed_ids, messages_of

pytestmark = pytest.mark.django_db


# --- jobs -----------------------------------------------------------------------------------


def make_job(user, *, kind: str, status: str, request: dict | None = None, output=None, error=None) -> Job:
    return Job.objects.create(
        account=user.membership.account,
        user=user,
        kind=kind,
        status=status,
        request=request or {},
        output=output or [],
        error=error or [],
        attempts=1,
        finished_at=None if status == JobStatus.QUEUED else timezone.now(),
    )


def test_job_list_shows_kind_status_account_user_and_times(web, acme_user):
    job = make_job(acme_user, kind="image_graphics", status=JobStatus.ERROR, error=[{"name": "x", "asset_id": "a", "error": "boom"}])
    response = web.get(JOBS)
    assert listed_ids(response) == [job.id]
    html = response.content.decode()
    for column in ("column-kind", "column-status", "column-account", "column-user", "column-created_at", "column-finished_at"):
        assert column in html
    row = html[html.index(job.id):]
    row = row[: row.index("</tr>")]
    for text in ("image_graphics", "ERROR", "acme", "alice"):
        assert text in row


def test_job_admin_is_read_only_and_shows_output_and_error_pretty_printed(web, acme_user):
    output = [{"name": "framed", "asset_id": "a" * 32}]
    error = [{"name": "framed", "asset_id": "b" * 32, "error": "asset bbb no longer exists"}]
    job = make_job(acme_user, kind="image_graphics", status=JobStatus.ERROR, output=output, error=error)
    before = Job.objects.filter(id=job.id).values().get()

    assert web.get(f"{JOBS}add/").status_code == 403
    page = web.get(f"{JOBS}{job.id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and "<textarea" not in html
    job.refresh_from_db()  # the order of keys the database gives back (jsonb sorts them)
    for value in (job.output, job.error):
        pretty = json.dumps(value, indent=2).replace('"', "&quot;")
        assert f'<pre style="white-space: pre-wrap; margin: 0">{pretty}</pre>' in html
    assert web.post(f"{JOBS}{job.id}/change/", {"status": "OK"}).status_code == 403
    assert web.post(f"{JOBS}{job.id}/delete/", {"post": "yes"}).status_code == 403
    assert "delete_selected" not in web.get(JOBS).content.decode()
    assert Job.objects.filter(id=job.id).values().get() == before


def queued_tasks() -> list[dict]:
    """Every task waiting in the configured broker (decoded), without taking it."""
    broker = get_broker()
    if Conf.ORM:
        payloads = OrmQ.objects.using(Conf.ORM).filter(key=broker.list_key).values_list("payload", flat=True)
    else:
        payloads = broker.connection.lrange(broker.list_key, 0, -1)
    return [SignedPackage.loads(p) for p in payloads]


@pytest.fixture
def broker_tasks_of_this_test():
    """The tasks this test queued; on Redis (shared between runs) they are removed after."""
    seen_before = {t["id"] for t in queued_tasks()}

    def mine() -> list[dict]:
        return [t for t in queued_tasks() if t["id"] not in seen_before]

    yield mine
    if not Conf.ORM:
        broker = get_broker()
        for payload in broker.connection.lrange(broker.list_key, 0, -1):
            if SignedPackage.loads(payload)["id"] not in seen_before:
                broker.connection.lrem(broker.list_key, 0, payload)


def requeue(web, *jobs: Job, capture):
    with capture(execute=True) as callbacks:
        response = web.post(
            JOBS, {"action": "requeue_failed", "_selected_action": [j.id for j in jobs]}, follow=True
        )
    assert response.status_code == 200
    return response, callbacks


def test_registered_job_kinds_match_the_graphics_job_kinds():
    from graphics.image_graphics import JOB_KIND
    from graphics.services import JOB_KIND_BG_SAVE

    from graphics.image_graphics import IMAGE_GRAPHICS_JOBS
    from graphics.services import BG_SAVE_JOBS

    from assets.services.renditions import JOB_KIND_THUMBNAIL, THUMBNAIL_JOBS

    assert set(job_kinds()) == {JOB_KIND_BG_SAVE, JOB_KIND, JOB_KIND_THUMBNAIL}
    assert job_handler(JOB_KIND_THUMBNAIL) is THUMBNAIL_JOBS
    assert job_handler(JOB_KIND_BG_SAVE) is BG_SAVE_JOBS
    assert job_handler(JOB_KIND) is IMAGE_GRAPHICS_JOBS


def test_requeue_turns_a_failed_background_save_into_a_queued_task_that_then_saves(
    web, acme_user, library, media_root, broker_tasks_of_this_test, django_capture_on_commit_callbacks
):
    asset = library["parent"][0]
    png = png_bytes("coffee", (40, 30))
    job = make_job(
        acme_user,
        kind="bg_remove_save",
        status=JobStatus.ERROR,
        error=[{"name": "cutout", "asset_id": asset.id, "error": "the result could not be saved"}],
    )
    staged = default_storage.save(f"jobs/{job.id}/result.png", ContentFile(png))
    job.request = {
        "mode": "save_image", "disposition": "add_conversion", "asset_id": asset.id,
        "conversion_name": "cutout", "metadata": None, "upload_name": None, "staged": staged,
    }
    job.save()

    response, callbacks = requeue(web, job, capture=django_capture_on_commit_callbacks)
    assert len(callbacks) == 1
    assert f"Re-queued 1 job(s): {job.id}." in messages_of(response)
    job.refresh_from_db()
    assert (job.status, job.output, job.error, job.finished_at) == (JobStatus.QUEUED, [], [], None)
    tasks = broker_tasks_of_this_test()
    assert [(t["func"], t["args"]) for t in tasks] == [("assets.jobs.job_ring", (job.id,))]

    # What the worker does with that task:
    with django_capture_on_commit_callbacks(execute=True):
        assert job_ring(job.id) == JobStatus.OK
    ran = Job.objects.get(pk=job.pk)
    assert ran.output == [{"name": "cutout", "asset_id": asset.id}]
    conversion = asset.conversions.get(name="cutout")
    assert default_storage.open(conversion.file.name).read() == png
    assert not default_storage.exists(staged)


def test_requeue_turns_a_failed_image_graphics_job_into_a_queued_task_that_then_renders(
    web, acme_user, library, broker_tasks_of_this_test, django_capture_on_commit_callbacks
):
    asset = library["child"][0]
    body = {
        "assets": [{asset.id: {"options": {
            "size": {"width": 30},
            "canvas": {"size": {"width": 50, "height": 40}},
            "disposition": {"add_as_conversion": True, "conversion_name": "staged"},
        }}}],
        "operations": [{"bg_add": {"options": {"color": "#00ff00"}}}],
    }
    job = make_job(
        acme_user, kind="image_graphics", status=JobStatus.ERROR, request=body,
        error=[{"name": "staged", "asset_id": asset.id, "error": "the image could not be rendered or saved"}],
    )
    requeue(web, job, capture=django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert (job.status, job.output, job.error, job.finished_at) == (JobStatus.QUEUED, [], [], None)
    tasks = broker_tasks_of_this_test()
    assert [(t["func"], t["args"]) for t in tasks] == [("assets.jobs.job_ring", (job.id,))]

    assert job_ring(job.id) == JobStatus.OK
    ran = Job.objects.get(pk=job.pk)
    assert (ran.status, ran.output, ran.error) == (JobStatus.OK, [{"name": "staged", "asset_id": asset.id}], [])
    conversion = asset.conversions.get(name="staged")
    assert (conversion.width, conversion.height) == (50, 40)


def test_requeue_skips_jobs_that_did_not_fail_and_says_so(
    web, acme_user, broker_tasks_of_this_test, django_capture_on_commit_callbacks
):
    done = make_job(acme_user, kind="image_graphics", status=JobStatus.OK, output=[{"name": "x", "asset_id": "a" * 32}])
    waiting = make_job(acme_user, kind="image_graphics", status=JobStatus.QUEUED)
    before = list(Job.objects.order_by("id").values())
    response, callbacks = requeue(web, done, waiting, capture=django_capture_on_commit_callbacks)
    assert callbacks == []
    shown = messages_of(response)
    assert len(shown) == 1 and shown[0].startswith("Skipped 2 job(s)")
    assert f"{done.id} (its status is OK; only ERROR jobs are re-queued)" in shown[0]
    assert f"{waiting.id} (its status is QUEUED; only ERROR jobs are re-queued)" in shown[0]
    assert "Skipped 2 job(s)" in response.content.decode()  # and the page shows it
    assert list(Job.objects.order_by("id").values()) == before
    assert broker_tasks_of_this_test() == []


def test_requeue_skips_a_background_save_whose_staged_result_is_gone(
    web, acme_user, broker_tasks_of_this_test, django_capture_on_commit_callbacks
):
    job = make_job(
        acme_user, kind="bg_remove_save", status=JobStatus.ERROR,
        request={"staged": "jobs/gone/result.png", "conversion_name": "x"},
        error=[{"name": "x", "asset_id": None, "error": "the result could not be saved"}],
    )
    response, _ = requeue(web, job, capture=django_capture_on_commit_callbacks)
    assert f"{job.id} (its staged result is gone" in " ".join(messages_of(response))
    assert Job.objects.get(id=job.id).status == JobStatus.ERROR
    assert broker_tasks_of_this_test() == []


def test_requeue_of_an_image_graphics_job_runs_only_its_failed_items(
    web, acme_user, library, media_root, broker_tasks_of_this_test, django_capture_on_commit_callbacks
):
    child, grandchild = library["child"][0], library["grandchild"][0]
    body = {
        "assets": [
            {child.id: {"options": {"disposition": {"create_asset": True}}}},
            {grandchild.id: {"options": {"disposition": {"add_as_conversion": True, "conversion_name": "again"}}}},
        ],
        "operations": [{"bg_add": {"options": {"color": "#00ff00"}}}],
    }
    job = make_job(acme_user, kind="image_graphics", status=JobStatus.QUEUED, request=body)
    stored = media_root / grandchild.file.name
    kept = stored.read_bytes()
    stored.unlink()  # the storage loses the second asset's file for a while
    with django_capture_on_commit_callbacks(execute=True):
        assert job_ring(job.id) == JobStatus.ERROR
    job.refresh_from_db()
    [created] = job.output
    assert created["name"] is None and [e["asset_id"] for e in job.error] == [grandchild.id]
    made_from_child = lambda: list(Asset.objects.filter(source_asset_id=child.id).exclude(pk=grandchild.pk))  # noqa: E731
    assert [a.id for a in made_from_child()] == [created["asset_id"]]

    stored.write_bytes(kept)
    response, callbacks = requeue(web, job, capture=django_capture_on_commit_callbacks)
    assert f"Re-queued 1 job(s): {job.id}." in messages_of(response) and len(callbacks) == 1
    job.refresh_from_db()
    assert (job.status, job.attempts, job.output, job.error) == (JobStatus.QUEUED, 0, [], [])
    assert list(job.progress) == ["0"]  # the asset already made is kept, the failure is not
    # (the asset the first run made queued its thumbnail job; the re-queue adds only this one)
    thumbnails = set(Job.objects.filter(kind="thumbnail").values_list("id", flat=True))
    requeued = [(t["func"], t["args"]) for t in broker_tasks_of_this_test() if t["args"][0] not in thumbnails]
    assert requeued == [("assets.jobs.job_ring", (job.id,))]

    with django_capture_on_commit_callbacks(execute=True):
        assert job_ring(job.id) == JobStatus.OK
    job.refresh_from_db()
    assert job.output == [created, {"name": "again", "asset_id": grandchild.id}] and job.error == []
    assert [a.id for a in made_from_child()] == [created["asset_id"]]  # not made a second time
    assert grandchild.conversions.filter(name="again").count() == 1


def test_requeue_skips_a_job_of_an_unknown_kind(web, acme_user, django_capture_on_commit_callbacks):
    job = make_job(acme_user, kind="mystery", status=JobStatus.ERROR, error=[{"error": "x"}])
    response, _ = requeue(web, job, capture=django_capture_on_commit_callbacks)
    assert f"{job.id} (no installed app runs jobs of kind 'mystery')" in " ".join(messages_of(response))
    assert Job.objects.get(id=job.id).status == JobStatus.ERROR


def test_requeue_needs_the_change_permission_on_jobs(acme_user, django_capture_on_commit_callbacks):
    job = make_job(acme_user, kind="image_graphics", status=JobStatus.ERROR, error=[{"error": "x"}])
    viewer = User.objects.create_user("viewer", password="pw-123456", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_job"))
    client = Client()
    client.login(username="viewer", password="pw-123456")
    page = client.get(JOBS)
    assert page.status_code == 200 and "requeue_failed" not in page.content.decode()
    requeue(client, job, capture=django_capture_on_commit_callbacks)
    assert Job.objects.get(id=job.id).status == JobStatus.ERROR
