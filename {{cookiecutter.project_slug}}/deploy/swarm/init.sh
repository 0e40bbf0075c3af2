#!/bin/sh
# One-time setup of a swarm manager for deploy/swarm/stack.yaml, run from the project folder:
# the secrets, from .env, and the label of the node that keeps the database (this one, or
# DB_NODE). Idempotent: what exists is left as it is (a secret cannot change: docs/swarm.md).
set -eu

project={{ cookiecutter.project_slug }}
env_file=${ENV_FILE:-.env}

value_of() { # the last NAME=value line of the env file, unquoted
  sed -n "s/^$1=//p" "$env_file" | tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'$/\1/"
}

create_secret() { # name, value
  if docker secret inspect "$1" >/dev/null 2>&1; then
    echo "secret $1: exists, kept"
  elif [ -z "$2" ]; then
    echo "init.sh: no value for secret $1 in $env_file" >&2
    exit 1
  else
    printf '%s' "$2" | docker secret create "$1" - >/dev/null
    echo "secret $1: created"
  fi
}

[ -f "$env_file" ] || { echo "init.sh: $env_file not found (run it from the project folder)" >&2; exit 1; }
create_secret "${project}_django_secret_key" "$(value_of DJANGO_SECRET_KEY)"
{%- if cookiecutter.database == "postgresql" %}
password=$(value_of POSTGRES_PASSWORD)
create_secret "${project}_postgres_password" "$password"
# The stack's own `db`, unless DATABASE_URL names another server (then remove `db` from it).
database_url=${DATABASE_URL:-postgres://$project:$password@db:5432/$project}
create_secret "${project}_database_url" "$database_url"
{%- endif %}

node=${DB_NODE:-$(docker info --format '{% raw %}{{.Swarm.NodeID}}{% endraw %}')}
docker node update --label-add "$project.db=true" "$node" >/dev/null
echo "node $node: labelled $project.db=true (the database's volume lives there)"
