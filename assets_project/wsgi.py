"""WSGI entry point (gunicorn serves `assets_project.wsgi:application`)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assets_project.settings")
application = get_wsgi_application()
