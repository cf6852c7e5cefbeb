#!/usr/bin/env bash
# Remove everything cloud/setup.sh and the other scripts made: the Cloud Run service, any training VM still there (in
# any zone), the images, the bucket (data, runs, models: copy what you want to keep first) and Cloud Build's source
# bucket, the secrets, the service accounts, their custom role and the GitHub identity pool. Nothing is asked:
# --dry-run first to see what would go. (A deleted identity pool or custom role keeps its name for 30 days;
# cloud/setup.sh brings the pool back.)
#   cloud/teardown.sh [--dry-run]
# shellcheck source=cloud/lib.sh
. "$(dirname "$0")/lib.sh"
[ "${1:-}" = --dry-run ] && DRY_RUN=true
p=(--project "$FINGERS_PROJECT")
run gcloud run services delete "$FINGERS_SERVICE" --region "$FINGERS_REGION" --quiet "${p[@]}" || true
if [ "$DRY_RUN" = true ]; then vms="fingers-train-RUN ZONE"
else vms=$(gcloud compute instances list --filter 'name~^fingers-train-' --format 'value(name,zone.basename())' "${p[@]}"); fi
while read -r vm zone; do
  [ -n "$vm" ] && { run gcloud compute instances delete "$vm" --zone "$zone" --quiet "${p[@]}" || true; }
done <<< "$vms"
run gcloud artifacts repositories delete fingers --location "$FINGERS_REGION" --quiet "${p[@]}" || true
run gcloud storage rm --recursive "gs://$FINGERS_BUCKET" "${p[@]}" || true
run gcloud storage rm --recursive "gs://${FINGERS_PROJECT}_cloudbuild" "${p[@]}" || true
for secret in "$FINGERS_API_KEY_SECRET" "$FINGERS_WANDB_SECRET"; do
  run gcloud secrets delete "$secret" --quiet "${p[@]}" || true
done
run gcloud iam workload-identity-pools delete github --location global --quiet "${p[@]}" || true
for sa in "$FINGERS_TRAIN_SA" "$FINGERS_SERVE_SA" "$FINGERS_DEPLOY_SA"; do
  run gcloud iam service-accounts delete "$sa" --quiet "${p[@]}" || true
done
run gcloud iam roles delete fingersSelfDelete --quiet "${p[@]}" || true
