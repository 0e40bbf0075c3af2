"""URL routes. The probes are answered before these (config/wsgi.py, HealthCheckMiddleware)."""

from django.conf import settings
from django.contrib import admin
from django.urls import path

from {{ cookiecutter.project_slug }} import views

urlpatterns = [
    path("", views.home, name="home"),
    path(settings.ADMIN_URL, admin.site.urls),
]
