#!/usr/bin/env bash
# Once per project (safe to run again: what exists is left as it is): turn on the APIs; make the bucket (DVC remote,
# data, runs), the image registry, the secrets, and three service accounts with only what each needs: fingers-train
# (training VMs and Vertex AI jobs), fingers-serve (the Cloud Run service), fingers-deploy (Cloud Build, and GitHub
# Actions through Workload Identity Federation, without a key file). Then push the data with DVC (needs `pip install
# dvc-gs`) and copy the archive for Vertex AI. Your own account needs Owner, or the admin roles for each of these.
#
#   cloud/setup.sh [--dry-run] [--github OWNER/REPO]
# shellcheck source=cloud/lib.sh
. "$(dirname "$0")/lib.sh"

github=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=true ;;
    --github) github=${2:?--github takes OWNER/REPO}; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
  shift
done
[ -z "$github" ] || [[ "$github" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || die "--github takes OWNER/REPO, got $github"
p=(--project "$FINGERS_PROJECT")
bucket="gs://$FINGERS_BUCKET"

# ensure DESCRIBE... -- CREATE...: run CREATE unless DESCRIBE finds the thing already (a dry run prints CREATE).
ensure() {
  local describe=()
  while [ "$1" != -- ]; do describe+=("$1"); shift; done; shift
  if [ "$DRY_RUN" = false ] && "${describe[@]}" >/dev/null 2>&1; then echo "already there: ${describe[*]:0:4}" >&2; return 0; fi
  run "$@"
}
bind_project() { quietly gcloud projects add-iam-policy-binding "$FINGERS_PROJECT" --member "serviceAccount:$1" --role "$2" \
                   --condition None --quiet; }
bind_bucket() { quietly gcloud storage buckets add-iam-policy-binding "$bucket" --member "serviceAccount:$1" --role "$2"; }
bind_secret() { quietly gcloud secrets add-iam-policy-binding "$1" --member "serviceAccount:$2" \
                  --role roles/secretmanager.secretAccessor "${p[@]}"; }

run gcloud services enable compute.googleapis.com run.googleapis.com artifactregistry.googleapis.com \
  cloudbuild.googleapis.com secretmanager.googleapis.com aiplatform.googleapis.com iamcredentials.googleapis.com \
  sts.googleapis.com "${p[@]}"
ensure gcloud storage buckets describe "$bucket" "${p[@]}" -- \
  gcloud storage buckets create "$bucket" --location "$FINGERS_REGION" --uniform-bucket-level-access "${p[@]}"
ensure gcloud artifacts repositories describe fingers --location "$FINGERS_REGION" "${p[@]}" -- \
  gcloud artifacts repositories create fingers --repository-format docker --location "$FINGERS_REGION" "${p[@]}"
for secret in "$FINGERS_API_KEY_SECRET" "$FINGERS_WANDB_SECRET"; do
  ensure gcloud secrets describe "$secret" "${p[@]}" -- \
    gcloud secrets create "$secret" --replication-policy automatic "${p[@]}"
done
for sa in "$FINGERS_TRAIN_SA" "$FINGERS_SERVE_SA" "$FINGERS_DEPLOY_SA"; do
  ensure gcloud iam service-accounts describe "$sa" "${p[@]}" -- \
    gcloud iam service-accounts create "${sa%%@*}" --display-name "fingers: ${sa%%@*}" "${p[@]}"
done

# fingers-train: reads and writes the bucket, reads the W&B key, writes logs, and deletes its own VM (a custom role
# with that one permission, limited to VMs named fingers-train-*).
bind_bucket "$FINGERS_TRAIN_SA" roles/storage.objectAdmin
bind_secret "$FINGERS_WANDB_SECRET" "$FINGERS_TRAIN_SA"
bind_project "$FINGERS_TRAIN_SA" roles/logging.logWriter
bind_project "$FINGERS_TRAIN_SA" roles/artifactregistry.reader
ensure gcloud iam roles describe fingersSelfDelete "${p[@]}" -- \
  gcloud iam roles create fingersSelfDelete --title "fingers: a training VM deletes itself" \
    --permissions compute.instances.delete,compute.instances.get "${p[@]}"
quietly gcloud projects add-iam-policy-binding "$FINGERS_PROJECT" --member "serviceAccount:$FINGERS_TRAIN_SA" \
  --role "projects/$FINGERS_PROJECT/roles/fingersSelfDelete" --quiet \
  --condition 'title=fingers-train VMs only,expression=resource.name.extract("/instances/{name}").startsWith("fingers-train-")'
# fingers-serve: reads the bucket (the model) and the API key; nothing else.
bind_bucket "$FINGERS_SERVE_SA" roles/storage.objectViewer
bind_secret "$FINGERS_API_KEY_SECRET" "$FINGERS_SERVE_SA"
# fingers-deploy: builds and pushes images, creates training VMs and jobs that run as fingers-train, and deploys the
# service as fingers-serve.
for role in roles/artifactregistry.writer roles/logging.logWriter roles/storage.objectViewer roles/compute.instanceAdmin.v1 \
            roles/aiplatform.user roles/run.admin; do
  bind_project "$FINGERS_DEPLOY_SA" "$role"
done
bind_bucket "$FINGERS_DEPLOY_SA" roles/storage.objectAdmin
for sa in "$FINGERS_TRAIN_SA" "$FINGERS_SERVE_SA"; do
  quietly gcloud iam service-accounts add-iam-policy-binding "$sa" --member "serviceAccount:$FINGERS_DEPLOY_SA" \
    --role roles/iam.serviceAccountUser "${p[@]}"
done

echo "# add the secrets' values (never put them in a file in the repo):" >&2
echo "#   openssl rand -hex 24 | gcloud secrets versions add $FINGERS_API_KEY_SECRET --data-file=- ${p[*]}" >&2
echo "#   printf %s \"\$WANDB_API_KEY\" | gcloud secrets versions add $FINGERS_WANDB_SECRET --data-file=- ${p[*]}" >&2
run dvc remote add --local --force gcs "$bucket/dvc"
run dvc push --remote gcs data.dvc
run gcloud storage cp "$root/data/fingers.zip" "$bucket/data/fingers.zip"

if [ -n "$github" ]; then
  if [ "$DRY_RUN" = true ]; then number=PROJECT-NUMBER
  else number=$(gcloud projects describe "$FINGERS_PROJECT" --format 'value(projectNumber)'); fi
  pool="projects/$number/locations/global/workloadIdentityPools/github"
  # A pool deleted by cloud/teardown.sh stays for 30 days (its name cannot be reused): bring it back.
  state=""
  [ "$DRY_RUN" = true ] || state=$(gcloud iam workload-identity-pools describe github --location global \
                                     --format 'value(state)' "${p[@]}" 2>/dev/null || true)
  case "$state" in
    ACTIVE) echo "already there: the workload identity pool github" >&2 ;;
    DELETED) run gcloud iam workload-identity-pools undelete github --location global "${p[@]}" ;;
    *) run gcloud iam workload-identity-pools create github --location global --display-name GitHub "${p[@]}"
       run gcloud iam workload-identity-pools providers create-oidc github --location global --workload-identity-pool github \
         --issuer-uri https://token.actions.githubusercontent.com \
         --attribute-mapping "google.subject=assertion.sub,attribute.repository=assertion.repository" \
         --attribute-condition "assertion.repository == '$github'" "${p[@]}" ;;
  esac
  quietly gcloud iam service-accounts add-iam-policy-binding "$FINGERS_DEPLOY_SA" --role roles/iam.workloadIdentityUser \
    --member "principalSet://iam.googleapis.com/$pool/attribute.repository/$github" "${p[@]}"
  echo "# GitHub repository variables (Settings > Secrets and variables > Actions > Variables):" >&2
  echo "#   GCP_WORKLOAD_IDENTITY_PROVIDER=$pool/providers/github" >&2
  echo "#   GCP_SERVICE_ACCOUNT=$FINGERS_DEPLOY_SA" >&2
  echo "#   FINGERS_PROJECT=$FINGERS_PROJECT (and any other FINGERS_* setting you changed)" >&2
fi
