#!/bin/sh
# Deploys one release to the swarm: deploy/swarm/deploy.sh IMAGE [STACK], from the project
# folder, against a manager (DOCKER_HOST=ssh://user@host for a remote one). IMAGE is
# immutable: a commit-SHA tag or a digest. Swarm runs the release's migrations, then replaces
# the `web` tasks one at a time, each new one healthy before an old one stops, and rolls back
# by itself if a new one fails. This waits for that and exits 0 only if the release serves.
set -eu

image=${1:?usage: deploy/swarm/deploy.sh IMAGE [STACK]}
stack=${2:-{{ cookiecutter.project_slug }}}

. deploy/immutable-image.sh
require_immutable_image deploy.sh "$image"

# Each version of the Caddyfile is a config of its own: a config cannot change.
CADDYFILE_DIGEST=$(sha256sum Caddyfile | cut -c 1-12)
WEB_IMAGE=$image
export CADDYFILE_DIGEST WEB_IMAGE
# --detach=false: returns once every service has converged, or Swarm has rolled one back;
# its exit status tells less than web's state below, which says which of the two.
docker stack deploy --detach=false --prune --with-registry-auth \
  --compose-file deploy/swarm/stack.yaml "$stack" || true

format='{% raw %}{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}|{{.Spec.TaskTemplate.ContainerSpec.Image}}{% endraw %}'
IFS='|' read -r state serving <<STATUS
$(docker service inspect --format "$format" "${stack}_web")
STATUS
case $state in
  rollback_*)
    echo "deploy.sh: $image failed its health check; Swarm rolled back to $serving" >&2
    exit 1 ;;
  updating | paused)
    echo "deploy.sh: the update of ${stack}_web is $state: docker service ps ${stack}_web" >&2
    exit 1 ;;
esac
case $serving in
  "$image" | "$image"@*) echo "deploy.sh: $image serves" ;;
  *) echo "deploy.sh: ${stack}_web runs $serving, not $image" >&2; exit 1 ;;
esac
