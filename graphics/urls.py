"""Routes of the add-on endpoints (mounted under /api/v1/)."""

from django.urls import path

from assets import converters  # noqa: F401  (registers <hex32:>)
from graphics import api, models_api

urlpatterns = [
    path("assets/addons/image_graphics", api.ImageGraphicsView.as_view(), name="image-graphics"),
    path(
        "assets/addons/image_graphics/jobs/<hex32:job_id>",
        api.ImageGraphicsJobView.as_view(),
        name="image-graphics-job",
    ),
    path("assets/file/addons/bg_remove", api.BgRemoveUploadView.as_view(), name="bg-remove-upload"),
    path("assets/<hex32:asset_id>/addons/bg_remove", api.BgRemoveAssetView.as_view(), name="bg-remove-asset"),
    path("models", models_api.ModelListView.as_view(), name="model-list"),
]
