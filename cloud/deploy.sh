#!/usr/bin/env bash
# Deploy a trained model to Cloud Run: a new revision of the serve image that serves gs://BUCKET/runs/RUN, first with no
# traffic (tagged "candidate"); a smoke test of that revision (/ready, then one /predict); and only if it passes, all the
# traffic to it. If it fails, the service keeps serving what it served.
#
#   cloud/deploy.sh [--dry-run] [--tag TAG] RUN
#     --tag TAG  the serve image's tag (default: this commit, as cloud/build.sh pushes it)
# shellcheck source=cloud/lib.sh
. "$(dirname "$0")/lib.sh"

tag="" run_name=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=true ;;
    --tag) tag=${2:?--tag takes a tag}; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) [ -z "$run_name" ] || die "one RUN name only"; run_name=$1 ;;
  esac
  shift
done
[ -n "$run_name" ] || die "usage: cloud/deploy.sh [--dry-run] [--tag TAG] RUN"
gc=(--project "$FINGERS_PROJECT" --region "$FINGERS_REGION")
TAG=${tag:-$(commit)} RUN=$run_name
# A new name for every deployment (a retried one too): service-run-commit-time, as Cloud Run allows (63 characters).
suffix=${FINGERS_REVISION_SUFFIX:-$(date -u +%m%d%H%M%S)}
REVISION=$(echo "$FINGERS_SERVICE-$RUN" | tr -c 'a-z0-9-\n' '-' | cut -c1-44)-${TAG:0:7}-$suffix
# What serves now: the revision with the largest share of traffic; none only if the service does not exist yet.
current="" err=$(mktemp) spec=$(mktemp --suffix .yaml); trap 'rm -f "$spec" "$err"' EXIT
if [ "$DRY_RUN" = true ]; then current="CURRENT-REVISION"
elif described=$(gcloud run services describe "$FINGERS_SERVICE" "${gc[@]}" --format json 2>"$err"); then
  current=$(python3 -c 'import json, sys
t = [r for r in json.load(sys.stdin).get("status", {}).get("traffic", []) if r.get("revisionName")]
print(max(t, key=lambda r: r.get("percent", 0))["revisionName"] if t else "")' <<< "$described")
elif ! grep -qiE "cannot find service|not found" "$err"; then
  cat "$err" >&2; die "cannot read the service $FINGERS_SERVICE (see above): nothing deployed"
fi
if [ -n "$current" ]; then
  TRAFFIC="  - revisionName: $current
    percent: 100
  - revisionName: $REVISION
    tag: candidate
    percent: 0"
else                                                   # a first deployment has nothing else to serve
  TRAFFIC="  - revisionName: $REVISION
    tag: candidate
    percent: 100"
fi
export TAG RUN REVISION TRAFFIC
render "$here/service.yaml" > "$spec"
[ "$DRY_RUN" = true ] && { echo "# $spec:"; sed 's/^/#   /' "$spec"; }
run gcloud run services replace "$spec" "${gc[@]}"
if [ "$FINGERS_RUN_PUBLIC" = true ]; then   # callers need no Google identity; the API key guards every route but the page
  quietly gcloud run services add-iam-policy-binding "$FINGERS_SERVICE" "${gc[@]}" --member allUsers --role roles/run.invoker
fi

# The candidate's own URL: https://candidate---SERVICE-...run.app
if [ "$DRY_RUN" = true ]; then url="https://candidate---SERVICE-HASH.a.run.app"
else
  service_url=$(gcloud run services describe "$FINGERS_SERVICE" "${gc[@]}" --format 'value(status.url)') \
    || die "cannot read the service's address"
  url="https://candidate---${service_url#https://}"
fi
secret=(gcloud secrets versions access latest --secret "$FINGERS_API_KEY_SECRET" --project "$FINGERS_PROJECT")
ready=(curl -fsS --max-time 10 "$url/ready")
[ "$FINGERS_RUN_PUBLIC" = true ] || ready+=(-H "Authorization: Bearer $(gcloud auth print-identity-token 2>/dev/null)")
# The key goes to curl on standard input (-H @-), never on a command line that `ps` would show.
predict=(curl -fsS --max-time 30 -H @- -F "files=@$here/smoke-hand.png" "$url/predict")
echo "smoke test of $REVISION at $url" >&2
smoke() {
  local i key
  if [ "$DRY_RUN" = true ]; then
    run "${ready[@]}"; run "${secret[@]}"; echo "# (that key, as the header X-API-Key, on the standard input of:)"; run "${predict[@]}"; return 0
  fi
  for i in $(seq "${FINGERS_SMOKE_TRIES:-30}"); do
    "${ready[@]}" >/dev/null && break
    [ "$i" = "${FINGERS_SMOKE_TRIES:-30}" ] && return 1; sleep 5
  done
  key=$("${secret[@]}") || return 1
  printf 'X-API-Key: %s\n' "$key" | "${predict[@]}" | grep -q '"predictions"'
}
if ! smoke; then
  echo "the smoke test of $REVISION failed: traffic stays on ${current:-nothing}" >&2; exit 1
fi
run gcloud run services update-traffic "$FINGERS_SERVICE" "${gc[@]}" --to-revisions "$REVISION=100"
echo "$REVISION serves all the traffic" >&2
