#!/usr/bin/env bash
# A stand-in for the commands the cloud scripts run (curl, gcloud, gsutil, git, uv, dvc, papermill, nvidia-smi): the tests
# link it under each name on PATH. It appends its call to $FAKE_CALLS, one line each ("NAME ARG..." quoted as bash
# would), and acts just enough for the scripts to go on: gs://BUCKET/PATH is the folder $FAKE_GCS/BUCKET/PATH, the
# VM's metadata is the files in $FAKE_META, and FAKE_* variables choose failures.
set -uo pipefail
name=$(basename "$0")
{ printf '%s' "$name"; [ $# -eq 0 ] || printf ' %q' "$@"; echo; } >> "$FAKE_CALLS"
local_path() { case "$1" in gs://*) echo "$FAKE_GCS/${1#gs://}" ;; *) echo "$1" ;; esac; }
param() {  # param NAME ARG...: the value of `-p NAME VALUE` among the arguments
  local want=$1; shift
  while [ $# -gt 0 ]; do [ "$1" = -p ] && [ "$2" = "$want" ] && { echo "$3"; return 0; }; shift; done
  return 1
}

case "$name" in
  curl)  # the metadata server, or the service under test (FAKE_SMOKE: ok, or fail for a revision that never gets ready)
    url=""; for a in "$@"; do case "$a" in http*) url=$a ;; esac; done
    case "$url" in
      */computeMetadata/v1/instance/*)
        key=${url#*/computeMetadata/v1/instance/}
        [ -f "$FAKE_META/$key" ] || { echo "curl: (22) 404 for $url" >&2; exit 22; }
        cat "$FAKE_META/$key" ;;
      */ready) [ "${FAKE_SMOKE:-ok}" = ok ] || { echo "curl: (22) 503" >&2; exit 22; }; echo '{"ready": true}' ;;
      */predict)
        # the header, on stdin; the service's key is FAKE_SERVICE_KEY (default: the one in Secret Manager, FAKE_API_KEY)
        grep -qx "X-API-Key: ${FAKE_SERVICE_KEY:-${FAKE_API_KEY:-}}" || { echo "curl: (22) 401" >&2; exit 22; }
        echo '{"model_version": "v", "predictions": [{"label": "3R"}]}' ;;
      *) echo "stand-in curl: $url is not simulated" >&2; exit 3 ;;
    esac ;;
  nvidia-smi)
    [ "${FAKE_GPU:-yes}" = yes ] || { echo "NVIDIA-SMI has failed" >&2; exit 9; }
    echo "NVIDIA L4, 23034 MiB" ;;
  git)
    if [ "$1" = clone ]; then mkdir -p "${*: -1}/nbs" && touch "${*: -1}/nbs/train.ipynb"
    elif [ "$1" = -C ] && [ "$3" = checkout ]; then [ "${FAKE_GIT:-ok}" = ok ] || { echo "fatal: reference is not a tree" >&2; exit 128; }
    fi ;;
  uv)
    if [ "$1" = venv ]; then mkdir -p "${*: -1}/bin" && ln -sf "$(command -v "${FAKE_PYTHON:-python3}")" "${*: -1}/bin/python"; fi ;;
  dvc)
    if [ "$1" = pull ]; then
      sleep "${FAKE_DVC_SECONDS:-0}"
      [ "${FAKE_DVC:-ok}" = ok ] || { echo "ERROR: failed to pull data from the cloud" >&2; exit 1; }
      mkdir -p data && echo archive > data/fingers.zip
    fi ;;
  gsutil)
    args=(); for a in "$@"; do case "$a" in -m|-q|-r) ;; *) args+=("$a") ;; esac; done
    case "${args[0]}" in
      stat) [ -e "$(local_path "${args[1]}")" ] ;;
      rsync) src=$(local_path "${args[1]}") dst=$(local_path "${args[2]}")
             [ -d "$src" ] || { echo "CommandException: $src: no such folder" >&2; exit 1; }
             mkdir -p "$dst" && cp -a "$src/." "$dst/" ;;
      *) echo "stand-in gsutil: ${args[0]} is not simulated" >&2; exit 3 ;;
    esac ;;
  gcloud)
    case "$*" in
      "secrets versions access latest --secret wandb-api-key"*)
        [ -n "${FAKE_WANDB_KEY:-}" ] || exit 1; printf '%s' "$FAKE_WANDB_KEY" ;;
      "secrets versions access latest --secret fingers-api-key"*) printf '%s' "$FAKE_API_KEY" ;;
      "compute instances delete"*|"compute instances create"*) ;;
      "run services describe"*)  # FAKE_SERVICE: none (not deployed yet), denied, or the revision serving now
        state=${FAKE_SERVICE:-none}
        [ "$state" = none ] && [ -f "$FAKE_GCS/service.yaml" ] && state=just-made
        case "$state" in
          none) echo "ERROR: (gcloud.run.services.describe) Cannot find service [fingers]" >&2; exit 1 ;;
          denied) echo "ERROR: (gcloud.run.services.describe) PERMISSION_DENIED: Permission denied" >&2; exit 1 ;;
          *) if [[ "$*" == *json* ]]; then
               printf '{"status": {"url": "https://fingers-abc.a.run.app", "traffic": [%s]}}\n' \
                 "{\"revisionName\": \"old-candidate\", \"percent\": 0}, {\"revisionName\": \"$FAKE_SERVICE\", \"percent\": 100}"
             else echo "https://fingers-abc.a.run.app"; fi ;;
        esac ;;
      "run services replace"*) cp "$4" "$FAKE_GCS/service.yaml" ;;
      "run services add-iam-policy-binding"*|"run services update-traffic"*) ;;
      *) echo "stand-in gcloud: $* is not simulated" >&2; exit 3 ;;
    esac ;;
  papermill)  # writes what a run writes, as FAKE_PAPERMILL says: ok, fail, hang or preempt (checkpoint, then hang)
    out=$(param out "$@") || { echo "papermill stand-in: no -p out" >&2; exit 1; }
    mkdir -p "$out"
    echo "wandb key: ${WANDB_API_KEY:+set}" >> "$FAKE_CALLS"
    if [ "$(param resume "$@")" = True ]; then
      [ -f "$out/checkpoint.pt" ] || { echo "resume without a checkpoint" >&2; exit 1; }
      echo "resumed from: $(cat "$out/checkpoint.pt")" >> "$FAKE_CALLS"
    fi
    report=$(local_path "$2"); mkdir -p "$(dirname "$report")"; echo '{"cells": []}' > "$report"
    case "${FAKE_PAPERMILL:-ok}" in
      ok) echo "epoch 2" > "$out/checkpoint.pt"; echo onnx > "$out/model.onnx"; echo '{"accuracy": 1}' > "$out/metrics.json" ;;
      fail) echo "epoch 1" > "$out/checkpoint.pt"; echo "PapermillExecutionError: boom" >&2; exit 1 ;;
      hang) exec sleep 600 ;;
      preempt) echo "epoch 1" > "$out/checkpoint.pt"; touch "$FAKE_GCS/.checkpoint-written"; exec sleep 600 ;;
    esac ;;
  *) echo "stand-in: $name is not simulated" >&2; exit 3 ;;
esac
