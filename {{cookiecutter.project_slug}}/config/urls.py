"""URL routes. /healthz and /readyz are answered earlier, by HealthCheckMiddleware."""

from django.conf import settings
from django.contrib import admin
from django.urls import path

from {{ cookiecutter.project_slug }} import views

urlpatterns = [
    path("", views.home, name="home"),
    path(settings.ADMIN_URL, admin.site.urls),
]
