"""A test-only URLconf with a view that fails; never part of the shipped project."""

from django.urls import path


def crash(request):
    raise RuntimeError("boom-internal-detail")


urlpatterns = [path("crash/", crash)]
