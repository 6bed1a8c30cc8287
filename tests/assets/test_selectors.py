"""assets.selectors called directly: every read is scoped to the caller's account, and an
id of another account, a missing id and a malformed id all look the same (NotFound).
asset_get, asset_list with each filter, lineage_of, schema_get, stored_file_get and
job_get_for_user, on rows made from real images (tests/images.py).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from assets.errors import FieldError, NotFound
from assets.models import DEFAULT_SCHEMA_ID, Asset, DataSchema, Job, JobStatus, Role
from assets.requests import AssetFilters
from assets.selectors import asset_get, asset_list, job_get_for_user, lineage_of, schema_get, stored_file_get
from core.rules import MAX_ID
from tests.assets.conftest import make_schema
from tests.conftest import add_conversion, make_asset
from tests.images import jpeg_bytes, png_bytes

pytestmark = pytest.mark.django_db

JPEG = jpeg_bytes("chelsea", (90, 60))
PNG = png_bytes("rocket", (40, 30))
MISSING = "0123456789abcdef0123456789abcdef"
MALFORMED = ["NOT-HEX", MISSING.upper(), MISSING[:-1], MISSING + "0", ""]


@pytest.fixture
def user(make_user):
    return make_user(Role.USER)[0]


@pytest.fixture
def outsider(make_user):
    """A user of another account."""
    return make_user(Role.ADMIN, account="globex")[0]


def listed(user, **filters) -> list[str]:
    return list(asset_list(user=user, filters=AssetFilters(**filters)).values_list("id", flat=True))


# --- asset_get ------------------------------------------------------------------------------


def test_asset_get_returns_the_accounts_asset(user):
    asset = make_asset(user, "cat.jpg", JPEG)
    found = asset_get(account=user.membership.account, asset_id=asset.id)
    assert (found.pk, found.name, found.checksum) == (asset.pk, "cat.jpg", asset.checksum)
    with transaction.atomic():  # for_update locks the same row
        assert asset_get(account=user.membership.account, asset_id=asset.id, for_update=True).pk == asset.pk


@pytest.mark.parametrize("asset_id", ["foreign", MISSING, *MALFORMED])
def test_asset_get_of_a_foreign_missing_or_malformed_id_is_asset_not_found(user, outsider, asset_id):
    theirs = make_asset(outsider, "theirs.jpg", JPEG)
    asset_id = theirs.id if asset_id == "foreign" else asset_id
    with pytest.raises(NotFound) as missing:
        asset_get(account=user.membership.account, asset_id=asset_id)
    assert missing.value.code == "asset_not_found"
    assert missing.value.status_code == 404
    assert "globex" not in missing.value.message and "theirs" not in missing.value.message


# --- asset_list -----------------------------------------------------------------------------


def test_asset_list_is_the_accounts_assets_newest_first(user, outsider):
    now = timezone.now()
    older = make_asset(user, "older.jpg", JPEG, upload_time=now - timedelta(minutes=2))
    newest = make_asset(user, "newest.jpg", JPEG, upload_time=now - timedelta(minutes=1))
    oldest = make_asset(user, "oldest.jpg", JPEG, upload_time=now - timedelta(minutes=3))
    make_asset(outsider, "foreign.jpg", JPEG)
    assert listed(user) == [newest.id, older.id, oldest.id]


def test_asset_list_name_filter_is_contains_and_case_insensitive(user, outsider):
    red = make_asset(user, "Red Car.jpg", JPEG)
    blue = make_asset(user, "blue CAR.png", PNG)
    make_asset(user, "tree.jpg", JPEG)
    make_asset(outsider, "car.jpg", JPEG)
    assert set(listed(user, name="car")) == {red.id, blue.id}
    assert listed(user, name="D CA") == [red.id]
    assert listed(user, name="nothing") == []


def test_asset_list_content_type_filter_is_exact(user):
    make_asset(user, "a.jpg", JPEG)
    png = make_asset(user, "b.png", PNG)
    assert listed(user, content_type="image/png") == [png.id]
    assert listed(user, content_type="image/pn") == []


def test_asset_list_source_asset_id_filter_is_exact(user):
    root = make_asset(user, "root.jpg", JPEG)
    child = make_asset(user, "child.jpg", JPEG, source=root)
    make_asset(user, "grandchild.jpg", JPEG, source=child)
    assert listed(user, source_asset_id=root.id) == [child.id]
    assert listed(user, source_asset_id=MISSING) == []


def test_asset_list_conversion_filters(user):
    only_bg = make_asset(user, "only_bg.jpg", JPEG)
    both = make_asset(user, "both.jpg", JPEG)
    none = make_asset(user, "none.jpg", JPEG)
    add_conversion(only_bg, "bg", PNG)
    add_conversion(both, "bg", PNG)
    add_conversion(both, "thumb", PNG)

    with_any = listed(user, has_conversion=True)
    assert sorted(with_any) == sorted([only_bg.id, both.id])  # once each, though `both` has two
    assert listed(user, has_conversion=False) == [none.id]
    assert sorted(listed(user, conversion_name="bg")) == sorted([only_bg.id, both.id])
    assert listed(user, conversion_name="thumb") == [both.id]
    assert listed(user, conversion_name="missing") == []


def test_asset_list_filters_combine(user):
    cat = make_asset(user, "cat.png", PNG)
    make_asset(user, "cat.jpg", JPEG)
    add_conversion(cat, "bg", PNG)
    assert listed(user, name="cat", content_type="image/png", conversion_name="bg") == [cat.id]
    assert listed(user, name="cat", content_type="image/jpeg", has_conversion=True) == []


# --- lineage_of -----------------------------------------------------------------------------


def test_lineage_walks_ancestors_nearest_first_and_descendants_breadth_first(user):
    now = timezone.now()
    a = make_asset(user, "a.jpg", JPEG, upload_time=now - timedelta(minutes=4))
    b = make_asset(user, "b.jpg", JPEG, source=a, upload_time=now - timedelta(minutes=3))
    c = make_asset(user, "c.jpg", JPEG, source=b, upload_time=now - timedelta(minutes=2))
    d = make_asset(user, "d.jpg", JPEG, source=a, upload_time=now - timedelta(minutes=1))
    assert lineage_of(asset=c) == {"ancestors": [b.id, a.id], "descendants": []}
    assert lineage_of(asset=a) == {"ancestors": [], "descendants": [b.id, d.id, c.id]}
    assert lineage_of(asset=b) == {"ancestors": [a.id], "descendants": [c.id]}


def test_lineage_reports_a_deleted_ancestors_id_but_cannot_walk_past_it(user):
    a = make_asset(user, "a.jpg", JPEG)
    b = make_asset(user, "b.jpg", JPEG, source=a)
    c = make_asset(user, "c.jpg", JPEG, source=b)
    Asset.objects.filter(pk=b.pk).delete()
    assert lineage_of(asset=c) == {"ancestors": [b.id], "descendants": []}
    assert lineage_of(asset=a) == {"ancestors": [], "descendants": []}


def test_lineage_stays_in_the_account_and_cuts_cycles(user, outsider):
    a = make_asset(user, "a.jpg", JPEG)
    b = make_asset(user, "b.jpg", JPEG, source=a)
    make_asset(outsider, "foreign-child.jpg", JPEG, source=a)  # another account's, pointing at ours
    assert lineage_of(asset=a) == {"ancestors": [], "descendants": [b.id]}
    Asset.objects.filter(pk=a.pk).update(source_asset_id=b.id)  # a cycle the API cannot make
    a.refresh_from_db()
    # the walk ends, and no id is reported twice
    assert lineage_of(asset=a) == {"ancestors": [b.id], "descendants": []}
    assert lineage_of(asset=b) == {"ancestors": [a.id], "descendants": []}


# --- schema_get -----------------------------------------------------------------------------


def test_schema_get_returns_the_builtin_schema_and_the_accounts_own(user, outsider):
    own = make_schema(outsider, name="theirs")  # an ADMIN of globex made it
    builtin = schema_get(account=user.membership.account, schema_id=DEFAULT_SCHEMA_ID)
    assert (builtin.pk, builtin.account_id, builtin.is_builtin) == (DEFAULT_SCHEMA_ID, None, True)
    found = schema_get(account=outsider.membership.account, schema_id=str(own.id))  # an id from a path
    assert (found.pk, found.name) == (own.pk, "theirs")


def test_schema_get_recreates_a_removed_builtin_schema(user):
    DataSchema.objects.filter(pk=DEFAULT_SCHEMA_ID).delete()
    builtin = schema_get(account=user.membership.account, schema_id=0)
    assert DataSchema.objects.filter(pk=DEFAULT_SCHEMA_ID, account=None).exists()
    assert builtin.is_builtin


def test_schema_get_of_another_accounts_or_a_missing_schema_is_schema_not_found(user, outsider):
    foreign = make_schema(outsider, name="theirs")
    for schema_id in (foreign.id, MAX_ID):
        with pytest.raises(NotFound) as missing:
            schema_get(account=user.membership.account, schema_id=schema_id)
        assert missing.value.code == "schema_not_found"
        with pytest.raises(FieldError) as named:  # a schema named in a request body
            schema_get(account=user.membership.account, schema_id=schema_id, field="data_schema_id")
        assert (named.value.field, named.value.code, named.value.status_code) == (
            "data_schema_id", "schema_not_found", 400
        )


@pytest.mark.parametrize("schema_id", ["abc", -1, "1.5", True, MAX_ID + 1, None])
def test_schema_get_of_a_malformed_id_is_not_found_or_a_field_error(user, schema_id):
    with pytest.raises(NotFound) as missing:
        schema_get(account=user.membership.account, schema_id=schema_id)
    assert missing.value.status_code == 404
    with pytest.raises(FieldError) as named:
        schema_get(account=user.membership.account, schema_id=schema_id, field="data_schema_id")
    assert named.value.field == "data_schema_id" and "whole number" in named.value.message


# --- stored_file_get ------------------------------------------------------------------------


def test_stored_file_get_names_the_original_and_each_conversion(user, media_root):
    asset = make_asset(user, "holiday.cat.jpg", JPEG)
    conversion = add_conversion(asset, "thumb", PNG)

    original, original_name = stored_file_get(asset=asset, name="original")
    assert (original.pk, original_name) == (asset.pk, "holiday.cat.jpg")
    assert (media_root / original.file.name).read_bytes() == JPEG

    stored, download_name = stored_file_get(asset=asset, name="thumb")
    assert (stored.pk, download_name) == (conversion.pk, "holiday.cat_thumb.png")
    assert (media_root / stored.file.name).read_bytes() == PNG


@pytest.mark.parametrize("name", ["nope", "bad name!", "x" * 31])
def test_stored_file_get_of_a_missing_conversion_is_conversion_not_found(user, name):
    asset = make_asset(user, "cat.jpg", JPEG)
    add_conversion(asset, "thumb", PNG)
    with pytest.raises(NotFound) as missing:
        stored_file_get(asset=asset, name=name)
    assert missing.value.code == "conversion_not_found"


# --- job_get_for_user -----------------------------------------------------------------------


def test_job_get_for_user_finds_any_job_of_the_account(user, make_user):
    admin, _ = make_user(Role.ADMIN)
    job = Job.objects.create(
        account=admin.membership.account, user=admin, kind="image_graphics", status=JobStatus.OK,
        output=[{"name": None, "asset_id": "a" * 32}],
    )
    found = job_get_for_user(user=user, job_id=job.id)  # a USER reads an ADMIN's job
    assert (found.pk, found.user, found.status, found.output) == (job.pk, admin, JobStatus.OK, job.output)


@pytest.mark.parametrize("job_id", ["foreign", MISSING, *MALFORMED])
def test_job_get_for_user_of_a_foreign_missing_or_malformed_id_is_job_not_found(user, outsider, job_id):
    theirs = Job.objects.create(account=outsider.membership.account, user=outsider, kind="image_graphics")
    job_id = theirs.id if job_id == "foreign" else job_id
    with pytest.raises(NotFound) as missing:
        job_get_for_user(user=user, job_id=job_id)
    assert missing.value.code == "job_not_found"
