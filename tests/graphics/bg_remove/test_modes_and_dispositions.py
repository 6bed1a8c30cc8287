"""Remove Background through the API (SPEC §4): every mode x disposition x endpoint.

get_image answers the PNG and creates nothing; save_image stores it as a conversion or a
new derived asset and answers JSON; get_image_and_save answers the PNG and queues a job,
run here in-process (`run_job`), that stores the very same bytes. Also: a new asset from
the upload endpoint without asset_id, replacing a conversion, and the options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assets.models import Asset, Conversion, DEFAULT_SCHEMA_ID, Job, JobStatus
from tests.conftest import stored_files
from tests.graphics.bg_remove.conftest import (
    DISPOSITIONS,
    ENDPOINTS,
    MODES,
    SAVE_MODES,
    SOURCE_SIZE,
    UPLOAD_SIZE,
    call,
    check_png_response,
    input_size,
    new_files,
)
from tests.graphics.conftest import decode_png, run_job, snapshot
from tests.images import jpeg_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_thumbnails")]


# --- every mode x disposition x endpoint --------------------------------------------------


@pytest.mark.parametrize("disposition", DISPOSITIONS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_mode_disposition_and_endpoint(
    creator, source, media_root, endpoint, mode, disposition, django_capture_on_commit_callbacks
):
    size = input_size(endpoint)
    options = {"strength": "medium", "bg_mode": "auto"}
    query = {"mode": mode, "disposition": disposition, **options}
    if disposition == "add_conversion":
        query["conversion_name"] = "bg_removed"
    before = snapshot(media_root)

    # What get_image gives for the same input and options; it creates nothing.
    reference = call(creator, endpoint, source.id, {"mode": "get_image", **options})
    reference_image = check_png_response(reference, size)
    assert snapshot(media_root) == before

    response = call(creator, endpoint, source.id, query)

    if mode == "get_image":  # the disposition parameters are ignored: nothing is saved
        image = check_png_response(response, size)
        assert response.content == reference.content
        assert "X-Job-Id" not in response
        assert snapshot(media_root) == before
        assert np.array_equal(np.asarray(image), np.asarray(reference_image))
        return

    if mode == "save_image":
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "application/json"
        body = response.json()
        if disposition == "add_conversion":
            assert body == {
                "status": "ok",
                "mode": "save_image",
                "disposition": "add_conversion",
                "asset_id": source.id,
                "conversion_name": "bg_removed",
            }
            _check_conversion(source, reference, before, media_root, creator)
        else:
            new_id = body["new_asset_id"]
            assert body == {
                "status": "ok",
                "mode": "save_image",
                "disposition": "add_new_asset",
                "source_asset_id": source.id,
                "new_asset_id": new_id,
            }
            _check_new_asset(new_id, source, reference, before, media_root, creator)
        assert Job.objects.count() == before["jobs"]
        return

    # get_image_and_save: the PNG now, the save later on the worker.
    check_png_response(response, size)
    assert response.content == reference.content  # the pipeline is deterministic
    job_id = response["X-Job-Id"]
    job = Job.objects.get(id=job_id)
    assert job.status == JobStatus.QUEUED
    assert job.account_id == source.account_id and job.user_id == creator.user.id
    assert job.finished_at is None and job.output == [] and job.error == []
    assert Asset.objects.count() == before["assets"]
    assert Conversion.objects.count() == before["conversions"]
    staged = new_files(before, media_root)
    assert list(staged) == [next(iter(staged))]  # exactly one new file: the staged PNG
    [(staged_name, staged_bytes)] = staged.items()
    assert staged_name.startswith(f"jobs/{job_id}/")
    assert staged_bytes == response.content
    # The job is visible through the API while it waits.
    queued = creator.get(f"/api/v1/jobs/{job_id}")
    assert queued.status_code == 200 and queued.json()["status"] == "QUEUED"

    job = run_job(job_id, django_capture_on_commit_callbacks)

    assert job.status == JobStatus.OK
    assert job.finished_at is not None
    assert job.error == []
    assert not (media_root / staged_name).exists()  # the staged file is deleted
    if disposition == "add_conversion":
        assert job.output == [{"name": "bg_removed", "asset_id": source.id}]
        _check_conversion(source, response, before, media_root, creator)
    else:
        new_id = Asset.objects.exclude(id=source.id).get().id
        assert job.output == [{"name": None, "asset_id": new_id}]
        _check_new_asset(new_id, source, response, before, media_root, creator)
    finished = creator.get(f"/api/v1/jobs/{job_id}").json()
    assert finished["status"] == "OK"
    assert finished["output"] == job.output

    # Running the job again (a re-delivered task) does nothing.
    state = snapshot(media_root)
    attempts = job.attempts
    again = run_job(job_id, django_capture_on_commit_callbacks)
    assert snapshot(media_root) == state
    assert again.status == JobStatus.OK and again.attempts == attempts
    assert again.output == job.output


def _check_conversion(source: Asset, image_response, before: dict, media_root: Path, client) -> None:
    """Conversion `bg_removed` of `source` holds exactly the PNG get_image returned."""
    conversion = Conversion.objects.get(asset=source, name="bg_removed")
    assert conversion.content_type == "image/png"
    stored = (media_root / conversion.file.name).read_bytes()
    assert stored == image_response.content  # byte-equal: the pipeline is deterministic
    # (and therefore the alpha channels are equal too)
    assert np.array_equal(
        np.asarray(decode_png(stored).getchannel("A")),
        np.asarray(decode_png(image_response.content).getchannel("A")),
    )
    assert (conversion.width, conversion.height) == decode_png(stored).size
    assert conversion.size == len(stored)
    assert Asset.objects.count() == before["assets"]
    assert Conversion.objects.count() == before["conversions"] + 1
    assert new_files(before, media_root) == {conversion.file.name: stored}
    assert "/conversions/" in conversion.file.name
    download = client.get(f"/api/v1/assets/{source.id}/content/bg_removed")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == stored
    document = client.get(f"/api/v1/assets/{source.id}").json()
    assert document["conversions"]["bg_removed"]["content_type"] == "image/png"


def _check_new_asset(
    new_id: str, source: Asset, image_response, before: dict, media_root: Path, client
) -> None:
    """A new asset `<source stem>_bg_removed.png` derived from `source`, holding the PNG."""
    new = Asset.objects.get(id=new_id)
    assert new.account_id == source.account_id
    assert new.name == "portrait_bg_removed.png"
    assert new.source_asset_id == source.id
    assert new.content_type == "image/png"
    stored = (media_root / new.file.name).read_bytes()
    assert stored == image_response.content
    assert (new.width, new.height) == decode_png(stored).size
    assert new.data == {} and new.data_schema_id == DEFAULT_SCHEMA_ID  # no metadata=inherit
    assert Asset.objects.count() == before["assets"] + 1
    assert Conversion.objects.count() == before["conversions"]
    assert new_files(before, media_root) == {new.file.name: stored}
    lineage = client.get(f"/api/v1/assets/{source.id}/lineage").json()
    assert new_id in lineage["descendants"]
    assert client.get(f"/api/v1/assets/{new_id}/lineage").json()["ancestors"] == [source.id]


@pytest.mark.parametrize("mode", SAVE_MODES)
def test_upload_endpoint_without_asset_id_makes_an_asset_named_after_the_upload(
    creator, media_root, mode, django_capture_on_commit_callbacks
):
    before = snapshot(media_root)
    response = call(
        creator, "upload", None, {"mode": mode, "disposition": "add_new_asset"}, image_name="holiday.cat.jpg"
    )
    if mode == "save_image":
        assert response.status_code == 200, response.content
        body = response.json()
        new_id = body["new_asset_id"]
        # neither source_asset_id nor metadata: they were not given
        assert body == {"status": "ok", "mode": "save_image", "disposition": "add_new_asset", "new_asset_id": new_id}
        png = call(creator, "upload", None, {"mode": "get_image"}).content
    else:
        check_png_response(response, UPLOAD_SIZE)
        png = response.content
        job = run_job(response["X-Job-Id"], django_capture_on_commit_callbacks)
        new_id = Asset.objects.get().id
        assert job.status == JobStatus.OK
        assert job.output == [{"name": None, "asset_id": new_id}]
    new = Asset.objects.get(id=new_id)
    assert new.name == "holiday.cat_bg_removed.png"
    assert new.source_asset_id is None
    assert new.content_type == "image/png"
    assert new.data == {} and new.data_schema_id == DEFAULT_SCHEMA_ID
    assert (media_root / new.file.name).read_bytes() == png
    assert new_files(before, media_root) == {new.file.name: png}
    assert creator.get(f"/api/v1/assets/{new_id}/lineage").json() == {"ancestors": [], "descendants": []}


def test_add_conversion_replaces_a_conversion_of_the_same_name(
    creator, source, media_root, django_capture_on_commit_callbacks
):
    first = call(
        creator, "asset_post", source.id,
        {"mode": "save_image", "disposition": "add_conversion", "conversion_name": "cutout"},
    )
    assert first.status_code == 200, first.content
    old_path = Conversion.objects.get(asset=source, name="cutout").file.name
    assert (media_root / old_path).is_file()
    other = jpeg_bytes("coffee", (200, 150))
    with django_capture_on_commit_callbacks(execute=True):  # the replaced file goes on commit
        second = call(
            creator, "asset_post", source.id,
            {"mode": "save_image", "disposition": "add_conversion", "conversion_name": "cutout"},
            image=other,
        )
    assert second.status_code == 200, second.content
    conversion = Conversion.objects.get(asset=source, name="cutout")
    assert Conversion.objects.filter(asset=source).count() == 1
    assert (conversion.width, conversion.height) == (200, 150)
    assert conversion.file.name != old_path
    assert not (media_root / old_path).exists()
    expected = call(creator, "asset_post", source.id, {"mode": "get_image"}, image=other).content
    assert (media_root / conversion.file.name).read_bytes() == expected
    assert stored_files(media_root) == sorted([media_root / source.file.name, media_root / conversion.file.name])


@pytest.mark.parametrize(
    "options",
    [
        {"bg_mode": "portrait"},
        {"bg_mode": "product"},
        {"strength": "low"},
        {"strength": "high"},
        {"remove_artifacts": "true"},
        {"remove_artifacts": "false"},
        {"bg_mode": "auto", "strength": "high", "remove_artifacts": "1"},
    ],
    ids=lambda o: "&".join(f"{k}={v}" for k, v in o.items()),
)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_valid_option_values_are_accepted(creator, source, media_root, endpoint, options):
    before = snapshot(media_root)
    response = call(creator, endpoint, source.id, {"mode": "get_image", **options})
    check_png_response(response, input_size(endpoint))
    assert snapshot(media_root) == before


def test_strength_shapes_the_alpha(creator, source):
    alphas = {}
    for strength in ("low", "medium", "high"):
        response = call(creator, "asset_get", source.id, {"strength": strength})
        alphas[strength] = np.asarray(check_png_response(response, SOURCE_SIZE).getchannel("A")).astype(int)
    partial = {k: int(((a > 0) & (a < 255)).sum()) for k, a in alphas.items()}
    assert partial["medium"] > 0
    assert (alphas["low"] >= alphas["medium"]).all()  # low keeps more of the soft edge
    assert partial["high"] < partial["medium"]  # high is nearly binary


@pytest.mark.parametrize("mode", SAVE_MODES)
@pytest.mark.parametrize("disposition", DISPOSITIONS)
def test_saved_result_is_the_image_made_with_the_requested_options(
    creator, source, media_root, mode, disposition, django_capture_on_commit_callbacks
):
    """The save stores the PNG made with the request's options (the job reuses it)."""
    options = {"strength": "high", "remove_artifacts": "true"}
    wanted = call(creator, "asset_post", source.id, {"mode": "get_image", **options}).content
    plain = call(creator, "asset_post", source.id, {"mode": "get_image"}).content
    assert wanted != plain
    query = {"mode": mode, "disposition": disposition, **options}
    if disposition == "add_conversion":
        query["conversion_name"] = "hard_edge"
    response = call(creator, "asset_post", source.id, query)
    assert response.status_code == 200, response.content
    if mode == "get_image_and_save":
        assert response.content == wanted
        assert run_job(response["X-Job-Id"], django_capture_on_commit_callbacks).status == JobStatus.OK
    if disposition == "add_conversion":
        stored = Conversion.objects.get(asset=source, name="hard_edge").file.name
    else:
        stored = Asset.objects.exclude(id=source.id).get().file.name
    assert (media_root / stored).read_bytes() == wanted
