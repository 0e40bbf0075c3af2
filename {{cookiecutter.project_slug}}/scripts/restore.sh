#!/usr/bin/env bash
# Replaces the compose stack's database with a backup made by scripts/backup.sh, and its
# uploaded files with FILE.media.tar when that is beside it:
#   bash scripts/restore.sh FILE
# Also after `docker compose down -v` (the volumes are created again). `web` is stopped while the
# data is replaced, then the stack is brought up again (migrations applied). See docs/docker.md.
set -euo pipefail
cd "$(dirname "$0")/.."
file=${1:?usage: bash scripts/restore.sh FILE (a backup made by scripts/backup.sh)}
media="$file.media.tar"
[ -s "$file" ] || { echo "ERROR: $file is not a backup: missing or empty" >&2; exit 1; }
if [ -e "$media" ] && ! tar --list --file="$media" >/dev/null; then
    echo "ERROR: $media is not an archive of uploads: nothing was restored" >&2
    exit 1
fi
docker compose stop web
{%- if cookiecutter.database == "postgresql" %}
docker compose up --detach --wait db
# One transaction: a backup that does not restore leaves the database as it was.
docker compose exec -T db pg_restore --username={{ cookiecutter.project_slug }} --dbname={{ cookiecutter.project_slug }} \
    --clean --if-exists --no-owner --single-transaction --exit-on-error <"$file"
{%- else %}
# The backup is checked, then copied over the database with SQLite's backup API, in a one-off
# container of the image that holds the volume.
docker compose run --rm --no-deps -T -e DJANGO_SETTINGS_MODULE=config.settings web python -c '
import os, shutil, sqlite3, sys
from django.conf import settings
database = settings.DATABASES["default"]["NAME"]
received = f"{database}.restore"
try:
    with open(received, "wb") as copy:
        shutil.copyfileobj(sys.stdin.buffer, copy)
    with sqlite3.connect(f"file:{received}?mode=ro", uri=True) as source:
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            sys.exit("ERROR: the backup is damaged: nothing was restored")
        with sqlite3.connect(database) as target:
            source.backup(target)
except sqlite3.DatabaseError as error:
    sys.exit(f"ERROR: not an SQLite backup ({error}): nothing was restored")
finally:
    os.remove(received)
' <"$file"
{%- endif %}
if [ -e "$media" ]; then
    # The uploads as they were: files added since are removed, as rows added since are.
    docker compose run --rm --no-deps -T web sh -c \
        'find /app/media -mindepth 1 -delete && tar --extract --file=- --directory=/app/media' <"$media"
    echo "restored $media"
fi
docker compose up --detach --wait
echo "restored $file"
