"""SPEC §2 role table: for every endpoint and every role, a role below the least one
allowed gets a 403 naming both roles and changes nothing; an allowed one gets the
endpoint's success with its effect on rows and files (tests/assets/permission_matrix.py)."""

from __future__ import annotations

import pytest

from assets.models import Role
from tests.assets.permission_matrix import (
    ALL_ROLES,
    ENDPOINTS,
    ROLE_TABLE,
    assert_permission_denied,
    call_world,
    snapshot,
)

pytestmark = pytest.mark.django_db


def test_role_table_covers_every_endpoint():
    assert set(ROLE_TABLE) == set(ENDPOINTS)


@pytest.mark.parametrize("endpoint", list(ROLE_TABLE))
@pytest.mark.parametrize("role", ALL_ROLES)
def test_role_table(world, client_for, role, endpoint, django_capture_on_commit_callbacks):
    needed, success_status, effect, changes = ROLE_TABLE[endpoint]
    client = client_for(role, "acme")
    before = snapshot(world.media_root)
    response = call_world(client, endpoint, world, django_capture_on_commit_callbacks)
    if Role.rank(role) >= Role.rank(needed):
        assert response.status_code == success_status, response.content
        effect(world, response, before)
        if not changes:
            assert snapshot(world.media_root) == before
    else:
        assert_permission_denied(response, needed, role)
        assert snapshot(world.media_root) == before
