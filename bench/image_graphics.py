"""Benchmark: the Image Graphics pipeline against the same steps written directly.

A four-operation request (bg_remove, bg_add with a colour, border_add, graphics_add) on
a 1600x1200 photograph, rendered and PNG-encoded by graphics.processing (as the worker
does), against the same steps written by hand with Pillow and rembg, in one run. Both
call the same u2netp session; the time spent inside the model (onnxruntime's `run`) is
measured on both sides and taken out, so the ratio compares everything but the model:

    overhead ratio = (pipeline total - its model time) / (direct total - its model time)

    .venv/bin/python bench/image_graphics.py [--repeat N]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from PIL import Image

from photos import photo_jpeg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assets_project.settings")

ID_PHOTO, ID_BORDER, ID_LOGO = "a" * 32, "b" * 32, "c" * 32
REQUEST = {
    "assets": [{ID_PHOTO: {"options": {}}}],
    "operations": [
        {"bg_remove": {"options": {}}},
        {"bg_add": {"options": {"color": "#f0f0f0"}}},
        {"border_add": {"options": {"image_id": ID_BORDER}}},
        {"graphics_add": {"graphics": [{"type": "image", "options": {
            "image_id": ID_LOGO, "size": {"width": 200, "height": 200}, "position": {"x": 40, "y": 40}}}]}},
    ],
}


def border_image() -> Image.Image:
    frame = Image.new("RGBA", (400, 300), (20, 40, 200, 255))
    frame.paste((0, 0, 0, 0), (20, 20, 380, 280))
    return frame


def logo_image() -> Image.Image:
    from skimage import data

    return Image.fromarray(data.coffee()).convert("RGBA")


class TimedInference:
    """Stands in for a session's onnxruntime InferenceSession and adds up the time spent
    in `run`: the model itself, on both sides, with every resize left outside."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.seconds = 0.0

    def run(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.inner.run(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started

    def __getattr__(self, name):
        return getattr(self.inner, name)


def ours(jpeg: bytes, session, images: dict, steps: dict) -> bytes:
    from django.conf import settings

    from graphics.processing import background
    from graphics.processing.images import decode, png_encode
    from graphics.processing.pipeline import Renderers, parse_request, render

    started = time.perf_counter()
    request = parse_request(REQUEST)
    original = decode(jpeg, max_pixels=settings.ASSETS_MAX_PIXELS)
    steps["decode"].append(time.perf_counter() - started)
    renderers = Renderers(
        image_by_id=images.__getitem__,
        image_by_url=images.__getitem__,
        mask=lambda image, options: background.mask_for(image, options=options, model_name="u2netp"),
    )
    collected: dict[str, float] = {}
    image = render(original, request.assets[0], request, renderers, on_step=lambda name, s: collected.__setitem__(name, s))
    for name, seconds in collected.items():
        steps[name].append(seconds)
    started = time.perf_counter()
    png = png_encode(image, level=settings.BG_REMOVE_PNG_LEVEL)
    steps["encode"].append(time.perf_counter() - started)
    return png


def direct(jpeg: bytes, session, images: dict, steps: dict) -> bytes:
    """The same four steps as one would write them with Pillow and rembg."""
    import rembg

    started = time.perf_counter()
    image = Image.open(io.BytesIO(jpeg)).convert("RGBA")
    steps["decode"].append(time.perf_counter() - started)
    started = time.perf_counter()
    mask = rembg.remove(image, session=session, only_mask=True)
    image.putalpha(mask)
    steps["bg_remove"].append(time.perf_counter() - started)
    started = time.perf_counter()
    stage = Image.new("RGBA", image.size, (240, 240, 240, 255))
    stage.alpha_composite(image)
    steps["bg_add"].append(time.perf_counter() - started)
    started = time.perf_counter()
    stage.alpha_composite(images[ID_BORDER].resize(stage.size, Image.Resampling.LANCZOS))
    steps["border_add"].append(time.perf_counter() - started)
    started = time.perf_counter()
    stage.alpha_composite(images[ID_LOGO].resize((200, 200), Image.Resampling.LANCZOS), dest=(40, 40))
    steps["graphics_add"].append(time.perf_counter() - started)
    started = time.perf_counter()
    buffer = io.BytesIO()
    stage.save(buffer, "PNG")
    steps["encode"].append(time.perf_counter() - started)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    import django

    django.setup()
    import rembg

    from graphics.processing import background

    session = rembg.new_session("u2netp")
    timed = TimedInference(session.inner_session)
    session.inner_session = timed
    background._sessions["u2netp"] = session  # the pipeline uses the same, timed, session
    jpeg = photo_jpeg(1600, 1200)
    images = {ID_BORDER: border_image(), ID_LOGO: logo_image()}
    ours(jpeg, session, images, defaultdict(list))
    direct(jpeg, session, images, defaultdict(list))

    totals: dict[str, list[float]] = {"ours": [], "direct": []}
    models: dict[str, list[float]] = {"ours": [], "direct": []}
    steps: dict[str, dict[str, list[float]]] = {"ours": defaultdict(list), "direct": defaultdict(list)}
    for _ in range(args.repeat):
        for label, run in (("ours", ours), ("direct", direct)):
            timed.seconds = 0.0
            started = time.perf_counter()
            run(jpeg, session, images, steps[label])
            totals[label].append(time.perf_counter() - started)
            models[label].append(timed.seconds)

    print(f"four operations on a 1600x1200 JPEG, medians of {args.repeat}\n")
    print(f"{'step':<14} {'pipeline':>10} {'direct':>10}")
    for name in ("decode", "crop_size", "bg_remove", "bg_add", "border_add", "graphics_add", "encode"):
        a = statistics.median(steps["ours"][name]) if steps["ours"][name] else 0.0
        b = statistics.median(steps["direct"][name]) if steps["direct"][name] else 0.0
        print(f"{name:<14} {a:>8.3f} s {b:>8.3f} s")
    t_ours, t_direct = statistics.median(totals["ours"]), statistics.median(totals["direct"])
    m_ours, m_direct = statistics.median(models["ours"]), statistics.median(models["direct"])
    print(f"{'total':<14} {t_ours:>8.3f} s {t_direct:>8.3f} s")
    print(f"{'in the model':<14} {m_ours:>8.3f} s {m_direct:>8.3f} s")
    ratio = (t_ours - m_ours) / (t_direct - m_direct)
    print(f"\noverhead ratio (everything but the model): {ratio:.2f}  (target < 1.2)")
    e_ours, e_direct = statistics.median(steps["ours"]["encode"]), statistics.median(steps["direct"]["encode"])
    ratio_no_png = (t_ours - m_ours - e_ours) / (t_direct - m_direct - e_direct)
    print(f"the same without PNG encoding (Pillow's default level 6 on the direct side): {ratio_no_png:.2f}")


if __name__ == "__main__":
    main()
