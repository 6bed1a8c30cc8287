"""Which model each bg_mode runs, GET models, and the upload page's choices (SPEC §6, §13).

Each test has its own U2NET_HOME holding links to the real installed model files (u2netp,
and isnet-general-use-fp16 for the `isnet` tests), so what is "installed" is decided per
test; the models that run are the real ones. The suite's default mapping (every mode on
u2netp, tests/conftest.py) is replaced here by the settings under test.
"""

from __future__ import annotations

import hashlib
import io
import logging
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from assets.models import Role
from core.model_catalogue import ISNET_FP16
from graphics.processing import background
from tests.conftest import assert_error
from tests.images import jpeg_bytes

ISNET = ISNET_FP16.name
UNSET = {"auto": None, "portrait": None, "product": None}
UPLOAD_URL = "/api/v1/assets/file/addons/bg_remove"
PHOTO = jpeg_bytes("astronaut", (256, 256))
INSTALLED = Path(django_settings.U2NET_HOME)  # the configured model folder, before any test changes it


@pytest.fixture
def home(settings, tmp_path, monkeypatch):
    """install(name): link the real model file into this test's U2NET_HOME."""
    folder = tmp_path / "u2net"
    folder.mkdir()
    settings.U2NET_HOME = folder
    monkeypatch.setenv("U2NET_HOME", str(folder))

    def install(*names: str) -> Path:
        for name in names:
            (folder / f"{name}.onnx").symlink_to(INSTALLED / f"{name}.onnx")
        return folder

    install("u2netp")
    return install


def remove_background(client: APIClient, **query: str):
    url = UPLOAD_URL + "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return client.post(url, {"image": SimpleUploadedFile("photo.jpg", PHOTO)}, format="multipart")


def alpha_of(response) -> np.ndarray:
    assert response.status_code == 200, response.content[:300]
    return np.asarray(Image.open(io.BytesIO(response.content)).getchannel("A"))


def direct_alpha(model: str) -> np.ndarray:
    """The same cut-out made by the processing layer directly with `model`."""
    image = Image.open(io.BytesIO(PHOTO)).convert("RGB")
    cut = background.remove_background(image, options=background.BgRemoveOptions(), models={"auto": model})
    return np.asarray(cut.image.getchannel("A"))


# --- bg_mode -> model -------------------------------------------------------------------------------


@pytest.mark.isnet
def test_product_and_portrait_run_isnet_once_it_is_installed(settings, home, creator, isnet_model):
    home(ISNET)
    settings.BG_REMOVE_MODELS = dict(UNSET)
    expected = direct_alpha(ISNET)
    for mode in ("product", "portrait"):
        response = remove_background(creator, bg_mode=mode)
        assert response["X-Model"] == ISNET
        assert np.array_equal(alpha_of(response), expected)
    auto = remove_background(creator, bg_mode="auto")
    assert auto["X-Model"] == "u2netp"
    assert not np.array_equal(alpha_of(auto), expected)


@pytest.mark.isnet
def test_settings_keep_product_on_u2netp_even_with_isnet_installed(settings, home, creator, isnet_model):
    home(ISNET)
    settings.BG_REMOVE_MODELS = {**UNSET, "product": "u2netp"}
    assert remove_background(creator, bg_mode="product")["X-Model"] == "u2netp"
    assert remove_background(creator, bg_mode="portrait")["X-Model"] == ISNET


def test_without_isnet_every_mode_runs_the_default_and_nothing_is_logged(settings, home, creator, caplog):
    settings.BG_REMOVE_MODELS = dict(UNSET)
    expected = direct_alpha("u2netp")
    with caplog.at_level(logging.WARNING, logger="graphics.model_choice"):
        for mode in ("auto", "portrait", "product"):
            response = remove_background(creator, bg_mode=mode)
            assert response["X-Model"] == "u2netp"
            assert np.array_equal(alpha_of(response), expected)
    assert caplog.records == []


def test_a_mode_set_to_a_missing_model_falls_back_to_the_default_with_a_warning(settings, home, creator, caplog):
    settings.BG_REMOVE_MODELS = {**UNSET, "product": ISNET}
    with caplog.at_level(logging.WARNING, logger="graphics.model_choice"):
        first = remove_background(creator, bg_mode="product")
        second = remove_background(creator, bg_mode="product")
    for response in (first, second):
        assert response["X-Model"] == "u2netp"
        assert np.array_equal(alpha_of(response), direct_alpha("u2netp"))
    [record] = caplog.records  # once per process, not on every request
    assert record.levelno == logging.WARNING
    assert record.getMessage() == (
        f"bg_mode product is set to run {ISNET}, which is not installed; running u2netp instead "
        f"(install it with `manage.py install_model {ISNET}`)"
    )


def test_a_custom_model_installed_with_file_runs_when_a_mode_names_it(settings, home, creator):
    folder = home()
    call_command("install_model", "--file", str(folder / "u2netp.onnx"), "--name", "shop-u2net", stdout=StringIO())
    settings.BG_REMOVE_MODELS = {**UNSET, "portrait": "shop-u2net"}
    response = remove_background(creator, bg_mode="portrait")
    assert response["X-Model"] == "shop-u2net"
    assert np.array_equal(alpha_of(response), direct_alpha("u2netp"))  # the same weights, u2net's pipeline


# --- GET models -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.USER, Role.CREATOR, Role.MANAGER, Role.ADMIN])
def test_every_role_lists_the_installed_models_and_the_mapping(settings, home, client_for, role):
    folder = home()
    settings.BG_REMOVE_MODELS = dict(UNSET)
    response = client_for(role).get("/api/v1/models")
    assert response.status_code == 200, response.content
    u2netp = (folder / "u2netp.onnx").read_bytes()
    assert response.json() == {
        "default_model": "u2netp",
        "bg_modes": {"auto": "u2netp", "portrait": "u2netp", "product": "u2netp"},
        "models": [
            {
                "name": "u2netp",
                "file": "u2netp.onnx",
                "size": len(u2netp),
                "checksum": hashlib.sha256(u2netp).hexdigest(),
                "input_size": [320, 320],
                "bg_modes": ["auto", "portrait", "product"],
                "typical_seconds": 0.24,
            }
        ],
    }


@pytest.mark.isnet
def test_models_shows_isnet_with_its_size_checksum_and_modes(settings, home, creator, isnet_model):
    home(ISNET)
    settings.BG_REMOVE_MODELS = dict(UNSET)
    body = creator.get("/api/v1/models").json()
    assert body["bg_modes"] == {"auto": "u2netp", "portrait": ISNET, "product": ISNET}
    assert [model["name"] for model in body["models"]] == [ISNET, "u2netp"]
    entry = body["models"][0]
    assert entry == {
        "name": ISNET, "file": f"{ISNET}.onnx", "size": ISNET_FP16.size, "checksum": ISNET_FP16.sha256,
        "input_size": [1024, 1024], "bg_modes": ["portrait", "product"], "typical_seconds": 1.4,
    }


def test_models_needs_credentials(home):
    assert_error(APIClient().get("/api/v1/models"), 401)


# --- the upload page --------------------------------------------------------------------------------


def test_the_upload_page_names_the_model_each_mode_runs_and_its_time(settings, home, make_user):
    settings.BG_REMOVE_MODELS = {**UNSET, "product": "shop-u2net"}  # not installed: the default runs
    user, _ = make_user(Role.USER)
    client = Client()
    assert client.login(username=user.username, password="pw-123456")
    html = client.get("/upload/").content.decode()
    assert '<option value="auto" selected>auto — u2netp, about 0.24 s</option>' in html
    assert '<option value="portrait">portrait — u2netp, about 0.24 s</option>' in html
    assert '<option value="product">product — u2netp, about 0.24 s</option>' in html
