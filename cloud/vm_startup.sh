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
params=$(attr params); deadline=$(attr deadline $(( $(date +%s) + 7200 )))
gpu_wait=$(attr gpu-wait 600) save_seconds=$(attr save-seconds 600)
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
  gcloud compute instances delete "$vm" --zone "$zone" --quiet --async
}
trap finish EXIT

[ -n "$run" ] && [ -n "$bucket" ] && [ -n "$commit" ] || { log "the VM's metadata lacks run, bucket or commit"; exit 1; }
log "run $run, commit $commit, bucket $bucket"
# The GPU driver may still be installing on a first boot: wait for it, up to gpu-wait seconds.
waited=0
until nvidia-smi; do
  [ "$waited" -ge "$gpu_wait" ] && { log "no GPU visible after $gpu_wait s"; exit 1; }
  sleep 10; waited=$((waited + 10))
done
if [ ! -d "$work/.git" ] && ! git clone --quiet "$git_url" "$work"; then log "cannot clone $git_url"; exit 1; fi
git -C "$work" checkout --quiet "$commit" || { log "cannot check out $commit"; exit 1; }
# Python 3.11 (the Deep Learning VM's own is older), with uv: it installs Python itself, and quickly.
if ! command -v uv >/dev/null; then
  curl -LsSf https://astral.sh/uv/install.sh | env UV_INSTALL_DIR=/usr/local/bin INSTALLER_NO_MODIFY_PATH=1 sh \
    || { log "cannot install uv"; exit 1; }
fi
[ -x "$venv/bin/python" ] || uv venv --quiet --python 3.11 "$venv" || { log "cannot make a Python 3.11 venv"; exit 1; }
"$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { log "$venv is not Python 3.11+"; exit 1; }
# gcsfs lets papermill write the executed notebook straight to gs://; dvc-gs lets DVC pull from the bucket.
uv pip install --quiet --python "$venv/bin/python" -e "${work}[train]" gcsfs dvc-gs || { log "install failed"; exit 1; }
export PATH="$venv/bin:$PATH"
cd "$work" || exit 1
if ! { dvc remote add --local --force gcs "gs://$bucket/dvc" && dvc pull --remote gcs data.dvc; }; then
  log "dvc pull failed"; exit 1
fi

mkdir -p "$out"
extra=()
if [ -f "$out/checkpoint.pt" ]; then resume=local; fi     # this VM was restarted mid-run: go on from its own checkpoint
if [ "$resume" = true ]; then
  log "resuming from $remote"
  gsutil -m -q rsync -r "$remote" "$out" || { log "nothing to resume in $remote"; exit 1; }
  [ -f "$out/checkpoint.pt" ] || { log "no checkpoint in $remote"; exit 1; }
fi
[ "$resume" = false ] || extra+=(-p resume True)
if [ -n "$wandb_secret" ] && key=$(gcloud secrets versions access latest --secret "$wandb_secret" 2>/dev/null) \
   && [ -n "$key" ]; then
  export WANDB_API_KEY="$key"; log "W&B online: the model is logged as an artifact (key from Secret Manager)"
else log "W&B offline (no key in Secret Manager): the run is in $remote/wandb"; fi
unset key
IFS=';' read -r -a pairs <<< "$params"
for pair in "${pairs[@]}"; do [ -n "$pair" ] && extra+=(-p "${pair%%=*}" "${pair#*=}"); done

# Training stops ten minutes (save-seconds) before Compute Engine deletes the VM: time to save the run folder.
train_seconds=$(( deadline - $(date +%s) - save_seconds ))
[ "$train_seconds" -gt 0 ] || { log "only $train_seconds s left before the VM's deadline: not starting"; exit 1; }
# A preempted VM loses at most two minutes: the run folder (checkpoint included) is copied to the bucket as it grows.
( while sleep 120 >/dev/null 2>&1; do save_run; done ) & sync_pid=$!
timeout --kill-after 60 "$train_seconds" papermill nbs/train.ipynb "$remote/train.ipynb" -p out "$out" \
  -p data "$work/data/fingers.zip" -p device cuda -p wandb_project "$wandb_project" "${extra[@]}"
status=$?
[ $status -eq 124 ] && log "training ran past $train_seconds s and was stopped"
exit $status
