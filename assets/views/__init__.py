"""The web pages of the asset library: the grid (`grid`), one asset (`detail`), adding
images (`add`), and what they share (`common`: roles, the 404 and no-account pages).

Thin, like the API views: they read through `assets.selectors` (so a page shows exactly
what the API would, scoped to the caller's account) and render templates in
templates/web/. Every write a page offers is made by its script through the API, with the
session and the CSRF token, so it has the API's validation and permissions. Another
account's asset is a 404 here too. Images load from the API's content URLs as renditions.
"""

from assets.views.add import asset_add_view
from assets.views.common import no_account_response, not_found_response, role_context
from assets.views.detail import asset_detail_view
from assets.views.grid import asset_list_view

__all__ = [
    "asset_add_view", "asset_detail_view", "asset_list_view", "no_account_response", "not_found_response", "role_context",
]
