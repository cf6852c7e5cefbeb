#!/usr/bin/env bash
# The training VM's shutdown script: when the VM is stopped or preempted, copy its run folder to the bucket, so that
# `cloud/train_vm.sh --resume RUN` continues from the last checkpoint.
set -uo pipefail
attr() { curl -fsS -H "Metadata-Flavor: Google" "http://metadata.google.internal/computeMetadata/v1/instance/attributes/$1"; }
run=$(attr run) bucket=$(attr bucket)
out="${FINGERS_RUNS:-/var/lib/fingers/runs}/$run"
[ -d "$out" ] && gsutil -m -q rsync -r "$out" "gs://$bucket/runs/$run"
