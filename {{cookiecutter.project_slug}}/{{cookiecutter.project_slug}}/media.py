"""The uploaded files kept on disk (DJANGO_MEDIA_ROOT), served so that none can act as a page
of this site: an upload is anyone's content, and from this origin an HTML or SVG file could run
scripts with the visitor's session. Images that browsers only draw are shown; anything else is
a download, its type is never guessed from its content, and a sandbox forbids it any script.
"""

import mimetypes

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

# Raster images only: SVG is a document that may hold scripts.
SHOWN_INLINE = {"image/avif", "image/gif", "image/jpeg", "image/png", "image/webp"}
# No script, plugin or form, not even same-origin (as GitHub's raw files are served).
SANDBOX = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
# A 404 with no word on why: no such file, a folder, a path outside DJANGO_MEDIA_ROOT.
NOT_AN_UPLOAD = (FileNotFoundError, IsADirectoryError, NotADirectoryError, SuspiciousFileOperation)


@require_safe
def serve(request, name: str):
    try:
        file = default_storage.open(name)
    except NOT_AN_UPLOAD:
        raise Http404("no such file") from None
    content_type, _ = mimetypes.guess_type(name)
    response = FileResponse(file, as_attachment=content_type not in SHOWN_INLINE)
    response.headers["Content-Security-Policy"] = SANDBOX
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
