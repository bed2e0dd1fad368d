# Sourced by bin/vocclean and bin/test: make .venv with the package installed (once).
# Reinstalls when pyproject.toml (or, for tests, bench/requirements.txt) changes.
# $1: the pip extras to install ("" or "[test]"). The test environment is also the benchmark
# environment: the suite runs a short smoke of every benchmark, peers and baselines included,
# so "[test]" installs bench/requirements.txt too (never a dependency of vocclean itself).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
EXTRAS="${1:-}"
STAMP="$VENV/.vocclean-installed${EXTRAS:+-test}"
want="$(cat "$ROOT/pyproject.toml" ${EXTRAS:+"$ROOT/bench/requirements.txt"} | cksum)"
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
    PYTHON="${PYTHON:-python3}"
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "vocclean needs Python 3.11 or newer as '$PYTHON' (set PYTHON=/path/to/python3.11)" >&2
        exit 2
    fi
    echo "vocclean: setting up $VENV (first run only)..." >&2
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT$EXTRAS" >&2
    if [ -n "$EXTRAS" ]; then
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r "$ROOT/bench/requirements.txt" >&2
    fi
    echo "$want" > "$STAMP"
fi
