"""Routes of the add-on endpoints (mounted under /api/v1/)."""

urlpatterns: list = []
