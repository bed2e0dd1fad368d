# Sourced by bin/vocclean and bin/test: make .venv with the package installed (once).
# Reinstalls when pyproject.toml, setup.py or a compiled module (or, for tests, bench/requirements.txt)
# changes.
# $1: the pip extras to install ("" or "[test]"). The test environment is also the benchmark
# environment: the suite runs a short smoke of every benchmark, peers and baselines included,
# so "[test]" installs bench/requirements.txt too (never a dependency of vocclean itself).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
EXTRAS="${1:-}"
STAMP="$VENV/.vocclean-installed${EXTRAS:+-test}"
# setup.py and the modules it compiles (COMPILED in vocclean/native.py): an edit rebuilds them (until
# then vocclean.native runs their source, whose hash differs from the one the build recorded).
compiled="$(grep -o '"vocclean\.[a-z_.]*"' "$ROOT/vocclean/native.py" | tr -d '"' | tr . / | sed "s|^|$ROOT/|; s|$|.py|")"
# shellcheck disable=SC2086  # one path per word
want="$(cat "$ROOT/pyproject.toml" "$ROOT/setup.py" "$ROOT/vocclean/native.py" $compiled \
    ${EXTRAS:+"$ROOT/bench/requirements.txt"} | cksum)"
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
    PYTHON="${PYTHON:-python3}"
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "vocclean needs Python 3.11 or newer as '$PYTHON' (set PYTHON=/path/to/python3.11)" >&2
        exit 2
    fi
    echo "vocclean: setting up $VENV (first run, or the build changed)..." >&2
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT$EXTRAS" >&2
    if [ -n "$EXTRAS" ]; then
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r "$ROOT/bench/requirements.txt" >&2
    fi
    # Bytecode, as pip writes it for a regular install (an editable one does not): without it every
    # start compiles vocclean's modules again where PYTHONDONTWRITEBYTECODE is set (0.05-0.09 s).
    "$VENV/bin/python" -m compileall -q "$ROOT/vocclean" >/dev/null
    echo "$want" > "$STAMP"
fi
