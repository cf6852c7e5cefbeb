# shellcheck shell=bash
# The one place for the cloud settings: every script in cloud/ and every workflow in .github/workflows reads them here.
# Each is an environment variable with a default; set any of them in your shell, in a file named by FINGERS_CLOUD_ENV
# (one NAME=value a line), or as a GitHub repository variable of the same name.
if [ -n "${FINGERS_CLOUD_ENV:-}" ]; then
  # shellcheck disable=SC1090
  . "$FINGERS_CLOUD_ENV"
fi

: "${FINGERS_PROJECT:?set FINGERS_PROJECT to your Google Cloud project id}"
: "${FINGERS_REGION:=europe-west4}"                    # region of the bucket, the registry, Cloud Run and Vertex AI
: "${FINGERS_ZONE:=europe-west4-a}"                    # zone of the training VM (one that has the GPU below)
: "${FINGERS_BUCKET:=${FINGERS_PROJECT}-fingers}"      # gs://BUCKET: DVC remote (dvc/), runs (runs/), models
: "${FINGERS_MACHINE_TYPE:=g2-standard-8}"             # the training VM: 8 vCPUs, 32 GB, made for one L4 GPU
: "${FINGERS_GPU_TYPE:=nvidia-l4}"
: "${FINGERS_GPU_COUNT:=1}"
: "${FINGERS_VM_IMAGE_FAMILY:=common-cu124-debian-11-py310}"   # a Deep Learning VM image: CUDA driver and Python
: "${FINGERS_VM_IMAGE_PROJECT:=deeplearning-platform-release}"
: "${FINGERS_VM_DISK_GB:=100}"
: "${FINGERS_MAX_RUN_DURATION:=7200}"                  # seconds: the VM deletes itself after this, whatever happens
: "${FINGERS_SPOT:=false}"                             # true: a Spot VM (60-91% cheaper; may be preempted)
: "${FINGERS_GIT_URL:=https://github.com/fingers-ml/fingers.git}"
: "${FINGERS_REPOSITORY:=${FINGERS_REGION}-docker.pkg.dev/${FINGERS_PROJECT}/fingers}"   # Artifact Registry
: "${FINGERS_SERVE_IMAGE:=${FINGERS_REPOSITORY}/serve}"
: "${FINGERS_TRAIN_IMAGE:=${FINGERS_REPOSITORY}/train}"
: "${FINGERS_SERVICE:=fingers}"                        # the Cloud Run service
: "${FINGERS_RUN_PUBLIC:=true}"                        # true: anyone may call the service (the API key guards it)
# Three identities, each with only what it needs (cloud/setup.sh makes them):
: "${FINGERS_TRAIN_SA:=fingers-train@${FINGERS_PROJECT}.iam.gserviceaccount.com}"    # training VMs and Vertex AI jobs
: "${FINGERS_SERVE_SA:=fingers-serve@${FINGERS_PROJECT}.iam.gserviceaccount.com}"    # the Cloud Run service
: "${FINGERS_DEPLOY_SA:=fingers-deploy@${FINGERS_PROJECT}.iam.gserviceaccount.com}"  # Cloud Build and GitHub Actions
: "${FINGERS_WANDB_PROJECT:=fingers}"
: "${FINGERS_WANDB_SECRET:=wandb-api-key}"             # Secret Manager: the W&B key (none: runs stay offline)
: "${FINGERS_API_KEY_SECRET:=fingers-api-key}"         # Secret Manager: the service's API key
# Cloud Run sizing, from bench/serve.txt: a worker per vCPU (2) serves about 900 images a second in under 300 MB
: "${FINGERS_RUN_CPU:=2}"
: "${FINGERS_RUN_MEMORY:=1Gi}"
: "${FINGERS_RUN_CONCURRENCY:=32}"
: "${FINGERS_RUN_MIN_INSTANCES:=0}"
: "${FINGERS_RUN_MAX_INSTANCES:=4}"

# shellcheck disable=SC2163  # export every FINGERS_* setting, for the programs the scripts run
export "${!FINGERS_@}"
