#!/usr/bin/env bash
# Remove everything cloud/setup.sh and the other scripts made: the Cloud Run service, any training VM still there, the
# images, the bucket (data, runs, models: copy what you want to keep first), the secrets, the service account and the
# GitHub identity pool. Nothing is asked: --dry-run first to see what would go.
#   cloud/teardown.sh [--dry-run]
# shellcheck source=cloud/lib.sh
. "$(dirname "$0")/lib.sh"
[ "${1:-}" = --dry-run ] && DRY_RUN=true
p=(--project "$FINGERS_PROJECT")
run gcloud run services delete "$FINGERS_SERVICE" --region "$FINGERS_REGION" --quiet "${p[@]}" || true
if [ "$DRY_RUN" = true ]; then vms="fingers-train-RUN"
else vms=$(gcloud compute instances list --filter 'name~^fingers-train-' --format 'value(name)' "${p[@]}"); fi
for vm in $vms; do run gcloud compute instances delete "$vm" --zone "$FINGERS_ZONE" --quiet "${p[@]}" || true; done
run gcloud artifacts repositories delete fingers --location "$FINGERS_REGION" --quiet "${p[@]}" || true
run gcloud storage rm --recursive "gs://$FINGERS_BUCKET" "${p[@]}" || true
for secret in "$FINGERS_API_KEY_SECRET" "$FINGERS_WANDB_SECRET"; do
  run gcloud secrets delete "$secret" --quiet "${p[@]}" || true
done
run gcloud iam workload-identity-pools delete github --location global --quiet "${p[@]}" || true
run gcloud iam service-accounts delete "$FINGERS_SERVICE_ACCOUNT" --quiet "${p[@]}" || true
