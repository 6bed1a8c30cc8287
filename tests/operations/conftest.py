"""Real servers for the operations tests: gunicorn (configured as `make run` configures it,
assets_project/gunicorn_conf.py) on the test's database and media folder, and a private
Redis server that a test may stop (never the shared one)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import _free_port
from tests.graphics.conftest import ROOT, child_env, stop_process, wait_until

GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"


@dataclass
class Server:
    base: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.base + path, timeout=30, **kwargs)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(10)


@pytest.fixture
def gunicorn(media_root, tmp_path) -> Iterator[Callable[..., Server]]:
    """gunicorn(workers=1, **env) -> a Server once /healthz answers (its workers have loaded
    the model by then); each is stopped at the end, its log printed (pytest shows it when
    the test fails)."""
    started: list[Server] = []

    def start(workers: int = 1, **env: str) -> Server:
        port = _free_port()
        log_path = tmp_path / f"gunicorn-{len(started) + 1}.log"
        environment = child_env(media_root, GUNICORN_WORKERS=str(workers), GUNICORN_THREADS="2", **env)
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [str(GUNICORN), "assets_project.wsgi:application", "--config", "assets_project/gunicorn_conf.py",
                 "--bind", f"127.0.0.1:{port}"],
                cwd=ROOT, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = Server(f"http://127.0.0.1:{port}", process, log_path)
        started.append(server)

        def up() -> bool:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{server.log()}")
            try:
                return requests.get(server.base + "/healthz", timeout=2).status_code == 200
            except (requests.ConnectionError, requests.Timeout):
                return False

        if not wait_until(up, 60, interval=0.2):
            pytest.fail(f"gunicorn did not answer within 60 s:\n{server.log()}")
        return server

    yield start
    for server in started:
        server.stop()
        print(f"--- {server.log_path.name} ---\n{server.log()}")


class PrivateRedis:
    """A redis-server of the test's own, on a free port, without persistence."""

    def __init__(self, tmp_path: Path):
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.tmp_path = tmp_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp_path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)

        def answers() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        assert wait_until(answers, 10, interval=0.1), "the private redis-server did not start"

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=5)
            self.process = None


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def unreachable_database_url(tmp_path: Path) -> str:
    """A database URL of the suite's engine with no database behind it."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"postgres://postgres@127.0.0.1:{_free_port()}/nothing"
    return f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}"
