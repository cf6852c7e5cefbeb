#!/usr/bin/env bash
# A stand-in for the commands the cloud scripts run (curl, gcloud, gsutil, git, dvc, papermill, nvidia-smi): the tests
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
  curl)  # only the metadata server is asked
    url=${*: -1}; key=${url#*/computeMetadata/v1/instance/}
    [ -f "$FAKE_META/$key" ] || { echo "curl: (22) 404 for $url" >&2; exit 22; }
    cat "$FAKE_META/$key" ;;
  nvidia-smi)
    [ "${FAKE_GPU:-yes}" = yes ] || { echo "NVIDIA-SMI has failed" >&2; exit 9; }
    echo "NVIDIA L4, 23034 MiB" ;;
  git)
    if [ "$1" = clone ]; then mkdir -p "${*: -1}/nbs" && touch "${*: -1}/nbs/train.ipynb"
    elif [ "$1" = -C ] && [ "$3" = checkout ]; then [ "${FAKE_GIT:-ok}" = ok ] || { echo "fatal: reference is not a tree" >&2; exit 128; }
    fi ;;
  pip) ;;
  dvc)
    if [ "$1" = pull ]; then
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
      "secrets versions access"*) [ -n "${FAKE_WANDB_KEY:-}" ] || exit 1; printf '%s' "$FAKE_WANDB_KEY" ;;
      "compute instances delete"*|"compute instances create"*) ;;
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
