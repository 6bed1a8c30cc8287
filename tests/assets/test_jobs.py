"""The job machinery (assets.jobs) in-process, for the endings that the process-level fault
tests (tests/graphics/test_job_faults.py) reach only by chance: a job out of attempts, an
attempt whose claim was taken over, a killed attempt's file left at an item's path, and
the background save's stored request form. Real images, real storage, the real model."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from assets.jobs import Attempt, LeaseLost, item_asset_id, item_files, job_claim, job_handler, job_ring, jobs_sweep
from assets.models import Asset, Conversion, Job, JobStatus
from graphics import services
from graphics.processing.background import BgRemoveOptions
from tests.conftest import make_asset, stored_files
from tests.images import jpeg_bytes, png_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_thumbnails")]


@pytest.fixture
def photo_asset(creator) -> Asset:
    return make_asset(creator, "coffee.jpg", jpeg_bytes("coffee", (120, 80)))


def save_job(creator, asset: Asset, *, name: str = "cut") -> Job:
    """A background save by `creator` (an API client's user) of a real PNG as conversion
    `name`, staged and submitted."""
    request = services.BgRemoveRequest("get_image_and_save", "add_conversion", asset.id, name, None, BgRemoveOptions())
    return services.bg_save_job_create(
        account=creator.user.membership.account, user=creator.user, data=png_bytes("coffee", (120, 80)),
        request=request, upload_name=None,
    )


def test_a_job_whose_workers_died_q_max_attempts_times_ends_in_error_and_removes_its_staged_file(
    creator, photo_asset, settings, django_capture_on_commit_callbacks
):
    job = save_job(creator, photo_asset)
    staged = job.request["staged"]
    assert default_storage.exists(staged)
    expired = timezone.now() - timedelta(seconds=1)
    Job.objects.filter(pk=job.pk).update(attempts=settings.Q_MAX_ATTEMPTS, claim="dead", lease_until=expired)

    with django_capture_on_commit_callbacks(execute=True):
        assert job_ring(job.id) == "nothing to claim"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.output) == (JobStatus.ERROR, settings.Q_MAX_ATTEMPTS, [])
    [entry] = job.error
    assert (entry["name"], entry["asset_id"]) == ("cut", photo_asset.id)
    assert f"stopped {settings.Q_MAX_ATTEMPTS} times" in entry["error"] and "send the request again" in entry["error"]
    assert not default_storage.exists(staged)
    assert not Conversion.objects.exists()


def test_a_job_still_leased_by_a_live_worker_is_not_claimed_and_the_sweep_leaves_it(creator, photo_asset):
    job = save_job(creator, photo_asset)
    assert job_claim(job.id).pk == job.pk  # a live worker holds it now
    assert job_claim(job.id) is None
    assert jobs_sweep() == 0
    Job.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))  # its worker died
    assert job_claim(job.id).attempts == 2


def test_an_attempt_whose_claim_was_taken_over_saves_nothing(creator, photo_asset, media_root):
    job = save_job(creator, photo_asset)
    claimed = job_claim(job.id)
    files_before = stored_files(media_root)
    Job.objects.filter(pk=job.pk).update(claim="another-attempt")  # its lease ran out and another worker took it
    handler = job_handler(claimed.kind)
    with pytest.raises(LeaseLost):
        handler.run(claimed, Attempt(claimed, handler.items(claimed)))
    assert not Conversion.objects.exists()
    assert Job.objects.get(pk=job.pk).progress == {}
    assert stored_files(media_root) == files_before


def test_a_file_a_killed_attempt_left_at_the_items_path_is_replaced_not_orphaned(
    creator, photo_asset, media_root, django_capture_on_commit_callbacks
):
    job = save_job(creator, photo_asset)
    [path] = item_files(job, 0, conversion=(photo_asset.id, "cut"), creates_asset=False, extension=".png")
    default_storage.save(path, ContentFile(b"half-written by a killed attempt"))

    with django_capture_on_commit_callbacks(execute=True):
        assert job_ring(job.id) == JobStatus.OK
    conversion = Conversion.objects.get(asset=photo_asset, name="cut")
    assert conversion.file.name == path
    assert default_storage.open(path).read() == png_bytes("coffee", (120, 80))
    # the original and the conversion, nothing else (no renamed copy, no staged file)
    assert sorted(str(p.relative_to(media_root)) for p in stored_files(media_root)) == sorted(
        [photo_asset.file.name, path]
    )


def test_a_new_asset_made_by_a_job_item_has_the_items_id(creator, photo_asset, django_capture_on_commit_callbacks):
    request = services.BgRemoveRequest("get_image_and_save", "add_new_asset", photo_asset.id, None, None, BgRemoveOptions())
    job = services.bg_save_job_create(
        account=creator.user.membership.account, user=creator.user, data=png_bytes("rocket", (90, 60)),
        request=request, upload_name=None,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert job_ring(job.id) == JobStatus.OK
    made = Asset.objects.get(id=item_asset_id(job.id, 0))
    assert (made.source_asset_id, made.name) == (photo_asset.id, "coffee_bg_removed.png")
    assert Job.objects.get(pk=job.pk).output == [{"name": None, "asset_id": made.id}]


@pytest.mark.parametrize("disposition, conversion_name, metadata", [
    ("add_conversion", "cut", None), ("add_new_asset", None, "inherit"), ("add_new_asset", None, None),
])
def test_the_background_save_request_round_trips_through_its_stored_form(disposition, conversion_name, metadata):
    request = services.BgRemoveRequest(
        "get_image_and_save", disposition, "a" * 32, conversion_name, metadata, BgRemoveOptions()
    )
    assert services.BgRemoveRequest.from_json(request.to_json()) == request


def test_the_sweep_removes_the_staged_file_of_a_job_whose_process_died_after_it_ended(
    creator, photo_asset, django_capture_on_commit_callbacks
):
    job = save_job(creator, photo_asset)
    staged = job.request["staged"]
    # The job ends, but its process dies before the after-commit removal runs.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert job_ring(job.id) == JobStatus.OK
    assert callbacks, "the removal is an after-commit step"
    job.refresh_from_db()
    assert (job.status, job.files_pending) == (JobStatus.OK, True)
    assert default_storage.exists(staged)

    jobs_sweep()
    job.refresh_from_db()
    assert job.files_pending is False
    assert not default_storage.exists(staged)
    assert Conversion.objects.get(asset=photo_asset, name="cut").file.name  # the saved result stays
    assert default_storage.exists(Conversion.objects.get(asset=photo_asset, name="cut").file.name)
