"""`/healthz` and `/readyz` (SPEC §12): no auth; readiness really uses the database, the
broker, the storage and the model, and names what is down with a 503. The parts go down
for real: a private Redis is stopped, a database URL leads nowhere, the S3 bucket is gone."""

from __future__ import annotations

import socket
import time

import pytest

from graphics.services import models_warm
from tests.operations.conftest import unreachable_database_url

PARTS = {"database", "broker", "storage", "model"}


@pytest.fixture
def warm_model():
    models_warm()  # as gunicorn's post_worker_init does before a worker serves


@pytest.mark.django_db
def test_healthz_and_readyz_answer_200_without_credentials_when_all_is_up(client, warm_model):
    health = client.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = client.get("/readyz")
    body = ready.json()
    assert ready.status_code == 200, body
    assert (body["status"], body["down"], set(body["checks"])) == ("ready", [], PARTS)
    assert all(check["status"] == "ok" for check in body["checks"].values())
    assert body["checks"]["model"]["detail"] == "u2netp"
    assert ready["Cache-Control"].startswith("max-age=0")
    assert client.post("/readyz").status_code == 405


@pytest.mark.django_db
def test_readyz_names_the_storage_when_its_bucket_is_gone(client, warm_model, settings, s3_endpoint, s3_client, bucket, media_root):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": bucket, "endpoint_url": s3_endpoint, "access_key": "test", "secret_key": "test",
                        "region_name": "us-east-1", "default_acl": None},
        },
    }
    assert client.get("/readyz").status_code == 200
    assert s3_client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0  # the probe file is deleted again
    s3_client.delete_bucket(Bucket=bucket)
    response = client.get("/readyz")
    body = response.json()
    assert (response.status_code, body["status"], body["down"]) == (503, "unavailable", ["storage"]), body
    assert body["checks"]["storage"] == {"status": "down", "error": "failed (NoSuchBucket); the log has the details"}
    assert {name for name, check in body["checks"].items() if check["status"] == "ok"} == PARTS - {"storage"}


@pytest.mark.django_db
def test_readyz_names_local_storage_that_cannot_be_written(client, warm_model, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(blocker / "media")},
    }}
    body = client.get("/readyz").json()
    assert body["down"] == ["storage"], body


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_readyz_names_the_broker_while_redis_is_down_and_recovers(gunicorn, private_redis):
    server = gunicorn(Q_BROKER=private_redis.url, READYZ_TIMEOUT="1")
    assert server.get("/readyz").status_code == 200, server.get("/readyz").text
    private_redis.stop()
    response = server.get("/readyz")
    body = response.json()
    assert (response.status_code, body["down"]) == (503, ["broker"]), body
    assert body["checks"]["broker"]["status"] == "down"
    assert server.get("/healthz").status_code == 200  # the process itself still answers
    private_redis.start()
    assert server.get("/readyz").status_code == 200


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_readyz_names_the_database_when_it_cannot_be_reached(gunicorn, tmp_path):
    server = gunicorn(DATABASE_URL=unreachable_database_url(tmp_path), Q_BROKER="orm")
    response = server.get("/readyz")
    body = response.json()
    assert response.status_code == 503, body
    assert body["down"] == ["database", "broker"], body  # the ORM broker is a table of that database
    assert body["checks"]["storage"]["status"] == body["checks"]["model"]["status"] == "ok"
    assert "OperationalError" in body["checks"]["database"]["error"]


@pytest.mark.django_db
def test_readyz_cuts_a_part_that_hangs_at_the_time_limit(client, warm_model, settings):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts connections, never answers
    try:
        settings.Q_BROKER = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        settings.READYZ_TIMEOUT = 1
        started = time.monotonic()
        response = client.get("/readyz")
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    body = response.json()
    assert (response.status_code, body["down"]) == (503, ["broker"]), body
    assert body["checks"]["broker"]["error"] == "did not answer within 1 s"
    assert elapsed < 10, elapsed  # cut at the limit, not left waiting on the silent server
