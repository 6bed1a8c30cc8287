"""Benchmark: renditions over HTTP, made (miss) and served from storage (hit), against
Pillow's `thumbnail()` written directly, in one run.

Starts the real server (gunicorn with the project's config, as `make run` does, without
the worker, so no thumbnail job competes for the CPU) on a private SQLite database and
media folder, uploads a 4000x3000 JPEG once per run, and times over HTTP:

- miss: the first `GET assets/{id}/content/original?w=256&h=256&format=webp` of a fresh
  asset (`X-Rendition: miss`: read the original, decode, resize, encode, store, insert);
- hit: the same URL again (`X-Rendition: hit`: one row looked up, the stored file sent);
- for scale, the floor of any request of this stack: `GET assets/{id}` (the JSON document:
  authentication, one asset), and a hit revalidated with `If-None-Match` (304, no body);
- direct: `Image.open(...)`, `thumbnail((256, 256))`, `save(..., "WEBP", quality=80)` on
  the same bytes in this process, no HTTP, no storage;

then, for information, the AVIF and JPEG misses of the same thumbnail on the same assets
(each a first request for its format), with Pillow's direct equivalents. Medians of
`--repeat` runs; the hit time is the median over every repeated request.

    .venv/bin/python bench/renditions.py [--repeat N] [--hits N] [--port P]

The timed GETs go over one kept-alive `http.client` connection: `requests` adds 2-3 ms of
its own per call here, as much as a hit costs the server, which would measure the client
rather than the service. Uploads still go through `requests`.

Absolute times on a shared machine are noisy; the ratios, measured in one run with the
calls interleaved, are the figures to compare.
"""

from __future__ import annotations

import argparse
import http.client
import io
import statistics
import time
from urllib.parse import urlencode

import requests
from PIL import Image

from bg_remove import api_key, bench_env, start_server, stop_server  # the same server start
from photos import photo_jpeg

SIDE = 256
QUALITY = 80
TARGET = 20.0  # a hit at least this many times faster than a miss
FORMATS = {"webp": ("WEBP", "image/webp"), "avif": ("AVIF", "image/avif"), "jpeg": ("JPEG", "image/jpeg")}


def direct(jpeg: bytes, fmt: str) -> bytes:
    """The thumbnail written directly with Pillow: open, thumbnail() (which uses the JPEG
    draft mode too), save at the same quality with Pillow's other defaults."""
    image = Image.open(io.BytesIO(jpeg))
    image.thumbnail((SIDE, SIDE))
    buffer = io.BytesIO()
    image.save(buffer, FORMATS[fmt][0], quality=QUALITY)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs (each on a fresh asset)")
    parser.add_argument("--hits", type=int, default=10, help="repeated requests per run")
    parser.add_argument("--port", type=int, default=8940)
    args = parser.parse_args()

    _, env = bench_env("bench-renditions-")
    server = start_server(args.port, env)
    try:
        key = api_key(env, "CREATOR")
        base = f"http://127.0.0.1:{args.port}/api/v1/assets"
        session = requests.Session()
        session.headers["X-Api-Key"] = key
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)

        def get(path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
            """A GET on the kept-alive connection; the response's body is read."""
            connection.request("GET", path, headers={"X-Api-Key": key, **(headers or {})})
            response = connection.getresponse()
            response.body = response.read()
            return response

        jpeg = photo_jpeg(4000, 3000)

        def upload(i: int) -> str:
            response = session.post(base, files={"file": (f"photo{i}.jpg", jpeg, "image/jpeg")}, timeout=120)
            if response.status_code != 201:
                raise SystemExit(f"the upload answered {response.status_code}: {response.text[:300]}")
            return response.json()["id"]

        def rendition(asset_id: str, fmt: str, expect: str, etag: str | None = None) -> tuple[float, bytes]:
            headers = {"If-None-Match": etag} if etag else {}
            query = urlencode({"w": SIDE, "h": SIDE, "format": fmt})
            started = time.perf_counter()
            response = get(f"/api/v1/assets/{asset_id}/content/original?{query}", headers)
            elapsed = time.perf_counter() - started
            if etag:
                if response.status != 304:
                    raise SystemExit(f"expected a 304, got {response.status}")
                return elapsed, b""
            if response.status != 200 or response.getheader("X-Rendition") != expect:
                raise SystemExit(f"expected a {expect}, got {response.status} "
                                 f"X-Rendition={response.getheader('X-Rendition')}: {response.body[:300]!r}")
            if response.getheader("Content-Type") != FORMATS[fmt][1]:
                raise SystemExit(f"expected {FORMATS[fmt][1]}, got {response.getheader('Content-Type')}")
            etags[asset_id] = response.getheader("ETag")
            return elapsed, response.body

        def document(asset_id: str) -> float:
            started = time.perf_counter()
            response = get(f"/api/v1/assets/{asset_id}")
            if response.status != 200:
                raise SystemExit(f"GET assets/{{id}} answered {response.status}")
            return time.perf_counter() - started

        etags: dict[str, str] = {}
        # warm both sides (imports, encoders, the server's first request) on an asset not timed
        warm = upload(0)
        for fmt in FORMATS:
            direct(jpeg, fmt)
            rendition(warm, fmt, "miss")
            rendition(warm, fmt, "hit")

        misses: dict[str, list[float]] = {fmt: [] for fmt in FORMATS}
        directs: dict[str, list[float]] = {fmt: [] for fmt in FORMATS}
        hits: list[float] = []
        revalidations: list[float] = []
        documents: list[float] = []
        sizes: dict[str, tuple[int, int]] = {}
        for run in range(1, args.repeat + 1):
            asset_id = upload(run)  # a fresh asset: its renditions do not exist yet
            for fmt in FORMATS:
                started = time.perf_counter()
                theirs = direct(jpeg, fmt)
                directs[fmt].append(time.perf_counter() - started)
                elapsed, ours = rendition(asset_id, fmt, "miss")
                misses[fmt].append(elapsed)
                sizes[fmt] = (len(ours), len(theirs))
                if fmt == "webp":
                    webp = ours
                    for _ in range(args.hits):
                        elapsed, again = rendition(asset_id, fmt, "hit")
                        if again != ours:
                            raise SystemExit("a hit served other bytes than its miss")
                        hits.append(elapsed)
                        revalidations.append(rendition(asset_id, fmt, "hit", etags[asset_id])[0])
                        documents.append(document(asset_id))

        with Image.open(io.BytesIO(webp)) as made:
            shape = f"{made.width}x{made.height}"
        miss, hit, pillow = (statistics.median(misses["webp"]), statistics.median(hits),
                             statistics.median(directs["webp"]))
        print(f"{SIDE}-pixel WebP (q{QUALITY}) rendition of a 4000x3000 JPEG ({len(jpeg):,} bytes) -> {shape}, "
              f"over HTTP (gunicorn, SQLite, local files)")
        print(f"medians of {args.repeat} runs, each miss on a fresh asset; hit: median of {len(hits)} requests\n")
        print(f"  {'':<34} {'time':>9}  {'bytes':>7}")
        print(f"  {'miss (first request, HTTP)':<34} {miss * 1000:>6.1f} ms  {sizes['webp'][0]:>7,}")
        print(f"  {'hit (from storage, HTTP)':<34} {hit * 1000:>6.1f} ms  {sizes['webp'][0]:>7,}")
        print(f"  {'hit revalidated (304, HTTP)':<34} {statistics.median(revalidations) * 1000:>6.1f} ms  {'-':>7}")
        print(f"  {'GET assets/{id} (floor, HTTP)':<34} {statistics.median(documents) * 1000:>6.1f} ms")
        print(f"  {'Pillow thumbnail() + save, direct':<34} {pillow * 1000:>6.1f} ms  {sizes['webp'][1]:>7,}")
        verdict = "met" if miss / hit >= TARGET else "NOT met"
        print(f"\n  hit vs miss: {miss / hit:.1f}x faster (target >= {TARGET:.0f}x: {verdict})")
        print(f"  hit vs direct Pillow: {pillow / hit:.1f}x faster; miss vs direct Pillow: {miss / pillow:.2f}x the time")
        print("\nother formats, the same thumbnail (for information; Pillow direct at its default speed):")
        print(f"  {'format':<6} {'miss, HTTP':>11} {'Pillow direct':>14} {'our bytes':>10} {'Pillow bytes':>13}")
        for fmt in ("avif", "jpeg"):
            print(f"  {fmt:<6} {statistics.median(misses[fmt]) * 1000:>8.1f} ms {statistics.median(directs[fmt]) * 1000:>11.1f} ms "
                  f"{sizes[fmt][0]:>10,} {sizes[fmt][1]:>13,}")
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
