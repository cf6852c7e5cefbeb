#!/usr/bin/env bash
# Train on a Compute Engine GPU VM: create the VM; at boot it installs the project at this commit, pulls the data with
# DVC from the bucket, runs `papermill nbs/train.ipynb gs://BUCKET/runs/RUN/train.ipynb -p out ...` (the executed
# notebook is written to the bucket as it goes), copies the run folder to the bucket, and deletes itself: on success,
# on failure, and after FINGERS_MAX_RUN_DURATION seconds at the latest (a hung VM cannot bill for ever).
#
#   cloud/train_vm.sh [--dry-run] [--spot] [--resume] RUN [-p NAME VALUE]...
#     --dry-run  print the commands instead of running them
#     --spot     a Spot VM: cheaper, may be preempted; its run folder is synced to the bucket every two minutes
#     --resume   continue RUN from the checkpoint in gs://BUCKET/runs/RUN (after a preemption, say)
#   e.g. cloud/train_vm.sh real-1 -p epochs 10            # settings: cloud/config.sh
# shellcheck source=cloud/lib.sh
. "$(dirname "$0")/lib.sh"

spot=$FINGERS_SPOT resume=false run_name="" params=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=true ;;
    --spot) spot=true ;;
    --resume) resume=true ;;
    -p) [ $# -ge 3 ] || die "-p takes a NAME and a VALUE"; params+=("$2=$3"); shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) [ -z "$run_name" ] || die "one RUN name only (got $run_name and $1)"; run_name=$1 ;;
  esac
  shift
done
[ -n "$run_name" ] || die "usage: cloud/train_vm.sh [--dry-run] [--spot] [--resume] RUN [-p NAME VALUE]..."
[[ "$run_name" =~ ^[a-z0-9][a-z0-9-]{0,40}$ ]] || die "RUN must be lower-case letters, digits and dashes: $run_name"
for p in "${params[@]}"; do [[ "$p" != *[\;,]* ]] || die "parameter values cannot hold ';' or ',': $p"; done

commit=$(commit)
if [ "$DRY_RUN" = false ] && [ -z "${FINGERS_COMMIT:-}" ]; then   # the VM clones FINGERS_GIT_URL: the commit must be there
  git -C "$root" fetch --quiet "$FINGERS_GIT_URL" 2>/dev/null || die "cannot reach $FINGERS_GIT_URL (set FINGERS_GIT_URL)"
  git -C "$root" merge-base --is-ancestor "$commit" FETCH_HEAD 2>/dev/null \
    || die "commit ${commit:0:7} is not on $FINGERS_GIT_URL's default branch: push it first (or set FINGERS_COMMIT)"
fi
checkpoint="gs://$FINGERS_BUCKET/runs/$run_name/checkpoint.pt"
if [ "$DRY_RUN" = false ] && [ "$resume" = false ] && gsutil -q stat "$checkpoint" 2>/dev/null; then
  die "$checkpoint exists: resume that run (--resume) or choose another name"
fi

vm="fingers-train-$run_name"
args=(compute instances create "$vm" --project "$FINGERS_PROJECT" --zone "$FINGERS_ZONE"
      --machine-type "$FINGERS_MACHINE_TYPE" --accelerator "type=$FINGERS_GPU_TYPE,count=$FINGERS_GPU_COUNT"
      --maintenance-policy TERMINATE --image-family "$FINGERS_VM_IMAGE_FAMILY" --image-project "$FINGERS_VM_IMAGE_PROJECT"
      --boot-disk-size "${FINGERS_VM_DISK_GB}GB" --service-account "$FINGERS_TRAIN_SA" --scopes cloud-platform
      --max-run-duration "${FINGERS_MAX_RUN_DURATION}s" --instance-termination-action DELETE --no-restart-on-failure)
[ "$spot" = true ] && args+=(--provisioning-model SPOT)
params_meta=$(IFS=';'; echo "${params[*]}")
# The moment Compute Engine deletes the VM (seconds since 1970): training stops early enough to save its results.
deadline=$(( ${FINGERS_NOW:-$(date +%s)} + FINGERS_MAX_RUN_DURATION ))
args+=(--metadata-from-file "startup-script=$here/vm_startup.sh,shutdown-script=$here/vm_shutdown.sh"
       --metadata "install-nvidia-driver=True,run=$run_name,commit=$commit,bucket=$FINGERS_BUCKET,git-url=$FINGERS_GIT_URL,params=$params_meta,resume=$resume,deadline=$deadline,wandb-secret=$FINGERS_WANDB_SECRET,wandb-project=$FINGERS_WANDB_PROJECT")
run gcloud "${args[@]}"
echo "follow it:   gcloud compute instances get-serial-port-output $vm --zone $FINGERS_ZONE | grep fingers" >&2
echo "its report:  gs://$FINGERS_BUCKET/runs/$run_name/train.ipynb (written as it runs)" >&2
