"""The service behind real gunicorn, configured as `make run` configures it
(assets_project/gunicorn_conf.py): what gunicorn itself refuses answers in the API's
JSON error shape, and a chunked upload without Content-Length is read like any other.

gunicorn runs as a child process on the test's database (committed rows: transactional
tests) and media folder, with small body limits so the 413 is cheap to reach."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from assets.models import Asset
from tests.conftest import _free_port, assert_error, stored_files
from tests.graphics.conftest import child_env
from tests.images import jpeg_bytes

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
MAX_UPLOAD = 300_000
MAX_FORM = 100_000
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(media_root, tmp_path, make_user) -> Iterator[tuple[str, str]]:
    """(base URL, an ADMIN's API key) of a gunicorn serving the test's database."""
    _, key = make_user("ADMIN")
    port = _free_port()
    env = child_env(  # the test's database, media folder and broker, as for the worker tests
        media_root,
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="2",
        ASSETS_MAX_UPLOAD_BYTES=str(MAX_UPLOAD),
        ASSETS_MAX_JSON_BYTES=str(MAX_FORM),
    )
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(GUNICORN), "assets_project.wsgi:application", "--config", "assets_project/gunicorn_conf.py",
             "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                if requests.get(f"{base}/api/v1/assets", timeout=2).status_code == 401:
                    break
            except (requests.ConnectionError, requests.Timeout):  # listening, workers still warming the model
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer within 60 s:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield base, key
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def multipart(file_name: str, data: bytes, boundary: str = "gunicorn-test-boundary") -> tuple[bytes, str]:
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def in_chunks(body: bytes, size: int = 8192) -> Iterator[bytes]:
    """A generator body: requests sends it with Transfer-Encoding: chunked, no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_10000_character_query_is_a_414_in_the_error_shape(server):
    base, key = server
    response = requests.get(f"{base}/api/v1/assets", params={"name": "a" * 10_000}, headers={"X-Api-Key": key}, timeout=10)
    body = assert_error(response, 414, code="request_line_too_long")
    assert "8190 bytes" in body["message"] and "shorten" in body["message"]


def test_oversized_headers_are_a_431_in_the_error_shape(server):
    base, key = server
    response = requests.get(f"{base}/api/v1/assets", headers={"X-Api-Key": key, "X-Padding": "p" * 9000}, timeout=10)
    assert_error(response, 431, code="headers_too_large")


def test_a_chunked_upload_without_content_length_is_stored(server, media_root):
    base, key = server
    data = jpeg_bytes(size=(200, 150))
    body, content_type = multipart("chunked.jpg", data)
    response = requests.post(
        f"{base}/api/v1/assets", data=in_chunks(body), headers={"X-Api-Key": key, "Content-Type": content_type}, timeout=30
    )
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in response.request.headers
    assert response.status_code == 201, response.text
    asset = Asset.objects.get(id=response.json()["id"])
    assert (asset.name, asset.size, asset.width, asset.height) == ("chunked.jpg", len(data), 200, 150)
    assert [path.read_bytes() for path in stored_files(media_root)] == [data]


def test_a_chunked_body_over_the_limit_is_a_413_that_stores_nothing(server, media_root):
    base, key = server
    body, content_type = multipart("big.jpg", b"\xff" * (MAX_UPLOAD + MAX_FORM + 50_000))
    response = requests.post(
        f"{base}/api/v1/assets", data=in_chunks(body), headers={"X-Api-Key": key, "Content-Type": content_type}, timeout=30
    )
    assert_error(response, 413, code="request_too_large")
    assert Asset.objects.count() == 0
    assert stored_files(media_root) == []


@pytest.mark.parametrize("file_name", [".", ".."])
def test_an_upload_named_dot_or_dot_dot_is_stored(server, media_root, file_name):
    base, key = server
    data = jpeg_bytes(size=(200, 150))
    body, content_type = multipart(file_name, data)
    response = requests.post(f"{base}/api/v1/assets", data=body, headers={"X-Api-Key": key, "Content-Type": content_type}, timeout=30)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "upload"
    assert [path.read_bytes() for path in stored_files(media_root)] == [data]
