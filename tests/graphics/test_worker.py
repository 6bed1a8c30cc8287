"""End to end: `get_image_and_save` answered by the web process, saved by a real worker.

Nothing is mocked. Each test runs against a real django-q2 cluster (`manage.py qcluster`,
a child process: the `qcluster` fixture in conftest.py) or a real child Python process,
sharing the test's database (passed as DATABASE_URL), its media folder (MEDIA_ROOT) and its
broker (Q_BROKER: the ORM broker in that database by default, Redis when the suite runs
with Q_BROKER=redis://...).

The tests are transactional (rows are committed, so the other process sees them, and
`on_commit` callbacks run, which is what queues the task). Where a test asserts the job's
state "right after the response", the cluster is started only after that response: with a
worker already polling, the save could finish before the test looks, and the assertion
would be a race. One test (add_new_asset) runs with the cluster already up, the way a
deployment runs.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assets.models import Asset, Conversion, Job, JobStatus, Role
from tests.conftest import stored_files
from tests.graphics.conftest import PNG_SIGNATURE, PYTHON, ROOT, child_env, job_wait, stop_process, upload, wait_until
from tests.images import jpeg_bytes, png_bytes

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_thumbnails"),  # these count files: only the jobs under test make any
]

BG_SAVE_CONVERSION = {"mode": "get_image_and_save", "disposition": "add_conversion", "conversion_name": "bg_removed"}


# --- helpers (the cluster, `qcluster`, and the shared helpers are in conftest.py) -------------


def png_response(response) -> tuple[bytes, str]:
    """The checks every get_image_and_save answer passes; returns (png, job id)."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(PNG_SIGNATURE)
    job_id = response["X-Job-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", job_id), job_id
    return response.content, job_id


def staged_path(media_root: Path, job_id: str) -> Path:
    return media_root / "jobs" / job_id / "result.png"


def conversion_files(media_root: Path) -> list[Path]:
    return [path for path in stored_files(media_root) if "conversions" in path.parts]


def assert_queued_untouched(job_id: str, staged: Path, png: bytes) -> None:
    job = Job.objects.get(id=job_id)
    assert (job.status, job.attempts, job.finished_at, job.output, job.error) == (JobStatus.QUEUED, 0, None, [], [])
    assert staged.read_bytes() == png


# --- tests ------------------------------------------------------------------------------------


def test_get_image_and_save_answers_at_once_and_the_worker_saves_the_same_png_as_a_conversion(
    client_for, media_root, qcluster
):
    creator = client_for(Role.CREATOR)
    asset = upload(creator, "astronaut.jpg", jpeg_bytes("astronaut"))
    original_files = stored_files(media_root)
    assert len(original_files) == 1

    response = creator.get(f"/api/v1/assets/{asset['id']}/addons/bg_remove", BG_SAVE_CONVERSION)
    png, job_id = png_response(response)

    # No worker exists yet, so the answer cannot have waited for the save.
    staged = staged_path(media_root, job_id)
    assert_queued_untouched(job_id, staged, png)
    queued = creator.get(f"/api/v1/jobs/{job_id}").json()
    assert (queued["status"], queued["output"], queued["error"], queued["finished_at"]) == ("QUEUED", [], [], None)
    assert (queued["attempts"], queued["started_at"]) == (0, None)  # waiting, not running
    assert not Conversion.objects.filter(asset_id=asset["id"]).exists()
    assert creator.get(f"/api/v1/assets/{asset['id']}").json()["conversions"] == {}

    qcluster.start()
    document = job_wait(creator, job_id, qcluster)

    assert document["status"] == "OK", document
    assert document["output"] == [{"name": "bg_removed", "asset_id": asset["id"]}]
    assert document["error"] == []
    assert document["finished_at"] is not None and document["finished_at"] >= document["created_at"]
    assert document["attempts"] == 1
    assert document["created_at"] <= document["started_at"] <= document["finished_at"]

    conversion = creator.get(f"/api/v1/assets/{asset['id']}").json()["conversions"]["bg_removed"]
    assert (conversion["content_type"], conversion["size"]) == ("image/png", len(png))
    assert (conversion["width"], conversion["height"]) == (512, 512)
    download = creator.get(f"/api/v1/assets/{asset['id']}/content/bg_removed")
    assert download.status_code == 200
    # The worker stored the PNG the web process made; it did not make another one.
    assert b"".join(download.streaming_content) == png

    assert wait_until(lambda: not staged.exists(), 5), "the staged result was not deleted after the save"
    assert Conversion.objects.filter(asset_id=asset["id"]).count() == 1
    files = stored_files(media_root)
    assert [f for f in files if f not in original_files] == conversion_files(media_root)
    assert len(files) == 2


def test_add_new_asset_with_inherited_metadata_is_created_by_a_running_worker(
    client_for, admin_client_api, media_root, qcluster
):
    qcluster.start()  # already up, as deployed: the task is picked up as soon as it is queued
    schema = admin_client_api.post(
        "/api/v1/assetschemas",
        {"name": "photo", "schema": {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}}},
        format="json",
    )
    assert schema.status_code == 201, schema.content
    schema_id = schema.json()["id"]
    creator = client_for(Role.CREATOR)
    data = {"title": "Astronaut", "tags": ["nasa", "portrait"]}
    source = upload(
        creator, "astronaut.jpg", jpeg_bytes("astronaut"), data=json.dumps(data), data_schema_id=str(schema_id)
    )
    assert (source["data"], source["data_schema_id"]) == (data, schema_id)

    query = "mode=get_image_and_save&disposition=add_new_asset&metadata=inherit&asset_id=" + source["id"]
    response = creator.post(
        f"/api/v1/assets/file/addons/bg_remove?{query}",
        {"image": SimpleUploadedFile("chelsea.png", png_bytes("chelsea"))},
        format="multipart",
    )
    png, job_id = png_response(response)
    # The worker is live, so the job may already be done; it exists and is this save.
    job = Job.objects.get(id=job_id)
    assert job.kind == "bg_remove_save" and job.status in (JobStatus.QUEUED, JobStatus.OK)

    document = job_wait(creator, job_id, qcluster)

    assert document["status"] == "OK", document
    assert document["error"] == [] and document["finished_at"] is not None
    assert len(document["output"]) == 1
    new_id = document["output"][0]["asset_id"]
    assert document["output"] == [{"name": None, "asset_id": new_id}]
    assert new_id != source["id"]

    new = creator.get(f"/api/v1/assets/{new_id}").json()
    assert new["name"] == "astronaut_bg_removed.png"
    assert new["source_asset_id"] == source["id"]
    assert (new["data"], new["data_schema_id"]) == (data, schema_id)
    assert (new["content_type"], new["size"], new["width"], new["height"]) == ("image/png", len(png), 451, 300)
    download = creator.get(f"/api/v1/assets/{new_id}/content/original")
    assert b"".join(download.streaming_content) == png
    assert creator.get(f"/api/v1/assets/{source['id']}/lineage").json()["descendants"] == [new_id]

    # The source is untouched and nothing else was made.
    source_now = creator.get(f"/api/v1/assets/{source['id']}").json()
    assert (source_now["conversions"], source_now["data"]) == ({}, data)
    assert Asset.objects.count() == 2 and Conversion.objects.count() == 0
    assert wait_until(lambda: not staged_path(media_root, job_id).exists(), 5)
    assert len(stored_files(media_root)) == 2


def test_job_whose_asset_was_deleted_before_the_worker_ran_ends_in_error(client_for, media_root, qcluster):
    creator, manager = client_for(Role.CREATOR), client_for(Role.MANAGER)
    asset = upload(creator, "chelsea.jpg", jpeg_bytes("chelsea"))
    response = creator.get(f"/api/v1/assets/{asset['id']}/addons/bg_remove", BG_SAVE_CONVERSION)
    png, job_id = png_response(response)
    staged = staged_path(media_root, job_id)
    assert_queued_untouched(job_id, staged, png)

    deleted = manager.delete(f"/api/v1/assets/{asset['id']}")
    assert deleted.status_code == 204, deleted.content
    assert not Asset.objects.filter(id=asset["id"]).exists()

    qcluster.start()
    document = job_wait(creator, job_id, qcluster)

    assert document["status"] == "ERROR", document
    assert document["output"] == []
    assert document["finished_at"] is not None
    [entry] = document["error"]
    assert (entry["name"], entry["asset_id"]) == ("bg_removed", asset["id"])
    assert asset["id"] in entry["error"] and "does not exist" in entry["error"], entry
    assert Job.objects.get(id=job_id).attempts == 1
    assert Asset.objects.count() == 0 and Conversion.objects.count() == 0
    # The failed job cleans up its staged file; nothing at all is left.
    assert wait_until(lambda: not staged.exists(), 5), "the staged result was not deleted after the failure"
    assert stored_files(media_root) == []


def test_worker_killed_mid_save_leaves_the_job_retriable_and_no_half_written_conversion(
    client_for, media_root, qcluster, tmp_path
):
    creator = client_for(Role.CREATOR)
    asset = upload(creator, "astronaut.jpg", jpeg_bytes("astronaut"))
    response = creator.get(f"/api/v1/assets/{asset['id']}/addons/bg_remove", BG_SAVE_CONVERSION)
    png, job_id = png_response(response)
    staged = staged_path(media_root, job_id)
    assert_queued_untouched(job_id, staged, png)
    files_before = stored_files(media_root)

    # A worker whose storage stalls just before it writes the conversion file.
    marker, log_path = tmp_path / "inside-save", tmp_path / "killed-worker.log"
    env = child_env(
        media_root,
        DJANGO_SETTINGS_MODULE="tests.graphics.slow_storage_settings",
        SLOW_STORAGE_MARKER=str(marker),
        SLOW_STORAGE_SECONDS="60",
    )
    code = (
        "import django; django.setup(); from assets.jobs import job_ring; "
        f"job_ring({job_id!r})"
    )
    with open(log_path, "wb") as log:
        child = subprocess.Popen(
            [PYTHON, "-c", code], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        inside = wait_until(lambda: marker.exists() or child.poll() is not None, 30)
        assert inside and marker.exists(), f"the worker never reached the save:\n{log_path.read_text()}"
        assert child.poll() is None, f"the worker finished instead of stalling:\n{log_path.read_text()}"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            stop_process(child, grace=0)
    assert child.returncode == -signal.SIGKILL

    # The crash left the job retriable and nothing half-done.
    about_to_write = marker.read_text()
    assert "/conversions/bg_removed-" in about_to_write
    assert not (media_root / about_to_write).exists()
    assert conversion_files(media_root) == []
    assert stored_files(media_root) == files_before
    assert Conversion.objects.count() == 0
    assert creator.get(f"/api/v1/assets/{asset['id']}").json()["conversions"] == {}
    job = Job.objects.get(id=job_id)
    assert (job.status, job.attempts, job.finished_at, job.output, job.error) == (JobStatus.QUEUED, 1, None, [], [])
    assert staged.read_bytes() == png

    # The lease of the killed attempt runs out and the sweep rings: a real worker runs it again.
    qcluster.start()
    document = job_wait(creator, job_id, qcluster)

    assert document["status"] == "OK", document
    assert document["output"] == [{"name": "bg_removed", "asset_id": asset["id"]}]
    assert document["error"] == []
    assert Job.objects.get(id=job_id).attempts == 2
    assert Conversion.objects.filter(asset_id=asset["id"]).count() == 1
    download = creator.get(f"/api/v1/assets/{asset['id']}/content/bg_removed")
    assert b"".join(download.streaming_content) == png
    assert len(conversion_files(media_root)) == 1
    assert wait_until(lambda: not staged.exists(), 5)
