"""What the web pages need from the assets API, as any client gets it: PATCH assets/{id}
renames an asset; POST assets takes the asset an upload was made from (`source_asset_id`);
GET assets sorts (`ordering`); a job document says how many of its items are done
(`progress`). Roles, accounts and credentials of PATCH are in the permission matrix
(tests/assets/permission_matrix.py, "rename")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from assets.models import Asset, Job, JobStatus, Role
from tests.assets.conftest import API, ASSETS_URL, file_of, ids, upload
from tests.conftest import assert_error, make_asset, stored_files
from tests.images import jpeg_bytes, png_bytes

pytestmark = pytest.mark.django_db


# --- PATCH assets/{id}: rename -------------------------------------------------------------------


def test_rename_changes_the_name_and_update_time_and_keeps_the_file(client, owner, media_root):
    body = jpeg_bytes("rocket", (64, 43))
    asset = make_asset(owner, "rocket.jpg", body)
    before = Asset.objects.get(pk=asset.pk)

    response = client.patch(f"{ASSETS_URL}/{asset.id}", {"name": "  Launch day.jpg \u3000"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Launch day.jpg"  # surrounding whitespace dropped
    row = Asset.objects.get(pk=asset.pk)
    assert row.name == "Launch day.jpg" and row.update_time > before.update_time
    assert (row.file.name, row.checksum) == (before.file.name, before.checksum)
    assert file_of(media_root, row).read_bytes() == body
    # the download offers the new name
    download = client.get(f"{ASSETS_URL}/{asset.id}/content/original")
    assert 'filename="Launch day.jpg"' in download["Content-Disposition"]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "name", "is required"),
        ({"name": ""}, "name", "is required"),
        ({"name": " \t\u3000"}, "name", "is required"),
        ({"name": 12}, "name", "is required"),
        ({"name": "x" * 256}, "name", "at most 255 characters, got 256"),
        ({"name": "two\nlines.jpg"}, "name", "control characters"),
        ({"name": "ok.jpg", "data": {}}, "data", "send name"),
    ],
)
def test_a_bad_rename_is_400_naming_the_field_and_changes_nothing(client, owner, body, field, words):
    asset = make_asset(owner, "rocket.jpg")
    before = Asset.objects.get(pk=asset.pk)
    response = client.patch(f"{ASSETS_URL}/{asset.id}", body, format="json")
    error = assert_error(response, 400, field=field)
    assert words in error["errors"][field][0]
    after = Asset.objects.get(pk=asset.pk)
    assert (after.name, after.update_time) == (before.name, before.update_time)


def test_rename_of_a_missing_asset_is_404_before_the_body_is_read(client):
    assert_error(client.patch(f"{ASSETS_URL}/{'0' * 32}", {"nonsense": 1}, format="json"), 404, code="asset_not_found")


def test_a_longest_name_is_kept_whole(client, owner):
    asset = make_asset(owner, "rocket.jpg")
    name = "é" * 251 + ".jpg"
    response = client.patch(f"{ASSETS_URL}/{asset.id}", {"name": name}, format="json")
    assert response.status_code == 200, response.content
    assert Asset.objects.get(pk=asset.pk).name == name


# --- POST assets: source_asset_id ------------------------------------------------------------------


def test_an_upload_records_the_asset_it_was_made_from(client, owner):
    source = make_asset(owner, "chelsea.jpg", jpeg_bytes("chelsea", (90, 60)))
    response = upload(client, "chelsea_cutout.png", png_bytes("chelsea", (90, 60)), source_asset_id=source.id)
    assert response.status_code == 201, response.content
    assert response.json()["source_asset_id"] == source.id
    assert client.get(f"{ASSETS_URL}/{source.id}/lineage").json()["descendants"] == [response.json()["id"]]


def test_an_unknown_or_foreign_source_is_404_naming_it_and_stores_nothing(client, client_for, media_root):
    foreign = make_asset(client_for(Role.ADMIN, account="globex").user, "theirs.jpg")
    before = stored_files(media_root)
    for source in ("0" * 32, foreign.id):
        body = assert_error(upload(client, "a.jpg", jpeg_bytes(), source_asset_id=source), 404, code="asset_not_found")
        assert list(body["errors"]) == ["source_asset_id"]
    assert Asset.objects.filter(account=client.user.membership.account).count() == 0
    assert stored_files(media_root) == before


def test_a_malformed_source_is_400_naming_it(client, media_root):
    assert_error(upload(client, "a.jpg", jpeg_bytes(), source_asset_id="ABC"), 400, field="source_asset_id")
    assert stored_files(media_root) == []


# --- GET assets?ordering= ------------------------------------------------------------------------


@pytest.fixture
def three(owner):
    now = timezone.now()
    return {
        "banana": make_asset(owner, "banana.jpg", jpeg_bytes("coffee", (120, 80)), upload_time=now - timedelta(minutes=3)),
        "Apple": make_asset(owner, "Apple.jpg", jpeg_bytes("chelsea", (40, 30)), upload_time=now - timedelta(minutes=1)),
        "cherry": make_asset(owner, "cherry.jpg", jpeg_bytes("rocket", (300, 200)), upload_time=now - timedelta(minutes=2)),
    }


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (None, ["Apple", "cherry", "banana"]),
        ("-upload_time", ["Apple", "cherry", "banana"]),
        ("upload_time", ["banana", "cherry", "Apple"]),
        ("name", ["Apple", "banana", "cherry"]),  # without regard to case
        ("-name", ["cherry", "banana", "Apple"]),
    ],
)
def test_list_orderings(client, three, ordering, expected):
    response = client.get(ASSETS_URL, {"ordering": ordering} if ordering else {})
    assert response.status_code == 200, response.content
    assert ids(response) == [three[name].id for name in expected]


def test_list_by_size_follows_the_stored_sizes(client, three):
    sizes = {name: asset.size for name, asset in three.items()}
    largest_first = sorted(three, key=lambda name: -sizes[name])
    assert len(set(sizes.values())) == 3
    assert ids(client.get(ASSETS_URL, {"ordering": "-size"})) == [three[n].id for n in largest_first]
    assert ids(client.get(ASSETS_URL, {"ordering": "size"})) == [three[n].id for n in reversed(largest_first)]


def test_pages_of_an_ordering_do_not_overlap(client, owner):
    same_time = timezone.now()
    made = [make_asset(owner, "same.jpg", upload_time=same_time) for _ in range(5)]
    seen = []
    for page in (1, 2, 3):
        seen += ids(client.get(ASSETS_URL, {"ordering": "name", "page_size": 2, "page": page}))
    assert sorted(seen) == sorted(a.id for a in made)


@pytest.mark.parametrize("ordering", ["newest", "size ", "-id", "NAME"])
def test_an_unknown_ordering_is_400_naming_it(client, ordering):
    body = assert_error(client.get(ASSETS_URL, {"ordering": ordering}), 400, field="ordering")
    assert "-upload_time, upload_time, name, -name, -size, size" in body["errors"]["ordering"][0]


# --- GET jobs/{id}: progress ---------------------------------------------------------------------


def test_a_job_document_counts_the_items_done(client, owner):
    a, b = make_asset(owner, "a.jpg"), make_asset(owner, "b.jpg")
    request = {
        "assets": [{asset.id: {"options": {}}} for asset in (a, b)],
        "operations": [{"bg_remove": {"options": {}}}],
    }
    response = client.post(f"{API}/assets/addons/image_graphics", request, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(id=response.json()["job_id"])
    assert client.get(f"{API}/jobs/{job.id}").json()["progress"] == {"done": 0, "total": 2}
    job.progress = {"0": {"output": [{"name": None, "asset_id": a.id}]}}
    job.save()
    assert client.get(f"{API}/jobs/{job.id}").json()["progress"] == {"done": 1, "total": 2}
    job.progress["1"] = {"error": "gone"}
    job.status = JobStatus.ERROR
    job.save()
    assert client.get(f"{API}/jobs/{job.id}").json()["progress"] == {"done": 2, "total": 2}


def test_a_job_whose_request_lists_no_items_still_answers(client, owner):
    job = Job.objects.create(account=owner.membership.account, user=owner, kind="image_graphics", request={})
    assert client.get(f"{API}/jobs/{job.id}").json()["progress"] == {"done": 0, "total": 0}

