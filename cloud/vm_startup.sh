#!/usr/bin/env bash
# The training VM's startup script (cloud/train_vm.sh sets it): install the project at the given commit, pull the data,
# run the training notebook with papermill into the bucket, copy the run folder there, and delete this VM, whatever
# happens. Its settings come from the VM's metadata. (FINGERS_WORKDIR, FINGERS_VENV and FINGERS_RUNS move its folders:
# the tests run it against stand-in commands.)
set -uo pipefail
meta() { curl -fsS -H "Metadata-Flavor: Google" "http://metadata.google.internal/computeMetadata/v1/instance/$1"; }
attr() { meta "attributes/$1" 2>/dev/null || printf '%s' "${2:-}"; }
log() { echo "fingers-train: $*"; }

vm=$(meta name); zone=$(meta zone); zone=${zone##*/}
run=$(attr run); bucket=$(attr bucket); commit=$(attr commit); git_url=$(attr git-url); resume=$(attr resume false)
params=$(attr params); max_seconds=$(attr max-seconds 7200)
# Training stops this much before the VM's own deadline, which leaves time to save the run folder and delete the VM.
train_seconds=$(attr train-seconds $((max_seconds > 1200 ? max_seconds - 600 : max_seconds / 2)))
wandb_secret=$(attr wandb-secret); wandb_project=$(attr wandb-project fingers)
work=${FINGERS_WORKDIR:-/opt/fingers} venv=${FINGERS_VENV:-/opt/fingers-venv} runs=${FINGERS_RUNS:-/var/lib/fingers/runs}
out="$runs/$run" remote="gs://$bucket/runs/$run"
sync_pid=""

save_run() { [ -d "$out" ] && gsutil -m -q rsync -r "$out" "$remote"; }

# shellcheck disable=SC2329  # run by the trap below
finish() {
  local status=$?
  if [ -n "$sync_pid" ]; then pkill -P "$sync_pid" 2>/dev/null; kill "$sync_pid" 2>/dev/null; wait "$sync_pid" 2>/dev/null; fi
  log "finished with status $status; saving $out to $remote"
  save_run || log "could not save the run folder"
  log "deleting this VM ($vm)"
  gcloud compute instances delete "$vm" --zone "$zone" --quiet
}
trap finish EXIT

[ -n "$run" ] && [ -n "$bucket" ] && [ -n "$commit" ] || { log "the VM's metadata lacks run, bucket or commit"; exit 1; }
log "run $run, commit $commit, bucket $bucket"
nvidia-smi || { log "no GPU visible"; exit 1; }
if ! { git clone --quiet "$git_url" "$work" && git -C "$work" checkout --quiet "$commit"; }; then
  log "cannot check out $commit"; exit 1
fi
[ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
# gcsfs lets papermill write the executed notebook straight to gs://; dvc-gs lets DVC pull from the bucket.
"$venv/bin/pip" install --quiet -e "${work}[train]" gcsfs dvc-gs || { log "install failed"; exit 1; }
export PATH="$venv/bin:$PATH"
cd "$work" || exit 1
if ! { dvc remote add --local --force gcs "gs://$bucket/dvc" && dvc pull --remote gcs data.dvc; }; then
  log "dvc pull failed"; exit 1
fi

mkdir -p "$out"
extra=()
if [ "$resume" = true ]; then
  log "resuming from $remote"
  gsutil -m -q rsync -r "$remote" "$out" || { log "nothing to resume in $remote"; exit 1; }
  [ -f "$out/checkpoint.pt" ] || { log "no checkpoint in $remote"; exit 1; }
  extra+=(-p resume True)
fi
if [ -n "$wandb_secret" ] && key=$(gcloud secrets versions access latest --secret "$wandb_secret" 2>/dev/null) \
   && [ -n "$key" ]; then
  export WANDB_API_KEY="$key"; log "W&B online: the model is logged as an artifact (key from Secret Manager)"
else log "W&B offline (no key in Secret Manager): the run is in $remote/wandb"; fi
unset key
IFS=';' read -r -a pairs <<< "$params"
for pair in "${pairs[@]}"; do [ -n "$pair" ] && extra+=(-p "${pair%%=*}" "${pair#*=}"); done

# A preempted VM loses at most two minutes: the run folder (checkpoint included) is copied to the bucket as it grows.
( while sleep 120 >/dev/null 2>&1; do save_run; done ) & sync_pid=$!
timeout --kill-after 60 "$train_seconds" papermill nbs/train.ipynb "$remote/train.ipynb" -p out "$out" \
  -p data "$work/data/fingers.zip" -p device cuda -p wandb_project "$wandb_project" "${extra[@]}"
status=$?
[ $status -eq 124 ] && log "training ran past $train_seconds s and was stopped"
exit $status
