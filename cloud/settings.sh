#!/usr/bin/env bash
# Print the cloud settings as the scripts will use them (cloud/config.sh with your overrides), one NAME=value a line.
# The workflows append them to $GITHUB_ENV, so that they read the same file as the scripts.
#   FINGERS_PROJECT=my-project cloud/settings.sh
set -euo pipefail
# shellcheck source=cloud/config.sh
. "$(dirname "$0")/config.sh"
for name in "${!FINGERS_@}"; do printf '%s=%s\n' "$name" "${!name}"; done
