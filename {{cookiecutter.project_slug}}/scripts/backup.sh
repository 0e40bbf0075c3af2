#!/usr/bin/env bash
# A backup of the compose stack's database and uploaded files, written on this machine:
#   bash scripts/backup.sh [FILE]    (default: backups/<date>-<time>.{% if cookiecutter.database == "postgresql" %}dump{% else %}sqlite3{% endif %})
# The uploads (the `media` volume) go beside it, in FILE.media.tar. The site keeps running;
# restore with scripts/restore.sh FILE. See docs/docker.md, "Backups".
set -euo pipefail
cd "$(dirname "$0")/.."
file=${1:-backups/$(date -u +%Y%m%d-%H%M%S).{% if cookiecutter.database == "postgresql" %}dump{% else %}sqlite3{% endif %}}
media="$file.media.tar"
mkdir -p "$(dirname "$file")"
# Renamed only once complete: a failed backup never looks like one.
partial="$file.partial" media_partial="$media.partial"
trap 'rm -f "$partial" "$media_partial"' EXIT
{%- if cookiecutter.database == "postgresql" %}
# pg_dump's custom format: compressed, and pg_restore can restore it into an empty database.
docker compose exec -T db pg_dump --username={{ cookiecutter.project_slug }} --dbname={{ cookiecutter.project_slug }} \
    --format=custom --no-owner >"$partial"
{%- else %}
# SQLite's online backup API: a consistent copy even while gunicorn writes. It is made next to
# the database, on the volume (the container's filesystem is read-only), then streamed here.
docker compose exec -T -e DJANGO_SETTINGS_MODULE=config.settings web python -c '
import os, shutil, sqlite3, sys
from django.conf import settings
database = settings.DATABASES["default"]["NAME"]
copy = f"{database}.backup"
with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as source, sqlite3.connect(copy) as target:
    source.backup(target)
try:
    with open(copy, "rb") as made:
        shutil.copyfileobj(made, sys.stdout.buffer)
finally:
    os.remove(copy)
' >"$partial"
{%- endif %}
# The uploads, from the running `web`: files are only ever added, so a copy while it serves
# misses at most one being written. (With MEDIA_S3_BUCKET set they are in the bucket, not here.)
docker compose exec -T web tar --create --file=- --directory=/app/media . >"$media_partial"
mv "$partial" "$file"
mv "$media_partial" "$media"
echo "$file: $(wc -c <"$file") bytes; $media: $(wc -c <"$media") bytes"
