"""Request bodies larger than REQUEST_BODY_MAX_MB are refused with a 413 before any of it is
read.

Django keeps form fields within DATA_UPLOAD_MAX_MEMORY_SIZE, but writes uploaded files of any
size to a temporary file, and reads the whole body for the CSRF check even when that check then
fails. This refuses by the Content-Length header, before CsrfViewMiddleware or a view touches
the body; the response still passes through every middleware, so it carries the site's
headers. (A chunked body has no Content-Length, and Django never reads one.)
"""

from django.conf import settings
from django.shortcuts import render


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:  # Django reads no body then
            return None
        if length > settings.REQUEST_BODY_MAX_BYTES:
            return render(request, "413.html", status=413)
        return None
