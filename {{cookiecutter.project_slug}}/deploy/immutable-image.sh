# shellcheck shell=sh
# Sourced by the deploy scripts (. deploy/immutable-image.sh): a release names an image that
# cannot change under it, so redeploying it means what it meant the first time.

# require_immutable_image SCRIPT IMAGE: returns if IMAGE is a commit-SHA-style tag or a digest,
# else exits 2 saying why.
require_immutable_image() {
  case $2 in
    *@sha256:*) return 0 ;;
    *:latest) why="latest" ;;
    *) case ${2##*/} in *:*) return 0 ;; *) why="a name without a tag" ;; esac ;;
  esac
  echo "$1: $2: name an immutable image (a commit-SHA tag or a digest), not $why" >&2
  exit 2
}
