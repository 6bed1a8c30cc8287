"""Routes of the add-on endpoints (mounted under /api/v1/)."""

from django.urls import path

from assets import converters  # noqa: F401  (registers <hex32:>)
from graphics import api

urlpatterns = [
    path("assets/file/addons/bg_remove", api.BgRemoveUploadView.as_view(), name="bg-remove-upload"),
    path("assets/<hex32:asset_id>/addons/bg_remove", api.BgRemoveAssetView.as_view(), name="bg-remove-asset"),
]
