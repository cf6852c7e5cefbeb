#!/usr/bin/env bash
# Write README.md from nbs/index.ipynb (Quarto, which nbdev-readme needs, is not required).
# With --check, only compare and exit 1 if README.md is out of date.
set -euo pipefail
cd "$(dirname "$0")/.."
JUPYTER="${JUPYTER:-$( [ -x .venv/bin/jupyter ] && echo .venv/bin/jupyter || echo jupyter )}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$JUPYTER" nbconvert --log-level=ERROR --to markdown --output-dir "$tmp" --output README nbs/index.ipynb
if [ "${1:-}" = "--check" ]; then
  diff -u README.md "$tmp/README.md" >&2 || { echo "README.md is out of date: run 'bash scripts/readme.sh'" >&2; exit 1; }
else
  mv "$tmp/README.md" README.md
fi
