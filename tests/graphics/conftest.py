"""A real django-q2 cluster for the graphics tests, and helpers for tests that use it.

The `qcluster` fixture runs `manage.py qcluster` as a child process that shares the test's
database (passed as DATABASE_URL), its media folder (MEDIA_ROOT) and its broker (Q_BROKER:
the ORM broker in that database by default, Redis when the suite runs with
Q_BROKER=redis://...). Nothing is mocked.

Tests that use it must be transactional (`pytest.mark.django_db(transaction=True)`):
rows are committed, so the other process sees them, and
`on_commit` callbacks run, which is what queues the tasks. The fixture does not start
the cluster; the test calls `qcluster.start()` when it wants a worker, so it can assert
on a job's state before any worker could have touched it.

Shared by tests/graphics/test_worker.py (Remove Background's background save) and
tests/graphics/test_image_graphics_worker.py (Image Graphics jobs).

Also here, for every graphics test: `snapshot` (the rows and files a request or a job could
create), `decode_png`, `run_job` (a job run in-process, as the worker would run it) and
the module-scoped astronaut fixtures of the processing tests (the model's mask and
cutout, made once per module). tests/graphics/bg_remove/ and tests/graphics/image_graphics/
have their own conftest.py for the API tests of each feature.
"""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_q.brokers import get_broker
from PIL import Image

from assets.jobs import job_ring
from assets.models import Asset, Conversion, Job, JobStatus
from graphics.processing import background, images
from graphics.processing.background import BgRemoveOptions
from tests.conftest import stored_files
from tests.images import encode, photo

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JOB_TIMEOUT = 60  # seconds a job may stay QUEUED once a worker runs


# --- the child processes' environment -----------------------------------------------------


def database_url() -> str:
    """The test database (not the configured one) as a URL another process can open."""
    params = connection.settings_dict
    engine = params["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        name = str(params["NAME"])
        if not os.path.isabs(name):
            pytest.fail(f"the SQLite test database must be a file another process can open, got {name!r}")
        return f"sqlite:///{name}"  # an absolute path: sqlite:////abs/path
    if engine in ("django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"):
        auth = quote(params.get("USER") or "", safe="")
        if params.get("PASSWORD"):
            auth += ":" + quote(params["PASSWORD"], safe="")
        host = quote(params.get("HOST") or "localhost", safe="")
        port = params.get("PORT") or 5432
        return f"postgres://{auth}@{host}:{port}/{quote(params['NAME'], safe='')}"
    pytest.fail(f"no DATABASE_URL for engine {engine}")


def child_env(media_root: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "ASSETS_TEST_DB"}
    env.update(
        DATABASE_URL=database_url(),
        MEDIA_ROOT=str(media_root),
        DJANGO_SETTINGS_MODULE="assets_project.settings",
        PYTHONUNBUFFERED="1",
        # One worker: each worker process loads and warms the model when it starts, which
        # is most of a cluster's start-up time; one is all these tests need.
        Q_WORKERS="1",
        # A dead worker's job is swept again within seconds, not the production half-minute.
        JOB_LEASE_SECONDS="3",
        JOBS_SWEEP_SECONDS="1",
    )
    if os.environ.get("Q_BROKER"):
        env["Q_BROKER"] = os.environ["Q_BROKER"]
    env.update(extra)
    return env


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


def stop_process(process: subprocess.Popen, grace: float = 15) -> None:
    """SIGTERM (django-q2 stops its sentinel and workers), then SIGKILL the child's group."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    try:  # the child leads its own session: its group is only the processes it started
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(10)


# --- the cluster ------------------------------------------------------------------------------


class QCluster:
    """A `manage.py qcluster` child process; `start()` returns once a worker is ready."""

    READY = re.compile(r"Q Cluster \S+ \[[^\]]*\] running\.")

    def __init__(self, env: dict[str, str], log_path: Path):
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, timeout: float = 45) -> None:
        assert self.process is None, "the cluster is already running"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [PYTHON, "manage.py", "qcluster"],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def ready() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"qcluster exited with {self.process.returncode} while starting:\n{self.log()}")
            text = self.log()
            return "ready for work" in text and bool(self.READY.search(text))

        if not wait_until(ready, timeout, interval=0.1):
            pytest.fail(f"qcluster was not ready after {timeout} s:\n{self.log()}")

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            pytest.fail(f"qcluster died with {self.process.returncode}:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def kill(self) -> None:
        """SIGKILL the whole process group at once, as a crashed host or the OOM killer would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, *, group: bool) -> float:
        """SIGTERM the main process (as Kubernetes does) or its whole group (as honcho and
        systemd do); returns the seconds until the main process had exited."""
        began = time.monotonic()
        if group:
            os.killpg(self.process.pid, signal.SIGTERM)
        else:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        return time.monotonic() - began


@pytest.fixture
def qcluster_factory(transactional_db, media_root, tmp_path, settings):
    """qcluster_factory(**env) -> a new, not yet started QCluster on the test's database,
    media and broker, with `env` added to its environment. Several may run at once, as
    on several hosts. The cluster makes thumbnails when the test's settings do
    (`no_thumbnails` turns them off on both sides).

    The broker is purged first (before the test queues anything), so a task left over by
    an earlier run cannot be picked up, and again at the end. Every cluster is always
    stopped; its log is printed, which pytest shows when the test fails.
    """
    get_broker().purge_queue()
    made: list[QCluster] = []

    def make(**env: str) -> QCluster:
        env.setdefault("ASSETS_THUMBNAIL_SIDE", str(settings.ASSETS_THUMBNAIL_SIDE))
        cluster = QCluster(child_env(media_root, **env), tmp_path / f"qcluster-{len(made) + 1}.log")
        made.append(cluster)
        return cluster

    try:
        yield make
    finally:
        for cluster in made:
            cluster.stop()
            if cluster.process is not None:
                print(f"--- {cluster.log_path.name} (exit {cluster.process.returncode}) ---\n{cluster.log()}")
        get_broker().purge_queue()


@pytest.fixture
def qcluster(qcluster_factory) -> QCluster:
    """One cluster on the test's database, media and broker; the test calls `.start()`."""
    return qcluster_factory()


# --- helpers for the tests that use it --------------------------------------------------------


def upload(client, name: str, body: bytes, **fields) -> dict:
    """POST assets (multipart); the 201 asset document."""
    response = client.post("/api/v1/assets", {"file": SimpleUploadedFile(name, body), **fields}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


def job_wait(
    client, job_id: str, cluster: QCluster, timeout: float = JOB_TIMEOUT, *, path: str = "/api/v1/jobs/{job_id}"
) -> dict:
    """Poll GET `path` (by default jobs/{id}) until the job leaves QUEUED; its document.

    Fails, with the cluster's log, if the cluster dies or the job is still QUEUED after
    `timeout` seconds."""
    url = path.format(job_id=job_id)
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(url)
        assert response.status_code == 200, response.content
        document = response.json()
        if document["status"] != JobStatus.QUEUED:
            return document
        cluster.check_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} still QUEUED after {timeout} s: {document}\n{cluster.log()}")
        time.sleep(0.2)


# --- rows, files and jobs -------------------------------------------------------------------


def snapshot(media_root: Path) -> dict:
    """Everything a request or a job could create: row counts and every stored file's bytes."""
    return {
        "assets": Asset.objects.count(),
        "conversions": Conversion.objects.count(),
        "jobs": Job.objects.count(),
        "files": {str(p.relative_to(media_root)): p.read_bytes() for p in stored_files(media_root)},
    }


def decode_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


def run_job(job_id: str, capture) -> Job:
    """Run the job in-process with `assets.jobs.job_ring`, the worker's task (its on-commit
    callbacks executed by `capture`, django_capture_on_commit_callbacks); the job row after."""
    with capture(execute=True):
        job_ring(job_id)
    return Job.objects.get(id=job_id)


# --- the processing tests' astronaut (no database) ------------------------------------------

MODEL = "u2netp"
MODELS = {"auto": MODEL, "portrait": MODEL, "product": MODEL}
MAX_PIXELS = 50_000_000


def decoded_jpeg(image: Image.Image) -> Image.Image:
    """`image` as the service receives it: JPEG quality 95 bytes, decoded by images.decode."""
    return images.decode(encode(image, "JPEG", quality=95), max_pixels=MAX_PIXELS)


def alpha_of(image: Image.Image) -> np.ndarray:
    return np.asarray(image.getchannel("A"), dtype=np.int64)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boolean masks (1.0 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def cutout(image: Image.Image, **options) -> background.Cutout:
    return background.remove_background(image, options=BgRemoveOptions(**options), models=MODELS)


@pytest.fixture(scope="module")
def astronaut() -> Image.Image:
    """skimage's astronaut (512x512) as the service receives it (through a JPEG)."""
    return decoded_jpeg(photo("astronaut"))


@pytest.fixture(scope="module")
def astronaut_soft_mask(astronaut) -> Image.Image:
    mask = background.soft_mask(astronaut, model_name=MODEL)
    assert mask.mode == "L" and mask.size == astronaut.size  # 512 px: the working size is the image size
    return mask


@pytest.fixture(scope="module")
def astronaut_cutout(astronaut) -> background.Cutout:
    """The default cutout (auto, medium, no artifact removal), made once per module."""
    return cutout(astronaut)
