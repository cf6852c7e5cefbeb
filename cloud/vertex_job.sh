#!/usr/bin/env bash
# Train on Vertex AI with the train image: one GPU (the training notebook, as on a VM), or several (the training loop
# data-parallel under torchrun), the run folder in gs://BUCKET/runs/RUN.
#
#   cloud/vertex_job.sh [--dry-run] [--gpus N] [--tag TAG] RUN [-p NAME VALUE]...
#     --gpus N   GPUs on the one machine: 1, 2, 4 or 8 (default FINGERS_GPU_COUNT); with more than one, the training
#                loop runs data-parallel under torchrun (fingers fit), then the notebook finishes the run (--resume)
#     --tag TAG  the train image's tag (default: this commit, as cloud/build.sh pushes it)
# shellcheck source=cloud/lib.sh
. "$(dirname "$0")/lib.sh"

gpus=$FINGERS_GPU_COUNT tag="" run_name="" params=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=true ;;
    --gpus) gpus=${2:?--gpus takes a number}; shift ;;
    --tag) tag=${2:?--tag takes a tag}; shift ;;
    -p) [ $# -ge 3 ] || die "-p takes a NAME and a VALUE"; params+=(-p "$2" "$3"); shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) [ -z "$run_name" ] || die "one RUN name only"; run_name=$1 ;;
  esac
  shift
done
[ -n "$run_name" ] || die "usage: cloud/vertex_job.sh [--dry-run] [--gpus N] RUN [-p NAME VALUE]..."
[[ "$gpus" =~ ^(1|2|4|8)$ ]] || die "--gpus must be 1, 2, 4 or 8, got $gpus"
# An L4 machine holds a fixed number of GPUs: g2-standard-8 one, -24 two, -48 four, -96 eight.
machine=$FINGERS_MACHINE_TYPE
if [ "$FINGERS_GPU_TYPE" = nvidia-l4 ] && [ "$gpus" -gt 1 ]; then
  case "$gpus" in 2) machine=g2-standard-24 ;; 4) machine=g2-standard-48 ;; 8) machine=g2-standard-96 ;; esac
fi
out="/gcs/$FINGERS_BUCKET/runs/$run_name"
data=(-p data "/gcs/$FINGERS_BUCKET/data/fingers.zip" -p device cuda)
json() { python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@"; }
VERTEX_ARGS=$(json "$out" "${data[@]}" "${params[@]}")
if [ "$gpus" -eq 1 ]; then
  VERTEX_COMMAND=$(json fingers train --out)
else  # the loop data-parallel on every GPU, then the notebook resumes the finished run: export, card, report
  VERTEX_COMMAND=$(json bash -c "torchrun --standalone --nproc_per_node $gpus -m fingers.cli fit --out \"\$0\" \"\$@\" \
&& fingers train --out \"\$0\" --resume \"\$@\"")
fi
VERTEX_ACCELERATOR=$(echo "$FINGERS_GPU_TYPE" | tr 'a-z-' 'A-Z_')
TAG=${tag:-$(commit)} FINGERS_GPU_COUNT=$gpus FINGERS_MACHINE_TYPE=$machine
export VERTEX_COMMAND VERTEX_ARGS VERTEX_ACCELERATOR TAG FINGERS_GPU_COUNT FINGERS_MACHINE_TYPE
spec=$(mktemp --suffix .yaml); trap 'rm -f "$spec"' EXIT
render "$here/vertex_job.yaml" > "$spec"
[ "$DRY_RUN" = true ] && { echo "# $spec:"; sed 's/^/#   /' "$spec"; }
run gcloud ai custom-jobs create --project "$FINGERS_PROJECT" --region "$FINGERS_REGION" \
  --display-name "fingers-$run_name" --config "$spec"
