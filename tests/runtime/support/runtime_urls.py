"""The project's own URLs plus the misbehaving views the runtime tests need."""

import runtime_views
from config.urls import urlpatterns as project_urlpatterns
from django.urls import path

urlpatterns = [
    path("test/pid", runtime_views.pid),
    path("test/sleep", runtime_views.sleep),
    path("test/cpu", runtime_views.cpu),
    path("test/leak", runtime_views.leak),
    path("test/exit", runtime_views.exit_process),
    *project_urlpatterns,
]
