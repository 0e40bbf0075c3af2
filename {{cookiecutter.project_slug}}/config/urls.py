"""URL routes. The probes are answered before these (config/wsgi.py, HealthCheckMiddleware)."""

from django.conf import settings
from django.contrib import admin
from django.core.files.storage import FileSystemStorage, default_storage
from django.urls import path

from {{ cookiecutter.project_slug }} import media, views

urlpatterns = [
    path("", views.home, name="home"),
    path(settings.ADMIN_URL, admin.site.urls),
]

# Uploads in object storage are served from the storage's domain, never through this site.
if isinstance(default_storage, FileSystemStorage):
    prefix = settings.MEDIA_URL.lstrip("/")  # Django reads "media/" as "/media/"
    urlpatterns.append(path(f"{prefix}<path:name>", media.serve, name="media"))
