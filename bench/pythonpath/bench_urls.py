"""The project's own URLs (config.urls) plus the bench-only views."""

import bench_views
from django.urls import include, path

urlpatterns = [
    path("bench/leak", bench_views.leak),
    path("bench/cpu", bench_views.cpu),
    path("", include("config.urls")),
]
