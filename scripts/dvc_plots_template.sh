#!/usr/bin/env bash
# Make .dvc/plots.html, the page `dvc plots show` fills (.dvc/config: plots.html_template), with Vega, Vega-Lite and
# Vega-Embed inside it: DVC's own page loads them from a CDN and renders blank offline. The versions are DVC's own
# (dvc_render's VegaRenderer.SCRIPTS); all three are BSD-3-Clause. Needs npm (the registry) once; the page is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for pkg in vega@5.20.2 vega-lite@5.2.0 vega-embed@6.18.2; do (cd "$work" && npm pack --silent "$pkg" >/dev/null); done
script() { printf '<script>/* %s, BSD-3-Clause */\n' "$1"; tar -xzOf "$work/$1.tgz" "package/build/$2"; printf '\n</script>\n'; }
{
  printf '<!DOCTYPE html>\n<html>\n<head>\n{refresh_tag}\n<title>fingers: DVC plots</title>\n'
  script vega-5.20.2 vega.min.js
  script vega-lite-5.2.0 vega-lite.min.js
  script vega-embed-6.18.2 vega-embed.min.js
  printf '<style>table { border-spacing: 15px; }</style>\n</head>\n<body>\n{plot_divs}\n</body>\n</html>\n'
} > .dvc/plots.html.tmp
mv .dvc/plots.html.tmp .dvc/plots.html
echo "wrote .dvc/plots.html ($(wc -c < .dvc/plots.html) bytes)"
