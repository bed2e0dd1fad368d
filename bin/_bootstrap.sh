# Sourced by bin/vocclean and bin/test: make .venv with the package installed (once).
# Reinstalls when pyproject.toml changes. $1: the pip extras to install ("" or "[test]").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
EXTRAS="${1:-}"
STAMP="$VENV/.vocclean-installed${EXTRAS:+-test}"
want="$(cat "$ROOT/pyproject.toml" | cksum)"
if [ ! -x "$VENV/bin/python" ] || [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
    PYTHON="${PYTHON:-python3}"
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "vocclean needs Python 3.11 or newer as '$PYTHON' (set PYTHON=/path/to/python3.11)" >&2
        exit 2
    fi
    echo "vocclean: setting up $VENV (first run only)..." >&2
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT$EXTRAS" >&2
    echo "$want" > "$STAMP"
fi
