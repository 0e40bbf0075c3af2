#!/bin/sh
# Deploys one release to Kubernetes: deploy/kubernetes/deploy.sh IMAGE [OVERLAY], from the
# project folder, against the cluster of kubectl's current context (KUBECONFIG selects it).
# IMAGE is immutable: a commit-SHA tag or a digest. OVERLAY, overlays/production by default,
# is used as it is, its image replaced by IMAGE. This recreates the migrate Job, applies, waits
# for the web pods, and undoes the rollout if they never get ready. Exits 0 only if IMAGE
# serves (docs/kubernetes.md has the other statuses). With --render first, it prints what it
# would apply and stops: deploy.sh --render IMAGE | kubectl diff -f -
set -eu

render_only=false
if [ "${1-}" = --render ]; then render_only=true; shift; fi
image=${1:?usage: deploy/kubernetes/deploy.sh [--render] IMAGE [OVERLAY]}
overlay=${2:-deploy/kubernetes/overlays/production}
timeout=${ROLLOUT_TIMEOUT:-10m}

. deploy/immutable-image.sh
require_immutable_image deploy.sh "$image"
if [ ! -f "$overlay/kustomization.yaml" ]; then
  echo "deploy.sh: $overlay has no kustomization.yaml (docs/kubernetes.md sets one up)" >&2
  exit 2
fi

# The release's own kustomization: the overlay, with patches that give its two containers
# IMAGE. Not an `images:` entry: the overlay's has already renamed the base's image, so one
# here would match nothing. Its folder gets the rendered Secret too: removed on any exit.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
# kustomize refuses a directory named by an absolute path: this climbs from $tmp to / first.
up=$(cd "$tmp" && pwd -P | sed 's|[^/][^/]*|..|g')
cat >"$tmp/kustomization.yaml" <<KUSTOMIZATION
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - "${up#/}$(cd "$overlay" && pwd -P)"
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec: {template: {spec: {containers: [{name: web, image: "$image"}]}}}
  - patch: |-
      apiVersion: batch/v1
      kind: Job
      metadata: {name: migrate}
      spec: {template: {spec: {containers: [{name: migrate, image: "$image"}]}}}
KUSTOMIZATION

# Rendered first, and applied as rendered: a broken overlay fails before the cluster is touched.
release=$tmp/release.yaml
kubectl kustomize "$tmp" >"$release"
if $render_only; then cat "$release"; exit 0; fi

# The overlay's namespace, which every object has: each command names it.
namespace=$(sed -n 's/^  namespace: //p' "$release" | sort -u)
case $namespace in
  "" | *[!a-z0-9-]*)
    echo "deploy.sh: $overlay must put every object in one namespace (namespace:)" >&2
    exit 2 ;;
esac

# A Job cannot change: the previous release's goes, and apply creates this one's.
kubectl -n "$namespace" delete job migrate --ignore-not-found --wait=true
if ! kubectl -n "$namespace" apply -f "$release"; then
  echo "deploy.sh: apply failed, perhaps halfway; see kubectl -n $namespace get all" >&2
  exit 1
fi
if kubectl -n "$namespace" rollout status deployment/web --timeout="$timeout"; then
  echo "deploy.sh: $image serves"
  exit 0
fi

# The new pods never got ready, so the previous ones still serve (maxUnavailable: 0).
echo "deploy.sh: $image not ready within $timeout; its migrate Job:" >&2
kubectl -n "$namespace" get job migrate >&2 || true
kubectl -n "$namespace" logs job/migrate --tail=30 >&2 || true
if kubectl -n "$namespace" rollout undo deployment/web &&
  kubectl -n "$namespace" rollout status deployment/web --timeout="$timeout"; then
  echo "deploy.sh: $image was undone: the previous release serves" >&2
  exit 1
fi
echo "deploy.sh: the undo failed too, the site may be down: kubectl -n $namespace get pods" >&2
exit 3
