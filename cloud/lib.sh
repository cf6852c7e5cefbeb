# shellcheck shell=bash
# What the cloud scripts share: the settings (config.sh), --dry-run, and running a command or printing it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"   # the checkout
# shellcheck source=cloud/config.sh
. "$here/config.sh"

DRY_RUN=false

# run CMD...: run a command, or with --dry-run print it, quoted so that it can be pasted into a shell.
run() {
  if [ "$DRY_RUN" = true ]; then
    local out="" arg
    for arg in "$@"; do
      if [[ "$arg" =~ ^[A-Za-z0-9_./:=,@+%-]+$ ]]; then out+="$arg "; else out+="'${arg//\'/\'\\\'\'}' "; fi
    done
    echo "${out% }"
  else
    "$@"
  fi
}

# quietly CMD...: run a command with its standard output dropped (a dry run still prints the command).
quietly() { if [ "$DRY_RUN" = true ]; then run "$@"; else run "$@" >/dev/null; fi; }

die() { echo "$(basename "$0"): $*" >&2; exit 2; }

# The commit to build or train: the checked-out one, or FINGERS_COMMIT.
commit() { echo "${FINGERS_COMMIT:-$(git -C "$root" rev-parse HEAD)}"; }

# render FILE: the file with each ${NAME} replaced by the environment's value of NAME (unknown names are an error).
render() {
  python3 -c 'import os, string, sys
try: print(string.Template(open(sys.argv[1]).read()).substitute(os.environ), end="")
except KeyError as e: sys.exit(f"{sys.argv[1]}: no value for {e}")' "$1"
}
