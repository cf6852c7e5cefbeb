#!/usr/bin/env bash
# Build both images with Cloud Build, as the fingers-deploy service account, and push them to Artifact Registry, tagged
# with this commit (cloudbuild.yaml).
#   cloud/build.sh [--dry-run]
# shellcheck source=cloud/lib.sh
. "$(dirname "$0")/lib.sh"
[ "${1:-}" = --dry-run ] && DRY_RUN=true
run gcloud builds submit "$root" --project "$FINGERS_PROJECT" --region "$FINGERS_REGION" \
  --config "$root/cloudbuild.yaml" --service-account "projects/$FINGERS_PROJECT/serviceAccounts/$FINGERS_DEPLOY_SA" \
  --substitutions "_SERVE_IMAGE=$FINGERS_SERVE_IMAGE,_TRAIN_IMAGE=$FINGERS_TRAIN_IMAGE,_TAG=$(commit)"
