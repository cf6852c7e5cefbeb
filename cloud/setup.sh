#!/usr/bin/env bash
# Once per project: turn on the APIs, make the bucket (DVC remote, data, runs), the image registry, the service account
# that VMs, jobs and the service run as, the secrets, and the Workload Identity Federation that lets GitHub Actions act
# without a key file. Then push the data with DVC and copy the archive for Vertex AI.
#
#   cloud/setup.sh [--dry-run] [--github OWNER/REPO]
# shellcheck source=cloud/lib.sh
. "$(dirname "$0")/lib.sh"

github=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=true ;;
    --github) github=${2:?--github takes OWNER/REPO}; shift ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
  shift
done
p=(--project "$FINGERS_PROJECT")
sa=$FINGERS_SERVICE_ACCOUNT
run gcloud services enable compute.googleapis.com run.googleapis.com artifactregistry.googleapis.com \
  cloudbuild.googleapis.com secretmanager.googleapis.com aiplatform.googleapis.com iamcredentials.googleapis.com "${p[@]}"
run gcloud storage buckets create "gs://$FINGERS_BUCKET" --location "$FINGERS_REGION" --uniform-bucket-level-access "${p[@]}"
run gcloud artifacts repositories create fingers --repository-format docker --location "$FINGERS_REGION" "${p[@]}"
run gcloud iam service-accounts create "${sa%%@*}" --display-name "fingers: training VMs, jobs and the service" "${p[@]}"
for role in roles/storage.objectAdmin roles/secretmanager.secretAccessor roles/logging.logWriter \
            roles/artifactregistry.reader roles/compute.instanceAdmin.v1 roles/iam.serviceAccountUser roles/aiplatform.user; do
  run gcloud projects add-iam-policy-binding "$FINGERS_PROJECT" --member "serviceAccount:$sa" --role "$role" --condition None
done
for secret in "$FINGERS_API_KEY_SECRET" "$FINGERS_WANDB_SECRET"; do
  run gcloud secrets create "$secret" --replication-policy automatic "${p[@]}"
done
echo "# add the secrets' values (never put them in a file in the repo):" >&2
echo "#   openssl rand -hex 24 | gcloud secrets versions add $FINGERS_API_KEY_SECRET --data-file=- ${p[*]}" >&2
echo "#   printf %s \"\$WANDB_API_KEY\" | gcloud secrets versions add $FINGERS_WANDB_SECRET --data-file=- ${p[*]}" >&2
run dvc remote add --force gcs "gs://$FINGERS_BUCKET/dvc"
run dvc push --remote gcs data.dvc
run gcloud storage cp "$root/data/fingers.zip" "gs://$FINGERS_BUCKET/data/fingers.zip"
if [ -n "$github" ]; then
  if [ "$DRY_RUN" = true ]; then number=PROJECT-NUMBER
  else number=$(gcloud projects describe "$FINGERS_PROJECT" --format 'value(projectNumber)'); fi
  pool="projects/$number/locations/global/workloadIdentityPools/github"
  run gcloud iam workload-identity-pools create github --location global --display-name GitHub "${p[@]}"
  run gcloud iam workload-identity-pools providers create-oidc github --location global --workload-identity-pool github \
    --issuer-uri https://token.actions.githubusercontent.com \
    --attribute-mapping "google.subject=assertion.sub,attribute.repository=assertion.repository" \
    --attribute-condition "assertion.repository == '$github'" "${p[@]}"
  run gcloud iam service-accounts add-iam-policy-binding "$sa" --role roles/iam.workloadIdentityUser \
    --member "principalSet://iam.googleapis.com/$pool/attribute.repository/$github" "${p[@]}"
  for role in roles/artifactregistry.writer roles/compute.instanceAdmin.v1 roles/run.admin; do
    run gcloud projects add-iam-policy-binding "$FINGERS_PROJECT" --member "serviceAccount:$sa" --role "$role" --condition None
  done
  echo "# GitHub repository variables: GCP_WORKLOAD_IDENTITY_PROVIDER=$pool/providers/github" >&2
  echo "#                               GCP_SERVICE_ACCOUNT=$sa, FINGERS_PROJECT=$FINGERS_PROJECT" >&2
fi
