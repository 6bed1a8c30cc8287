"""Benchmark: background removal over HTTP against `rembg.remove` in-process, one run.

Starts the real server (gunicorn with the project's config, as `make run` does) on a
private SQLite database and media folder, then for a 512x512, a 1600x1200 and a 4000x3000
JPEG prints, side by side: the median time of `rembg.remove(bytes)` in this process
(same u2netp model), the median time of POST /api/v1/assets/file/addons/bg_remove
(get_image) over HTTP, their ratio, and both PNG sizes. Then the throughput with 4
concurrent clients on the 1600x1200 image, and the peak RSS of the server's processes.
Then the output options of SPEC §10 on the 4000x3000 JPEG (format=webp,
format=jpg&bg_color=#fff, size=preview, decontaminate=true): median time and bytes, each
against the default PNG measured in the same rounds.

    .venv/bin/python bench/bg_remove.py [--repeat N] [--port P]

Absolute times on a shared machine are noisy; the ratio is measured in one run, with
the two calls interleaved, so it is the figure to compare.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
from PIL import Image

from photos import photo_jpeg

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_ROWS = [
    ("default (png)", {}),
    ("format=webp", {"format": "webp"}),
    ("format=jpg&bg_color=#fff", {"format": "jpg", "bg_color": "#fff"}),
    ("size=preview", {"size": "preview"}),
    ("decontaminate=true", {"decontaminate": "true"}),
]
SIZES = [(512, 512), (1600, 1200), (4000, 3000)]
TARGETS = {(512, 512): 1.1, (4000, 3000): 0.4}


def process_tree_peak_rss_kib(root_pid: int) -> int:
    """Sum of VmHWM (peak resident set) over the process and its children, in KiB."""
    total = 0
    pids = [root_pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == root_pid:
                pids.append(int(entry.name))
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def bench_env(prefix: str) -> tuple[Path, dict[str, str]]:
    """A private working folder, and the environment of a service that keeps its database,
    media and broker (the ORM's) in it."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    env = {
        **os.environ,
        "ASSETS_VAR_DIR": str(workdir),
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "MEDIA_ROOT": str(workdir / "media"),
        "DJANGO_SETTINGS_MODULE": "assets_project.settings",
    }
    env.pop("Q_BROKER", None)
    return workdir, env


def api_key(env: dict[str, str], role: str) -> str:
    """A key of a new user with `role` in the account "bench" (manage.py create_api_user)."""
    return subprocess.run(
        [sys.executable, "manage.py", "create_api_user", "--account", "bench", "--username", "bench", "--role", role],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen:
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    server = subprocess.Popen(
        [
            str(Path(python).parent / "gunicorn"),
            "assets_project.wsgi:application",
            "--config", "assets_project/gunicorn_conf.py",
            "--bind", f"127.0.0.1:{port}",
            "--access-logfile", "/dev/null",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_serving(server, port)
    except BaseException:
        server.kill()
        raise
    return server


def stop_server(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def wait_until_serving(server: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            # 401 means a worker is up and answering (workers warm their model first)
            if requests.get(f"http://127.0.0.1:{port}/api/v1/assets", timeout=10).status_code == 401:
                time.sleep(3)  # let the other worker finish warming too
                return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.5)
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited: {server.stderr.read()}")
    raise SystemExit("gunicorn did not start within 120 s")


def png_levels(session) -> None:
    """Why BG_REMOVE_PNG_LEVEL defaults to 2: our encoder at each level vs Pillow's."""
    from graphics.processing import background
    from graphics.processing.images import decode, png_encode

    background._sessions["u2netp"] = session
    for width, height in [(1600, 1200), (4000, 3000)]:
        image = decode(photo_jpeg(width, height), max_pixels=10**9)
        cutout = background.remove_background(
            image, options=background.BgRemoveOptions(), models={"auto": "u2netp"}
        ).image
        print(f"\nPNG encoding of the {width}x{height} cutout (median of 3):")
        rows = [(f"ours, level {level}", lambda level=level: png_encode(cutout, level=level)) for level in (1, 2, 3, 6)]
        rows.append(("Pillow, level 6 (rembg)", lambda: pillow_png(cutout, 6)))
        rows.append(("Pillow, level 1", lambda: pillow_png(cutout, 1)))
        for label, encode in rows:
            times = []
            for _ in range(3):
                started = time.perf_counter()
                size = len(encode())
                times.append(time.perf_counter() - started)
            print(f"  {label:<24} {statistics.median(times):>7.3f} s {size:>12,} bytes")


def output_options(over_http, repeat: int) -> None:
    """SPEC §10's output options on the 4000x3000 JPEG over HTTP, interleaved round by round."""
    jpeg = photo_jpeg(4000, 3000)
    times: dict[str, list[float]] = {label: [] for label, _ in OUTPUT_ROWS}
    sizes: dict[str, int] = {}
    for label, params in OUTPUT_ROWS:  # warm each path once (decontamination imports scipy)
        over_http(jpeg, params)
    for _ in range(repeat):
        for label, params in OUTPUT_ROWS:
            started = time.perf_counter()
            sizes[label] = len(over_http(jpeg, params))
            times[label].append(time.perf_counter() - started)
    base_time = statistics.median(times[OUTPUT_ROWS[0][0]])
    base_size = sizes[OUTPUT_ROWS[0][0]]
    print(f"\noutput options, 4000x3000 JPEG over HTTP (get_image, median of {repeat}):")
    print(f"  {'query':<26} | {'time':>8} | {'x png':>5} | {'bytes':>11} | {'x png':>5}")
    for label, _ in OUTPUT_ROWS:
        t = statistics.median(times[label])
        print(f"  {label:<26} | {t:>6.3f} s | {t / base_time:>5.2f} | {sizes[label]:>11,} | {sizes[label] / base_size:>5.2f}")


def pillow_png(image: Image.Image, level: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=level)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--port", type=int, default=8917)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    _, env = bench_env("bench-")
    server = start_server(args.port, env)
    try:
        key = api_key(env, "USER")
        url = f"http://127.0.0.1:{args.port}/api/v1/assets/file/addons/bg_remove"
        headers = {"X-Api-Key": key}

        import rembg

        session = rembg.new_session("u2netp")
        http = requests.Session()

        def over_http(jpeg: bytes, params: dict[str, str] | None = None) -> bytes:
            response = http.post(
                url, params=params, headers=headers, files={"image": ("photo.jpg", jpeg, "image/jpeg")}, timeout=120
            )
            if response.status_code != 200:
                raise SystemExit(f"the endpoint answered {response.status_code}: {response.text[:300]}")
            return response.content

        print(f"{'image':>11} | {'rembg.remove':>12} | {'HTTP get_image':>14} | {'ratio':>5} | {'target':>6} | "
              f"{'rembg PNG':>10} | {'our PNG':>10} | {'PNG ratio':>9}")
        for width, height in SIZES:
            jpeg = photo_jpeg(width, height)
            rembg_png, our_png = rembg.remove(jpeg, session=session), over_http(jpeg)  # warm both
            ours, theirs = [], []
            for _ in range(args.repeat):
                started = time.perf_counter()
                rembg_png = rembg.remove(jpeg, session=session)
                theirs.append(time.perf_counter() - started)
                started = time.perf_counter()
                our_png = over_http(jpeg)
                ours.append(time.perf_counter() - started)
            t_theirs, t_ours = statistics.median(theirs), statistics.median(ours)
            target = TARGETS.get((width, height))
            print(
                f"{width:>5}x{height:<5} | {t_theirs:>10.3f} s | {t_ours:>12.3f} s | {t_ours / t_theirs:>5.2f} | "
                f"{('<= ' + str(target)) if target else '':>6} | {len(rembg_png):>10,} | {len(our_png):>10,} | "
                f"{len(our_png) / len(rembg_png):>9.2f}"
            )

        jpeg = photo_jpeg(1600, 1200)
        per_client = max(3, args.repeat)
        errors: list[BaseException] = []

        def client() -> None:
            local = requests.Session()
            try:
                for _ in range(per_client):
                    local.post(url, headers=headers, files={"image": ("p.jpg", jpeg, "image/jpeg")}, timeout=300).raise_for_status()
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=client) for _ in range(4)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        if errors:
            raise SystemExit(f"concurrent clients failed: {errors[0]}")
        print(f"\nthroughput, 4 concurrent clients, 1600x1200: {4 * per_client / elapsed:.2f} images/s "
              f"({4 * per_client} requests in {elapsed:.1f} s)")
        print(f"server peak RSS (gunicorn master + workers, VmHWM): {process_tree_peak_rss_kib(server.pid) / 1024:.0f} MiB")
        output_options(over_http, args.repeat)
        png_levels(session)
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
