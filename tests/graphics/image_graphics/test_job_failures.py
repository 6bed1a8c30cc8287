"""Image Graphics job failures: each asset succeeds or fails on its own, and a failing
asset saves nothing at all (no new asset, no changed conversion, no file); assets, graphics
or URL hosts gone after queueing are per-asset errors; a job runs only once."""

from __future__ import annotations

import re

import pytest

from assets import services as asset_services
from assets.jobs import job_ring
from assets.models import Asset, Conversion, DataSchema, Job, JobStatus, Role
from tests.conftest import add_conversion, stored_files
from tests.graphics.conftest import decode_png, run_job, snapshot
from tests.graphics.image_graphics.conftest import (
    PLAIN_OPS,
    PRICE_SCHEMA,
    SOURCE_SIZE,
    URL,
    body_for,
    job_url,
    new_assets_of,
    queue,
    read_file,
    solid_png,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_thumbnails")]


# --- per-asset isolation and all-or-nothing saves ----------------------------------------------


def test_an_asset_deleted_after_queueing_is_an_error_and_the_others_still_save(
    creator, source, other, make_user, media_root, django_capture_on_commit_callbacks
):
    disposition = {"add_as_conversion": True, "conversion_name": "framed", "create_asset": True}
    body = {
        "assets": [{source.id: {"options": {"disposition": disposition}}}, {other.id: {"options": {"disposition": disposition}}}],
        "operations": PLAIN_OPS,
    }
    job = queue(creator, body)
    manager, _ = make_user(Role.MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        asset_services.asset_delete(user=manager, asset_id=other.id)
    assert not any(other.id in str(p) for p in stored_files(media_root))

    job = run_job(job.id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert job.finished_at is not None
    (made,) = new_assets_of(source)
    assert job.output == [{"name": "framed", "asset_id": source.id}, {"name": None, "asset_id": made.id}]
    assert len(job.error) == 1
    error = job.error[0]
    assert set(error) == {"name", "asset_id", "error"}
    assert (error["name"], error["asset_id"]) == ("framed", other.id)
    assert other.id in error["error"] and "no longer exists" in error["error"]
    # The first asset's results exist, with files.
    conversion = Conversion.objects.get(asset=source, name="framed")
    assert decode_png(read_file(conversion.file.name)).size == SOURCE_SIZE
    assert decode_png(read_file(made.file.name)).size == SOURCE_SIZE
    # Nothing was made for the deleted one.
    assert not Asset.objects.filter(source_asset_id=other.id).exists()
    assert not Conversion.objects.filter(asset_id=other.id).exists()
    document = creator.get(job_url(job.id)).json()
    assert document["status"] == "ERROR"
    assert document["output"] == job.output and document["error"] == job.error


def test_a_failing_new_asset_leaves_neither_it_nor_the_conversion(
    creator, source, other, price_schema, media_root, django_capture_on_commit_callbacks
):
    """Both dispositions for each asset; the schema changes after queueing so the first
    asset's new data no longer validates. That asset keeps its old conversion (same bytes,
    same file) and gets no new asset; the second asset saves both."""
    old_png = solid_png((1, 2, 3), (20, 20))
    old = add_conversion(source, "framed", old_png)
    failing = {"add_as_conversion": True, "conversion_name": "framed", "create_asset": True,
               "data_schema_id": price_schema.id, "metadata": {"data": {"price": 10}}}
    fine = {"add_as_conversion": True, "conversion_name": "framed", "create_asset": True}
    body = {"assets": [{source.id: {"options": {"disposition": failing}}}, {other.id: {"options": {"disposition": fine}}}],
            "operations": PLAIN_OPS}
    job = queue(creator, body)
    price_schema.schema = {**PRICE_SCHEMA, "properties": {"price": {"type": "string"}}}
    price_schema.save()
    before = snapshot(media_root)

    job = run_job(job.id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert [(e["name"], e["asset_id"]) for e in job.error] == [("framed", source.id)]
    assert "schema" in job.error[0]["error"]
    # The failing asset: the old conversion is intact, no new asset.
    conversion = Conversion.objects.get(asset=source, name="framed")
    assert (conversion.file.name, conversion.checksum, conversion.size) == (old.file.name, old.checksum, old.size)
    assert read_file(conversion.file.name) == old_png
    assert new_assets_of(source) == []
    # The other asset saved both.
    (made,) = new_assets_of(other)
    assert job.output == [{"name": "framed", "asset_id": other.id}, {"name": None, "asset_id": made.id}]
    other_conversion = Conversion.objects.get(asset=other, name="framed")
    # Files: exactly the two the other asset produced were added; nothing else changed.
    after = snapshot(media_root)
    added = set(after["files"]) - set(before["files"])
    assert added == {other_conversion.file.name, made.file.name}
    assert all(after["files"][name] == data for name, data in before["files"].items())
    assert (after["assets"], after["conversions"]) == (before["assets"] + 1, before["conversions"] + 1)


def test_a_failing_save_with_no_earlier_conversion_leaves_no_conversion_and_no_file(
    creator, source, price_schema, media_root, django_capture_on_commit_callbacks
):
    disposition = {"add_as_conversion": True, "conversion_name": "framed", "create_asset": True,
                   "data_schema_id": price_schema.id, "metadata": {"data": {"price": 10}}}
    job = queue(creator, body_for(source.id, {"disposition": disposition}))
    DataSchema.objects.filter(id=price_schema.id).update(schema={**PRICE_SCHEMA, "required": ["price", "sku"]})
    before = snapshot(media_root)
    job = run_job(job.id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert job.output == []
    assert [(e["name"], e["asset_id"]) for e in job.error] == [("framed", source.id)]
    assert "sku" in job.error[0]["error"]
    assert not Conversion.objects.filter(asset=source).exists()
    assert snapshot(media_root) == before


def test_image_url_resolving_to_loopback_is_refused_at_run_time(
    creator, source, settings, media_root, django_capture_on_commit_callbacks
):
    settings.IMAGE_GRAPHICS_URL_HOSTS = ["localhost"]
    graphics = [{"type": "image", "options": {"image_url": "http://localhost:8000/logo.png"}}]
    disposition = {"add_as_conversion": True, "conversion_name": "logo", "create_asset": True}
    response = creator.post(URL, body_for(source.id, {"disposition": disposition}, [*PLAIN_OPS, {"graphics_add": {"graphics": graphics}}]), format="json")
    assert response.status_code == 202, response.content
    before = snapshot(media_root)

    job = run_job(response.json()["job_id"], django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert job.output == []
    assert len(job.error) == 1
    assert (job.error[0]["name"], job.error[0]["asset_id"]) == ("logo", source.id)
    assert re.search(r"private|reserved|loopback", job.error[0]["error"]), job.error
    assert "localhost" in job.error[0]["error"]
    assert snapshot(media_root) == before


def test_url_host_removed_from_the_setting_after_queueing_is_a_per_asset_error(
    creator, source, other, settings, media_root, django_capture_on_commit_callbacks
):
    """The request was valid when queued; the worker applies the setting as it is now, per
    asset (the job still finishes, and an asset without the URL still saves)."""
    settings.IMAGE_GRAPHICS_URL_HOSTS = ["images.example.com"]
    graphics = [{"type": "image", "options": {"image_url": "https://images.example.com/logo.png"}}]
    body = body_for(source.id, {"disposition": {"add_as_conversion": True, "conversion_name": "logo"}},
                    [*PLAIN_OPS, {"graphics_add": {"graphics": graphics}}])
    job = queue(creator, body)
    settings.IMAGE_GRAPHICS_URL_HOSTS = []
    before = snapshot(media_root)

    job = run_job(job.id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert job.finished_at is not None
    assert job.output == []
    assert [(e["name"], e["asset_id"]) for e in job.error] == [("logo", source.id)]
    assert "images.example.com" in job.error[0]["error"] and "allowed" in job.error[0]["error"]
    assert snapshot(media_root) == before


def test_an_image_id_deleted_after_queueing_is_an_error_for_the_assets_using_it(
    creator, source, other, red_graphic, make_user, media_root, django_capture_on_commit_callbacks
):
    graphics = [{"type": "image", "options": {"image_id": red_graphic.id, "size": {"width": 4, "height": 4}}}]
    disposition = {"add_as_conversion": True, "conversion_name": "badge", "create_asset": True}
    job = queue(creator, body_for(source.id, {"disposition": disposition}, [*PLAIN_OPS, {"graphics_add": {"graphics": graphics}}]))
    manager, _ = make_user(Role.MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        asset_services.asset_delete(user=manager, asset_id=red_graphic.id)
    before = snapshot(media_root)
    job = run_job(job.id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert job.output == []
    assert [(e["name"], e["asset_id"]) for e in job.error] == [("badge", source.id)]
    assert red_graphic.id in job.error[0]["error"] and "no longer exists" in job.error[0]["error"]
    assert snapshot(media_root) == before


def test_a_src_asset_deleted_after_queueing_rolls_back_the_conversion_too(
    creator, source, other, make_user, media_root, django_capture_on_commit_callbacks
):
    disposition = {"add_as_conversion": True, "conversion_name": "framed", "create_asset": True,
                   "metadata": {"inherit": True, "src_asset_id": other.id}}
    job = queue(creator, body_for(source.id, {"disposition": disposition}))
    manager, _ = make_user(Role.MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        asset_services.asset_delete(user=manager, asset_id=other.id)
    before = snapshot(media_root)
    job = run_job(job.id, django_capture_on_commit_callbacks)
    assert job.status == JobStatus.ERROR
    assert job.output == []
    assert [(e["name"], e["asset_id"]) for e in job.error] == [("framed", source.id)]
    assert other.id in job.error[0]["error"]
    assert not Conversion.objects.filter(asset=source).exists()
    assert snapshot(media_root) == before


def test_running_a_job_twice_does_nothing_the_second_time(
    creator, source, media_root, django_capture_on_commit_callbacks
):
    disposition = {"add_as_conversion": True, "conversion_name": "thumb", "create_asset": True}
    job = queue(creator, body_for(source.id, {"size": {"height": 50}, "disposition": disposition}))
    first = run_job(job.id, django_capture_on_commit_callbacks)
    assert first.status == JobStatus.OK and len(first.output) == 2
    state = snapshot(media_root)
    conversion = Conversion.objects.get(asset=source, name="thumb")

    with django_capture_on_commit_callbacks(execute=True):
        returned = job_ring(job.id)
    second = Job.objects.get(id=job.id)
    assert returned == "nothing to claim"
    assert (second.status, second.output, second.error, second.finished_at, second.attempts) == (
        first.status, first.output, first.error, first.finished_at, first.attempts
    )
    assert snapshot(media_root) == state
    assert Conversion.objects.get(asset=source, name="thumb").file.name == conversion.file.name
    assert len(new_assets_of(source)) == 1


def test_ringing_for_a_missing_job_claims_nothing(db):
    assert job_ring("0123456789abcdef0123456789abcdef") == "nothing to claim"
