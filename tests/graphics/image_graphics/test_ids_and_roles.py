"""Image Graphics' ids and roles: an unknown or another account's id anywhere in a request
is the same 404 naming its JSON path (never a 403) and queues nothing; USER is a 403,
CREATOR and above may queue, no or bad credentials are a 401."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from assets.models import Job, JobStatus, Role
from graphics.image_graphics import JOB_KIND
from tests.conftest import assert_error
from tests.graphics.conftest import snapshot
from tests.graphics.image_graphics.conftest import PLAIN_OPS, URL, body_for, job_url, make_source

pytestmark = pytest.mark.django_db


# --- ids: 404, never 403, nothing queued -----------------------------------------------------


def _bg_add_image(ids):
    return body_for(ids["source"], None, [{"bg_add": {"options": {"image_id": ids["target"]}}}])


def _border_image(ids):
    return body_for(ids["source"], None, [{"border_add": {"options": {"image_id": ids["target"]}}}])


def _graphic_image(ids):
    return body_for(ids["source"], None, [*PLAIN_OPS, {"graphics_add": {"graphics": [
        {"type": "image", "options": {"image_id": ids["other"]}},
        {"type": "image", "options": {"image_id": ids["target"]}},
    ]}}])


def _asset_itself(ids):
    return {"assets": [{ids["source"]: {}}, {ids["target"]: {}}], "operations": PLAIN_OPS}


def _src_asset(ids):
    return body_for(ids["source"], {"disposition": {"metadata": {"inherit": True, "src_asset_id": ids["target"]}}})


ID_CASES = [
    ("asset", _asset_itself, "assets[1]"),
    ("bg_add_image_id", _bg_add_image, "operations[0].bg_add.options.image_id"),
    ("border_add_image_id", _border_image, "operations[0].border_add.options.image_id"),
    ("graphics_add_image_id", _graphic_image, "operations[1].graphics_add.graphics[1].options.image_id"),
    ("metadata_src_asset_id", _src_asset, "assets[0].options.disposition.metadata.src_asset_id"),
]


@pytest.mark.parametrize("whose", ["unknown", "another_account"])
@pytest.mark.parametrize("make_body, field", [c[1:] for c in ID_CASES], ids=[c[0] for c in ID_CASES])
def test_unknown_or_foreign_id_is_404_naming_its_path_and_queues_nothing(
    creator, source, other, foreign, media_root, make_body, field, whose
):
    target = "0123456789abcdef0123456789abcdef" if whose == "unknown" else foreign.id
    before = snapshot(media_root)
    response = creator.post(URL, make_body({"source": source.id, "other": other.id, "target": target}), format="json")
    body = assert_error(response, 404, field=field)
    assert target in body["message"]
    assert "globex" not in response.content.decode() and "secret" not in response.content.decode()
    assert snapshot(media_root) == before


def test_foreign_and_unknown_ids_get_the_same_answer(creator, source, foreign):
    unknown = "0123456789abcdef0123456789abcdef"
    answers = []
    for target in (unknown, foreign.id):
        body = assert_error(creator.post(URL, _bg_add_image({"source": source.id, "target": target}), format="json"), 404)
        answers.append((body["code"], body["message"].replace(target, "<id>"), {k: [m.replace(target, "<id>") for m in v] for k, v in body["errors"].items()}))
    assert answers[0] == answers[1]


# --- roles -----------------------------------------------------------------------------------


def test_user_role_is_403_and_queues_nothing(client_for, media_root):
    user = client_for(Role.USER)
    asset = make_source(user)
    before = snapshot(media_root)
    body = assert_error(user.post(URL, body_for(asset.id), format="json"), 403, code="permission_denied")
    assert "USER" in body["message"] and "CREATOR" in body["message"]
    assert "image graphics" in body["message"] and "mode=" not in body["message"]
    assert snapshot(media_root) == before


@pytest.mark.parametrize("role", [Role.CREATOR, Role.MANAGER, Role.ADMIN])
def test_creator_and_above_are_202(client_for, role):
    client = client_for(role)
    asset = make_source(client)
    response = client.post(URL, body_for(asset.id), format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(id=response.json()["job_id"])
    assert (job.user, job.status, job.kind) == (client.user, JobStatus.QUEUED, JOB_KIND)


@pytest.mark.parametrize("credentials", [None, "not-a-real-key"], ids=["none", "bad_key"])
def test_no_or_bad_credentials_is_401_and_queues_nothing(source, media_root, credentials):
    client = APIClient()
    if credentials:
        client.credentials(HTTP_X_API_KEY=credentials)
    before = snapshot(media_root)
    assert_error(client.post(URL, body_for(source.id), format="json"), 401)
    assert snapshot(media_root) == before
    job = Job.objects.create(account=source.account, kind=JOB_KIND, request={})
    assert_error(client.get(job_url(job.id)), 401)
