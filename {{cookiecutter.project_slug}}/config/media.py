"""STORAGES["default"]: where uploaded files (media) are kept.

On disk at DJANGO_MEDIA_ROOT (a volume in compose.yaml), served by this site with headers that
keep an upload from acting as one of its pages ({{ cookiecutter.project_slug }}/media.py). With MEDIA_S3_BUCKET set,
in that bucket (django-storages), where the storage's own domain serves them: the one choice
that works when replicas run on several hosts.
"""

ON_DISK = "django.core.files.storage.FileSystemStorage"
S3 = "storages.backends.s3.S3Storage"


def media_storage(env) -> dict:
    if not env["MEDIA_S3_BUCKET"]:
        return {"BACKEND": ON_DISK}  # at MEDIA_ROOT
    custom_domain = env["MEDIA_S3_CUSTOM_DOMAIN"]
    options = {
        "bucket_name": env["MEDIA_S3_BUCKET"],
        "endpoint_url": env["MEDIA_S3_ENDPOINT_URL"],
        "region_name": env["MEDIA_S3_REGION"],
        # Unset, boto3 looks where AWS tools look: AWS_* variables, an instance or pod role.
        "access_key": env["MEDIA_S3_ACCESS_KEY_ID"],
        "secret_key": env["MEDIA_S3_SECRET_ACCESS_KEY"],
        "custom_domain": custom_domain,
        # A private bucket's files are reached by signed links (an hour); a public domain's
        # links need none. Signed as every provider accepts (boto3 may sign with version 2,
        # which newer AWS regions and many S3-compatible services refuse).
        "querystring_auth": not custom_domain,
        "signature_version": "s3v4",
        # A second upload of the same name gets a new name, as on disk, instead of replacing
        # the first.
        "file_overwrite": False,
    }
    given = {key: value for key, value in options.items() if value != ""}
    return {"BACKEND": S3, "OPTIONS": given}
