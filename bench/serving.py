"""Benchmark: serving, this service against `rembg s`, in one run.

Starts this service as the run command does (gunicorn with the project's config, and
`manage.py qcluster`) on a private SQLite database and media folder, and `rembg s --no-ui`
(same u2netp model), then prints:

1. single-client latency of `get_image` for 512x512, 1600x1200 and 4000x3000 JPEGs against
   `rembg.remove(bytes)` in this process and `rembg s` over HTTP (medians), and
   `get_image_and_save` against `get_image` on the 4000x3000 one;
2. throughput with 4 concurrent clients on the 1600x1200 JPEG, both servers;
3. the resident memory (RSS) of every process of each server, sampled during N mixed
   requests from 4 clients (sizes 512 to 4000x3000; for this service also saves, whose
   worker never loads a model): a series every N/10 requests, each process's maximum, the
   web workers' growth from request N/5 to N, and the stack's total at its peak.

    .venv/bin/python bench/serving.py [--requests 1000] [--repeat 5] [--no-rembg-series]

Absolute times on a shared machine are noisy; the ratios, measured in one run, are the
figures to compare.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from bg_remove import ROOT, api_key, bench_env, start_server  # the same server start
from photos import photo_jpeg

SIZES = [(512, 512), (1600, 1200), (4000, 3000)]
MIX = [((512, 512), 60), ((1600, 1200), 32), ((4000, 3000), 8)]  # % of requests per size


class Counter:
    """Requests done so far: clients add, the sampler reads."""

    def __init__(self) -> None:
        self.value, self._lock = 0, threading.Lock()

    def add(self) -> None:
        with self._lock:
            self.value += 1


def rss_mib(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def pss_mib(pid: int) -> float:
    """Proportional set size: shared pages (forked workers share most of theirs) counted once."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree(root: int) -> list[int]:
    """The process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


class Sampler(threading.Thread):
    """Samples the RSS of every process of the given trees twice a second, with the
    number of requests done so far."""

    def __init__(self, roots: dict[str, int], done: Counter):
        super().__init__(daemon=True)
        self.roots, self.done, self.stop = roots, done, threading.Event()
        self.samples: list[tuple[int, dict[str, float]]] = []
        self.pss_totals: list[float] = []

    def take(self) -> None:
        pids = {f"{name}:{pid}": pid for name, root in self.roots.items() for pid in tree(root)}
        self.samples.append((self.done.value, {name: rss_mib(pid) for name, pid in pids.items()}))
        self.pss_totals.append(sum(pss_mib(pid) for pid in pids.values()))

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self.take()

    def finish(self) -> None:
        """Stop sampling, then take one sample once the server has been idle for 3 s."""
        self.stop.set()
        self.join()
        time.sleep(3)
        self.take()

    def report(self, label: str, total: int, web_prefix: str) -> None:
        print(f"\nRSS of {label} (MiB) during {total} mixed requests")
        names = sorted({name for _, sample in self.samples for name in sample})
        print("  requests  " + "  ".join(f"{n.split(':')[0][:12]:>12}" for n in names) + "       total")
        step = max(1, total // 10)
        shown = 0
        for done, sample in self.samples[:-1]:
            if done >= shown or sample is self.samples[-2][1]:
                print(f"  {done:>8}  " + "  ".join(f"{sample.get(n, 0):>12.0f}" for n in names) + f"  {sum(sample.values()):>10.0f}")
                shown = done + step
        peaks = {n: max(s.get(n, 0) for _, s in self.samples) for n in names}
        print("  max       " + "  ".join(f"{peaks[n]:>12.0f}" for n in names) + f"  {max(sum(s.values()) for _, s in self.samples):>10.0f} (RSS summed)")
        print(f"  the stack's peak, shared pages counted once (PSS): {max(self.pss_totals):.0f} MiB; idle after the run: "
              f"{self.pss_totals[-1]:.0f} MiB")
        idle = self.samples[-1][1]
        print("  each process idle after the run (RSS): " + ", ".join(f"{n} {idle[n]:.0f}" for n in names if n in idle))
        for name in names:
            if name.startswith(web_prefix):
                at = lambda k: next((s[name] for d, s in self.samples if d >= k and name in s), 0)  # noqa: E731
                early, last = at(total // 5), self.samples[-2][1].get(name, 0)
                if early:
                    print(f"  {name}: {early:.0f} MiB at request {total // 5}, {last:.0f} at the end: growth {100 * (last - early) / early:+.1f} %")


def load(send, jpegs: dict[tuple[int, int], bytes], total: int, done: Counter, clients: int = 4) -> float:
    """`total` requests from `clients` threads, sizes drawn from MIX with a fixed seed."""
    rng = random.Random(7)
    mix = [(size, weight) for size, weight in MIX if size in jpegs]
    sizes = rng.choices([s for s, _ in mix], weights=[w for _, w in mix], k=total)
    jobs = iter(enumerate(sizes))
    lock, errors = threading.Lock(), []

    def client() -> None:
        http = requests.Session()
        while True:
            with lock:
                job = next(jobs, None)
            if job is None or errors:
                return
            try:
                send(http, job[0], jpegs[job[1]])
                done.add()
            except BaseException as exc:  # reported below
                errors.append(exc)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"a client failed: {errors[0]!r}")
    return time.perf_counter() - started


def cpu_seconds(root: int) -> float:
    """User + system CPU time of a process tree so far (live processes only)."""
    total = 0
    for pid in tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


def throughput(ours, theirs, jpeg: bytes, count: int, pids: dict[str, int], rounds: int = 2) -> None:
    """4-client throughput of both servers on one JPEG, in alternating rounds (so that a
    busier minute of the machine weighs on both), with each server's CPU per image."""
    seconds = {"ours": 0.0, "rembg s": 0.0}
    cpu = {"ours": 0.0, "rembg s": 0.0}
    per_round = max(4, count // rounds)
    for _ in range(rounds):
        for name, send in (("ours", ours), ("rembg s", theirs)):
            before = cpu_seconds(pids[name])
            seconds[name] += load(send, {(1600, 1200): jpeg}, per_round, Counter())
            cpu[name] += cpu_seconds(pids[name]) - before
    total = per_round * rounds
    rate = {name: total / value for name, value in seconds.items()}
    print(f"\nthroughput, 4 clients, 1600x1200 ({total} requests each, {rounds} alternating rounds): "
          f"ours {rate['ours']:.2f} images/s, rembg s {rate['rembg s']:.2f} images/s: {rate['ours'] / rate['rembg s']:.2f}x")
    print("  server CPU per image: " + ", ".join(f"{name} {cpu[name] / total:.3f} core-s" for name in cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--port", type=int, default=8930)
    parser.add_argument("--rembg-port", type=int, default=8931)
    parser.add_argument("--parts", default="latency,save,throughput,memory",
                        help="comma-separated parts to run: latency, save, throughput, memory")
    parser.add_argument("--no-rembg-series", action="store_true",
                        help="skip rembg s's memory series (its latency and throughput are still measured)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))

    workdir, env = bench_env("bench-serving-")
    python = sys.executable
    web = start_server(args.port, env)
    worker = subprocess.Popen([python, "manage.py", "qcluster"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    theirs = subprocess.Popen([str(Path(python).parent / "rembg"), "s", "--no-ui", "-h", "127.0.0.1", "-p", str(args.rembg_port)],
                              cwd=workdir, env={**os.environ, "U2NET_HOME": os.path.expanduser(os.environ.get("U2NET_HOME", "~/.u2net"))},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        key = api_key(env, "CREATOR")
        headers = {"X-Api-Key": key}
        base = f"http://127.0.0.1:{args.port}/api/v1/assets/file/addons/bg_remove"
        rembg_url = f"http://127.0.0.1:{args.rembg_port}/api/remove"
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(f"http://127.0.0.1:{args.rembg_port}/api", timeout=5)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise SystemExit("rembg s did not start") from None
                time.sleep(0.5)

        def ours(http, mode="get_image", jpeg=b"", i=0):
            query = {"mode": mode}
            if mode != "get_image":
                query.update(disposition="add_new_asset")
            r = http.post(base, params=query, headers=headers, files={"image": (f"p{i}.jpg", jpeg, "image/jpeg")}, timeout=300)
            r.raise_for_status()
            return r.content

        def rembg_s(http, jpeg):
            r = http.post(rembg_url, files={"file": ("p.jpg", jpeg, "image/jpeg")}, data={"model": "u2netp"}, timeout=300)
            r.raise_for_status()
            return r.content

        import rembg

        session = rembg.new_session("u2netp")
        jpegs = {size: photo_jpeg(*size) for size in SIZES}
        http = requests.Session()
        print(f"{'image':>11} | {'rembg.remove':>12} | {'rembg s':>8} | {'ours':>8} | {'ours/remove':>11} | {'ours/rembg s':>12}")
        for size in SIZES if "latency" in parts else ():
            jpeg = jpegs[size]
            rembg.remove(jpeg, session=session), rembg_s(http, jpeg), ours(http, jpeg=jpeg)  # warm all three
            times = {"remove": [], "s": [], "ours": []}
            for _ in range(args.repeat):
                for name, call in (("remove", lambda: rembg.remove(jpeg, session=session)),
                                   ("s", lambda: rembg_s(http, jpeg)), ("ours", lambda: ours(http, jpeg=jpeg))):
                    started = time.perf_counter()
                    call()
                    times[name].append(time.perf_counter() - started)
            m = {k: statistics.median(v) for k, v in times.items()}
            print(f"{size[0]:>5}x{size[1]:<5} | {m['remove']:>10.3f} s | {m['s']:>6.3f} s | {m['ours']:>6.3f} s | "
                  f"{m['ours'] / m['remove']:>11.2f} | {m['ours'] / m['s']:>12.2f}")
        jpeg = jpegs[(4000, 3000)]
        get, save = [], []
        for i in range(args.repeat if "save" in parts else 0):
            for mode, out in (("get_image", get), ("get_image_and_save", save)):
                started = time.perf_counter()
                ours(http, mode, jpeg, i)
                out.append(time.perf_counter() - started)
        if "save" in parts:
            print(f"\n4000x3000 get_image_and_save {statistics.median(save):.3f} s vs get_image {statistics.median(get):.3f} s: "
                  f"{statistics.median(save) / statistics.median(get):.2f}x")

        if "throughput" in parts:
            throughput(lambda h, i, j: ours(h, jpeg=j, i=i), lambda h, i, j: rembg_s(h, j),
                       jpegs[(1600, 1200)], 8 * args.repeat, {"ours": web.pid, "rembg s": theirs.pid})
        if "memory" not in parts:
            return

        done = Counter()
        sampler = Sampler({"gunicorn": web.pid, "qcluster": worker.pid}, done)
        sampler.start()
        modes = ["get_image"] * 4 + ["get_image_and_save"]
        seconds = load(lambda h, i, j: ours(h, modes[i % len(modes)], j, i), jpegs, args.requests, done)
        sampler.finish()
        print(f"\n{args.requests} mixed requests to this service in {seconds:.0f} s")
        sampler.report("this service (gunicorn master and workers, qcluster processes)", args.requests, "gunicorn:")
        if args.no_rembg_series:
            return
        done = Counter()
        sampler = Sampler({"rembg-s": theirs.pid}, done)
        sampler.start()
        seconds = load(lambda h, i, j: rembg_s(h, j), jpegs, args.requests, done)
        sampler.finish()
        print(f"\n{args.requests} mixed requests to rembg s in {seconds:.0f} s")
        sampler.report("rembg s", args.requests, "rembg-s:")
    finally:
        for process in (web, worker, theirs):
            try:
                os.killpg(process.pid, signal.SIGTERM) if process is not web else process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                process.kill()


if __name__ == "__main__":
    main()
