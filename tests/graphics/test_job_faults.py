"""Background work under faults: real qcluster processes killed, stopped, timed out, and
a broker that is down or restarted. Every job must end, and every item must be done
exactly once: rows and files are counted before and after each test.

Nothing is mocked. Clusters are `manage.py qcluster` child processes (the
`qcluster_factory` fixture of conftest.py) on the test's database and broker (SQLite + the
ORM broker, or PostgreSQL + Redis when the suite runs with Q_BROKER=redis://...), with a
3-second job lease and a 1-second sweep so that a dead worker's job is picked up quickly.
Redis is stopped and started for real where a test needs the broker down.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable

import pytest
from django.db.models import Q
from django_q.conf import Conf

from assets.jobs import item_asset_id
from assets.models import Asset, Conversion, Job, JobStatus, Rendition, Role
from tests.conftest import _free_port, bucket_keys, stored_files
from tests.graphics.conftest import JOB_TIMEOUT, job_wait, upload, wait_until
from tests.images import PHOTOS, jpeg_bytes

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

URL = "/api/v1/assets/addons/image_graphics"
SLOW_SIZE = (1200, 900)  # large enough that one asset takes a noticeable part of a second
REDIS_ARGS = ["--bind", "127.0.0.1", "--port", "6379", "--save", "", "--appendonly", "no"]


# --- helpers ------------------------------------------------------------------------------


def sources(client, count: int, size=SLOW_SIZE) -> list[str]:
    return [upload(client, f"photo-{i}.jpg", jpeg_bytes(PHOTOS[i % len(PHOTOS)], size))["id"] for i in range(count)]


def derive_all(client, ids: list[str]) -> str:
    """One Image Graphics job that removes the background of each asset into a new asset."""
    body = {
        "assets": [{asset_id: {"options": {"disposition": {"create_asset": True}}}} for asset_id in ids],
        "operations": [{"bg_remove": {"options": {}}}],
    }
    response = client.post(URL, body, format="json")
    assert response.status_code == 202, response.content
    return response.json()["job_id"]


def progress_of(job_id: str) -> int:
    return len(Job.objects.get(id=job_id).progress)


def derived(source_id: str) -> list[Asset]:
    return list(Asset.objects.filter(source_asset_id=source_id))


def assert_derived_once(job_id: str, ids: list[str], document: dict) -> None:
    """Each source has exactly one derived asset, the one this job's item made, and the
    job's output lists each once, in request order."""
    expected = [item_asset_id(job_id, index) for index in range(len(ids))]
    assert document["output"] == [{"name": None, "asset_id": asset_id} for asset_id in expected]
    for source_id, asset_id in zip(ids, expected):
        assert [a.id for a in derived(source_id)] == [asset_id]


def assert_files_match_rows(media_root=None, *, stored: Callable[[], set[str]] | None = None) -> None:
    """Every stored file belongs to a row and every row's file is stored: nothing
    duplicated, nothing orphaned, no staged file left. Jobs that the tested ones queued
    (the thumbnails of what they saved) end first: their files count too, and a loaded
    machine may take longer than the test's own jobs did to get to them."""
    assert wait_until(
        lambda: not Job.objects.filter(Q(status=JobStatus.QUEUED) | Q(files_pending=True)).exists(), JOB_TIMEOUT
    ), list(Job.objects.filter(status=JobStatus.QUEUED).values("id", "kind", "attempts", "started_at"))

    def rows() -> set[str]:
        return {
            *Asset.objects.values_list("file", flat=True),
            *Conversion.objects.values_list("file", flat=True),
            *Rendition.objects.values_list("file", flat=True),
        }

    def files() -> set[str]:
        if stored is not None:
            return stored()
        return {str(p.relative_to(media_root)) for p in stored_files(media_root)}

    if not wait_until(lambda: files() == rows(), 10):
        pytest.fail(f"files without a row: {sorted(files() - rows())}; rows without a file: {sorted(rows() - files())}")


# --- a killed cluster ---------------------------------------------------------------------------


def test_cluster_killed_mid_job_is_resumed_by_a_new_one_without_doing_any_asset_twice(
    client_for, media_root, qcluster_factory
):
    creator = client_for(Role.CREATOR)
    ids = sources(creator, 6)
    first = qcluster_factory()
    first.start()
    job_id = derive_all(creator, ids)
    assert wait_until(lambda: progress_of(job_id) >= 2, JOB_TIMEOUT), first.log()
    first.kill()
    done_at_kill = progress_of(job_id)
    assert done_at_kill < len(ids), "the job ended before the kill; nothing was tested"
    job = Job.objects.get(id=job_id)
    assert (job.status, job.attempts) == (JobStatus.QUEUED, 1)

    second = qcluster_factory()
    second.start()
    document = job_wait(creator, job_id, second)

    assert document["status"] == "OK", document
    assert document["attempts"] == 2 and document["error"] == []
    assert_derived_once(job_id, ids, document)
    assert Asset.objects.count() == 2 * len(ids)
    assert_files_match_rows(media_root)
    print(f"killed after {done_at_kill} of {len(ids)} assets; resumed to OK with each asset once")


# --- the time limit --------------------------------------------------------------------------


@pytest.mark.usefixtures("no_thumbnails")  # the time limit is for the job under test alone
def test_job_past_the_time_limit_ends_in_error_keeping_what_it_saved(client_for, media_root, qcluster_factory):
    creator = client_for(Role.CREATOR)
    ids = sources(creator, 16, size=(800, 600))  # a few assets fit in the limit, the rest do not
    cluster = qcluster_factory(Q_TIMEOUT="2")
    cluster.start()
    job_id = derive_all(creator, ids)
    document = job_wait(creator, job_id, cluster)

    assert document["status"] == "ERROR", document
    assert document["attempts"] == 1
    done = len(document["output"])
    assert 0 < done < len(ids), document
    assert [e["asset_id"] for e in document["error"]] == ids[done:]
    assert all("time limit (Q_TIMEOUT = 2 s)" in e["error"] for e in document["error"]), document["error"]
    assert document["output"] == [{"name": None, "asset_id": item_asset_id(job_id, i)} for i in range(done)]
    for index, source_id in enumerate(ids):
        assert len(derived(source_id)) == (1 if index < done else 0)
    assert Asset.objects.count() == len(ids) + done
    assert_files_match_rows(media_root)
    assert "Task exceeded maximum timeout value" in cluster.log() or "timeout" in cluster.log().lower()


# --- a clean stop ------------------------------------------------------------------------------


@pytest.mark.parametrize("group", [False, True], ids=["main-process", "process-group"])
def test_sigterm_during_a_job_stops_promptly_and_the_job_is_finished_or_released(
    client_for, media_root, qcluster_factory, group
):
    creator = client_for(Role.CREATOR)
    ids = sources(creator, 10, size=(1600, 1200))  # longer than the stop takes: released mid-job
    first = qcluster_factory(Q_STOP_GRACE="1")
    first.start()
    job_id = derive_all(creator, ids)
    assert wait_until(lambda: progress_of(job_id) >= 1, JOB_TIMEOUT), first.log()
    seconds = first.terminate(group=group)
    assert seconds < 15, f"qcluster took {seconds:.1f} s to stop:\n{first.log()}"

    # Finished, or released (not left leased: the next worker takes it at once). With a group
    # signal the worker process is signalled directly and may outlive the main one briefly.
    released = lambda: Job.objects.filter(id=job_id, claim="", lease_until=None, attempts=0).exists()  # noqa: E731
    assert wait_until(lambda: released() or Job.objects.get(id=job_id).status != JobStatus.QUEUED, 10), (
        Job.objects.filter(id=job_id).values().get()
    )
    job = Job.objects.get(id=job_id)
    second = qcluster_factory()
    second.start()
    document = job_wait(creator, job_id, second)

    assert document["status"] == "OK", document
    assert document["attempts"] == 1  # a released attempt is not counted
    assert_derived_once(job_id, ids, document)
    assert_files_match_rows(media_root)
    print(f"SIGTERM to the {'group' if group else 'main process'}: stopped in {seconds:.1f} s; job {job.status} then OK")


# --- the broker down ---------------------------------------------------------------------------


def test_broker_unreachable_at_request_time_still_answers_and_the_sweep_runs_the_jobs(
    client_for, media_root, qcluster_factory, monkeypatch
):
    """The web process's broker is a Redis server that is not there (a closed port); the
    requests must succeed anyway, and a cluster on the real broker runs the jobs."""
    creator = client_for(Role.CREATOR)
    [asset_id] = sources(creator, 1, size=(320, 240))
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", f"redis://127.0.0.1:{_free_port()}/0")

    response = creator.get(
        f"/api/v1/assets/{asset_id}/addons/bg_remove",
        {"mode": "get_image_and_save", "disposition": "add_conversion", "conversion_name": "cut"},
    )
    assert response.status_code == 200, response.content
    png, save_job = response.content, response["X-Job-Id"]
    assert png.startswith(b"\x89PNG")
    graphics_job = derive_all(creator, [asset_id])
    for job_id in (save_job, graphics_job):
        assert Job.objects.get(id=job_id).status == JobStatus.QUEUED
    monkeypatch.undo()  # the broker is back

    cluster = qcluster_factory()
    cluster.start()
    saved = job_wait(creator, save_job, cluster)
    made = job_wait(creator, graphics_job, cluster)

    assert (saved["status"], saved["output"]) == ("OK", [{"name": "cut", "asset_id": asset_id}])
    download = creator.get(f"/api/v1/assets/{asset_id}/content/cut")
    assert b"".join(download.streaming_content) == png
    assert made["status"] == "OK"
    assert_derived_once(graphics_job, [asset_id], made)
    assert_files_match_rows(media_root)
    assert "could not queue job" not in cluster.log()


def _redis_server() -> str:
    found = shutil.which("redis-server")
    if not found or Conf.ORM:
        pytest.skip("needs the Redis broker (the suite's PostgreSQL + Redis run)")
    return found


def test_redis_restarted_while_jobs_wait_and_run_every_job_still_ends(client_for, media_root, qcluster_factory):
    server = _redis_server()
    creator = client_for(Role.CREATOR)
    ids = sources(creator, 8, size=(800, 600))
    cluster = qcluster_factory()
    cluster.start()
    jobs = {derive_all(creator, ids[i : i + 2]): ids[i : i + 2] for i in range(0, len(ids), 2)}
    first = next(iter(jobs))
    assert wait_until(lambda: Job.objects.get(id=first).started_at is not None, JOB_TIMEOUT), cluster.log()
    subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave"], check=False, timeout=10)
    try:
        time.sleep(3)  # queued rings are gone with the server; the running job goes on
    finally:
        subprocess.run([server, "--daemonize", "yes", *REDIS_ARGS], check=True, timeout=10)
        assert wait_until(
            lambda: subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True).stdout.strip() == b"PONG", 10
        )

    for job_id, job_ids in jobs.items():
        document = job_wait(creator, job_id, cluster, 180)
        assert document["status"] == "OK", document
        assert_derived_once(job_id, job_ids, document)
    assert Asset.objects.count() == 2 * len(ids)
    assert_files_match_rows(media_root)


# --- two hosts --------------------------------------------------------------------------------


@pytest.fixture
def s3_settings(settings, s3_endpoint, bucket, media_root) -> dict[str, str]:
    """The web process and the clusters all store in one bucket of the moto server."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket, "endpoint_url": s3_endpoint, "access_key": "test", "secret_key": "test",
                "region_name": "us-east-1", "default_acl": None, "file_overwrite": True,
            },
        },
    }
    return {
        "AWS_STORAGE_BUCKET_NAME": bucket, "AWS_S3_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test", "AWS_S3_REGION_NAME": "us-east-1", "NO_PROXY": "127.0.0.1,localhost",
    }


def test_two_clusters_sharing_database_broker_and_s3_one_killed_every_item_done_once(
    client_for, qcluster_factory, s3_settings, s3_client, bucket
):
    creator = client_for(Role.CREATOR)
    ids = sources(creator, 10, size=(256, 256))
    saves, graphics = {}, {}
    for n in range(25):
        asset_id = ids[n % len(ids)]
        response = creator.get(
            f"/api/v1/assets/{asset_id}/addons/bg_remove",
            {"mode": "get_image_and_save", "disposition": "add_conversion", "conversion_name": f"cut-{n}"},
        )
        assert response.status_code == 200, response.content
        saves[response["X-Job-Id"]] = (asset_id, f"cut-{n}", response.content)
        graphics[derive_all(creator, [asset_id])] = asset_id
    everything = [*saves, *graphics]
    hosts = [qcluster_factory(**s3_settings), qcluster_factory(**s3_settings)]
    for host in hosts:
        host.start()
    ended = lambda: Job.objects.filter(id__in=everything).exclude(status=JobStatus.QUEUED).count()  # noqa: E731
    assert wait_until(lambda: ended() >= 15, 120), hosts[0].log()
    hosts[0].kill()
    at_kill = ended()

    for job_id in everything:
        assert job_wait(creator, job_id, hosts[1], 180)["status"] == "OK"
    for job_id, (asset_id, name, png) in saves.items():
        conversion = Conversion.objects.get(asset_id=asset_id, name=name)
        assert s3_client.get_object(Bucket=bucket, Key=conversion.file.name)["Body"].read() == png
    for job_id, asset_id in graphics.items():
        made = item_asset_id(job_id, 0)
        assert Job.objects.get(id=job_id).output == [{"name": None, "asset_id": made}]
        assert Asset.objects.filter(id=made, source_asset_id=asset_id).count() == 1
    assert Asset.objects.count() == len(ids) + len(graphics)
    assert Conversion.objects.count() == len(saves)
    assert_files_match_rows(stored=lambda: set(bucket_keys(s3_client, bucket)))
    retried = Job.objects.filter(id__in=everything, attempts__gt=1).count()
    print(f"50 jobs, one of two clusters killed after {at_kill} ended: all OK, {retried} retried, none duplicated")
