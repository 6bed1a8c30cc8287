"""Edge decontamination: the foreground colour of the soft edge (SPEC §10). No Django.

A pixel of the soft edge (0 < alpha < 255) is a blend I = a*F + (1-a)*B of the subject's
colour F and the background's B. The cut-out keeps I there, so on a new background the
old one shows through as a fringe (green hair from a green wall). `estimate_foreground`
replaces I with an estimate of F at those pixels and leaves every other pixel exactly as
it was (fully opaque ones bit for bit; fully transparent ones too).

Method: approximate fast foreground colour estimation ("blur-fusion"), M. Forte and
F. Pitié, "Approximate Fast Foreground Colour Estimation", ICIP 2021. With box blurs of
size r (blur_r), one pass is

    F' = blur_r(F*a) / blur_r(a)                 local mean of the foreground colours
    B' = blur_r(B*(1-a)) / blur_r(1-a)           local mean of the background colours
    F  = clip(F' + a * (I - a*F' - (1-a)*B'))    F' corrected by the compositing residual

starting from F = B = I, each pass taking the previous one's F and B'. The reference
code runs two passes (r = 90, then 6) at full size. Two changes, both measured below:
- The passes run on the image box-reduced to about WORK_SIDE pixels on its long side
  (4x for 12 megapixels); only the last pass's correction runs at full size, with F' and
  B' (smooth by construction) interpolated bilinearly. This keeps the cost and the
  quality independent of the resolution: our masks are the model's 320-pixel output
  scaled up, so at 12 megapixels the soft edge is 30-50 pixels wide and the reference's
  fixed radii no longer fit it.
- Six passes of r = 90 before the r = 6 one: each pass takes the fringe of F' down
  further (2 passes leave +16 of the +44 below at 1000x750, 4 leave +7, 6 leave +1).
Box blurs are scipy.ndimage.uniform_filter (running sums: the cost does not grow with r);
the full-size step works in bands of 64 rows over the soft edge's bounding box, so no
temporary is large. pymatting's `estimate_foreground_ml` would need numba; this module
never imports it.

Measured on a 12-megapixel photograph (`.venv/bin/python -m
graphics.processing.decontaminate --pymatting`; 2-core machine, busy with other work,
so times are high): bench/photos.py's 4000x3000 astronaut JPEG and the real u2netp mask
of it, its levels stretched (2..252 -> 0..255) so the subject's inside is opaque,
composited over pure green as the shot. Error: mean absolute difference, in the visible
part of the edge (alpha 26..229, 438,145 pixels), between the result composited on white
and the original photograph composited on white (0..255). Fringe: mean of G - (R+B)/2
there (the original photograph's own: -9.0). Peak memory: the rise of the process's
high-water mark.

    method                                          time     peak memory   error   fringe
    none (the shot as is)                             -          -         24.88   +44.0
    blur-fusion as the reference (2 passes, full)   4-6 s     +700 MiB     20.25   +28.8
    blur-fusion, this module                        2.3 s     +133 MiB     13.82    +3.0
    pymatting estimate_foreground_ml                5.6 s    +1176 MiB      8.33    +3.3
      (including its import and cached numba code)

(With the model's own mask, 7.0 million soft pixels as most of the subject is at 254,
this module took 1.7 s.) pymatting reproduces the colours more closely (8.3 against
13.8 of 255: blur-fusion's F' is a local mean, so fine colour detail in the faint edge
is lost) but removes the fringe no better, at over twice the time, nine times the
memory and numba in the worker. The fringe is what the option is for: blur-fusion.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy.ndimage import uniform_filter

WORK_SIDE = 1000  # the estimator runs on the image box-reduced to about this long side
RADII = (90,) * 6 + (6,)  # box sizes of the passes at that size (see above)
EPS = 1e-5
BAND = 64  # full-size rows finished at a time


def estimate_foreground(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """`rgb` with its soft-edge pixels (0 < alpha < 255) recoloured with the estimated
    foreground colour; every other pixel is returned unchanged. A new array."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError("rgb must be an (H, W, 3) uint8 array")
    if alpha.shape != rgb.shape[:2] or alpha.dtype != np.uint8:
        raise ValueError("alpha must be an (H, W) uint8 array of the image's size")
    out = rgb.copy()
    soft = (alpha > 0) & (alpha < 255)
    rows, cols = np.flatnonzero(soft.any(axis=1)), np.flatnonzero(soft.any(axis=0))
    if rows.size == 0:
        return out
    height, width = alpha.shape
    factor = max(1, round(max(height, width) / WORK_SIDE))
    small_rgb, small_alpha = rgb, alpha
    if factor > 1:
        small_rgb = np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).reduce(factor))
        small_alpha = np.asarray(Image.fromarray(np.ascontiguousarray(alpha)).reduce(factor))
    a = small_alpha.astype(np.float32) / 255.0
    one_minus_a = 1.0 - a
    inverse_fg, inverse_bg = {}, {}
    for r in dict.fromkeys(RADII):
        blurred = uniform_filter(a, size=r, mode="reflect")
        inverse_fg[r], inverse_bg[r] = 1.0 / (blurred + EPS), 1.0 / (1.0 - blurred + EPS)
    fields = np.empty(a.shape + (6,), np.float32)  # F' and B' of the last pass, per channel
    for channel in range(3):
        image = small_rgb[:, :, channel].astype(np.float32) / 255.0
        foreground, background = image, image
        for r in RADII:
            blurred_f = uniform_filter(foreground * a, size=r, mode="reflect") * inverse_fg[r]
            blurred_b = uniform_filter(background * one_minus_a, size=r, mode="reflect") * inverse_bg[r]
            # F = F' + a * (I - a*F' - (1-a)*B'), clipped to 0..1
            foreground = np.clip(blurred_f + a * (image - a * blurred_f - one_minus_a * blurred_b), 0.0, 1.0)
            background = blurred_b
        fields[:, :, channel], fields[:, :, 3 + channel] = blurred_f, blurred_b

    # F' and B' are smooth: interpolate them (bilinear) to full size and apply the last
    # pass's correction there, with the full-size colour and alpha. Over the soft edge's
    # bounding box, in bands of rows, so that no temporary is large.
    left, right = int(cols[0]), int(cols[-1]) + 1
    x0, x1, wx = _axis(np.arange(left, right), factor, fields.shape[1])
    wx = wx[None, :, None]
    for top in range(int(rows[0]), int(rows[-1]) + 1, BAND):
        bottom = min(top + BAND, int(rows[-1]) + 1)
        y0, y1, wy = _axis(np.arange(top, bottom), factor, fields.shape[0])
        band = fields[y0]
        band += (fields[y1] - band) * wy[:, None, None]
        local = np.take(band, x0, axis=1)
        local += (np.take(band, x1, axis=1) - local) * wx
        local_f, local_b = local[:, :, :3], local[:, :, 3:]
        block = (slice(top, bottom), slice(left, right))
        edge_a = alpha[block].astype(np.float32)[:, :, None] / np.float32(255)
        colour = rgb[block].astype(np.float32) / np.float32(255)
        # F = F' + a * (I - a*F' - (1-a)*B')
        colour -= edge_a * local_f
        colour -= (1 - edge_a) * local_b
        colour *= edge_a
        colour += local_f
        np.clip(colour, 0, 1, out=colour)
        colour *= 255
        np.copyto(out[block], np.rint(colour).astype(np.uint8), where=soft[block][:, :, None])
    return out


def _axis(full: np.ndarray, factor: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For full-size pixel indices along one axis: the two neighbouring pixels in the image
    reduced by `factor` (of `size` pixels) and the weight of the second, for bilinear
    interpolation between pixel centres."""
    position = (full.astype(np.float32) + 0.5) / np.float32(factor) - 0.5
    np.clip(position, 0, size - 1, out=position)
    low = position.astype(np.intp)  # floor, as position >= 0
    return low, np.minimum(low + 1, size - 1), (position - low).astype(np.float32)


def _measure() -> None:  # pragma: no cover - the measurement in the docstring
    """Time, peak memory and quality of blur-fusion and pymatting on a 12-megapixel photo.

    The shot image and mask are made once; each method then runs in a fresh process, so
    its peak memory (VmHWM) is its own: the increase over the process after loading them.
    """
    import argparse
    import io
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="4000x3000")
    parser.add_argument("--pymatting", action="store_true", help="also run pymatting (a minute, 1.5 GB)")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # internal: METHOD:NPZ
    args = parser.parse_args()
    if args.run:
        method, path = args.run.split(":", 1)
        _measure_one(method, path)
        return

    from PIL import Image

    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "bench"))
    from photos import photo_jpeg  # noqa: E402

    from graphics.processing import background as bg  # noqa: E402

    width, height = (int(v) for v in args.size.split("x"))
    photo = Image.open(io.BytesIO(photo_jpeg(width, height))).convert("RGB")
    mask = bg.mask_for(photo, options=bg.BgRemoveOptions(), model_name="u2netp")
    truth = np.asarray(photo)
    # the model's mask, its levels stretched (2..252 -> 0..255) so the subject's inside is opaque
    alpha = np.clip((np.asarray(mask).astype(np.int32) - 2) * 255 // 250, 0, 255).astype(np.uint8)
    a = alpha[:, :, None].astype(np.float32) / 255.0
    shot = np.rint(truth * a + np.array([0, 255, 0], np.float32) * (1 - a)).astype(np.uint8)
    edge = (alpha > 0) & (alpha < 255)
    visible = (alpha >= VISIBLE[0]) & (alpha <= VISIBLE[1])
    print(
        f"{width}x{height} photograph over pure green: {int(edge.sum()):,} soft-edge pixels, "
        f"{int(visible.sum()):,} of them with alpha {VISIBLE[0]}..{VISIBLE[1]} (where the figures are taken)"
    )
    print(f"{'method':44s} {'time':>7s}  {'peak':>9s}  {'error':>6s}  {'fringe':>6s}")
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "shot.npz")
        np.savez(path, shot=shot, alpha=alpha, truth=truth, mask=np.asarray(mask))
        _measure_one("truth", path)
        _measure_one("none", path)
        methods = ["blur-fusion"] + (["pymatting"] if args.pymatting else [])
        for method in methods:
            subprocess.run(
                [sys.executable, "-m", "graphics.processing.decontaminate", "--run", f"{method}:{path}"],
                check=True, cwd=root,
            )


VISIBLE = (26, 229)  # 10 % .. 90 %: the part of the edge where a fringe shows


def _measure_one(method: str, path: str) -> None:  # pragma: no cover
    import time

    def high_water_mib() -> float:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    arrays = np.load(path)
    shot, alpha, truth = arrays["shot"], arrays["alpha"], arrays["truth"]
    before = high_water_mib()
    seconds = peak = None
    if method == "truth":
        result = truth
    elif method == "none":
        result = shot
    elif method == "blur-fusion":
        start = time.perf_counter()
        result = estimate_foreground(shot, alpha)
        seconds, peak = time.perf_counter() - start, high_water_mib() - before
        start = time.perf_counter()
        estimate_foreground(shot, alpha)
        seconds = min(seconds, time.perf_counter() - start)
        mask = arrays["mask"]
        start = time.perf_counter()
        estimate_foreground(arrays["shot"], mask)
        print(
            f"(blur-fusion with the model's own mask, {int(((mask > 0) & (mask < 255)).sum()):,} soft pixels: "
            f"{time.perf_counter() - start:.1f} s)"
        )
    elif method == "pymatting":
        start = time.perf_counter()
        from pymatting import estimate_foreground_ml  # numba: imported and compiled here

        estimated = estimate_foreground_ml(shot / 255.0, alpha / 255.0)
        seconds, peak = time.perf_counter() - start, high_water_mib() - before
        result = shot.copy()
        edge = (alpha > 0) & (alpha < 255)
        result[edge] = np.rint(np.clip(estimated[edge], 0, 1) * 255.0).astype(np.uint8)
    else:
        raise SystemExit(f"unknown method {method}")
    a = alpha[:, :, None].astype(np.float32) / 255.0
    edge = (alpha >= VISIBLE[0]) & (alpha <= VISIBLE[1])

    def on_white(colours: np.ndarray) -> np.ndarray:
        return (colours.astype(np.float32) * a + 255.0 * (1 - a))[edge]

    composite = on_white(result)
    error = float(np.abs(composite - on_white(truth)).mean())
    fringe = float((composite[:, 1] - (composite[:, 0] + composite[:, 2]) / 2).mean())
    names = {
        "truth": "(the original photograph, for reference)",
        "none": "none (the shot image as is)",
        "blur-fusion": "blur-fusion (this module)",
        "pymatting": "pymatting estimate_foreground_ml (+ import, JIT)",
    }
    timing = f"{seconds:5.1f} s" if seconds is not None else "      -"
    memory = f"+{peak:4.0f} MiB" if peak is not None else "        -"
    print(f"{names[method]:44s} {timing}  {memory}  {error:6.2f}  {fringe:+6.1f}", flush=True)


if __name__ == "__main__":  # pragma: no cover
    _measure()
