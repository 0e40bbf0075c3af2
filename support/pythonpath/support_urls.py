"""The project's own URLs, plus the test views of support_views under /test/."""

import support_views
from config.urls import urlpatterns as project_urlpatterns
from django.urls import path

urlpatterns = [
    path("test/pid", support_views.pid),
    path("test/sleep", support_views.sleep),
    path("test/cpu", support_views.cpu),
    path("test/leak", support_views.leak),
    path("test/exit", support_views.exit_process),
    path("test/page", support_views.page),
    *project_urlpatterns,
]
