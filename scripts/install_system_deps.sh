#!/usr/bin/env bash
# Installs the system packages Stockroom's make targets need, only those that are missing.
# Usage: scripts/install_system_deps.sh [python] [chromium] [postgres]
#   python    python3 with venv support (python3-venv)       -- for `make .venv`
#   chromium  /usr/bin/chromium (Debian's), driven by Playwright -- for the browser tests
#   postgres  PostgreSQL 15 server binaries, unless DATABASE_URL is set -- for the test cluster
# Installs with apt-get when run as root; otherwise says what to install and fails.
set -euo pipefail

PYTHON=${PYTHON:-python3}
PG_BINDIR=${PG_BINDIR:-/usr/lib/postgresql/15/bin}
missing=()

for want in "$@"; do
    case "$want" in
        python)
            if ! command -v "$PYTHON" >/dev/null || ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
                missing+=(python3 python3-venv)
            fi
            ;;
        chromium)
            [ -x /usr/bin/chromium ] || missing+=(chromium)
            ;;
        postgres)
            if [ -z "${DATABASE_URL:-}" ] && [ ! -x "$PG_BINDIR/initdb" ]; then
                missing+=(postgresql-15)
            fi
            ;;
        *)
            echo "install_system_deps.sh: unknown dependency '$want' (python, chromium, postgres)" >&2
            exit 2
            ;;
    esac
done

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages: ${missing[*]}" >&2
    echo "Install them as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "Installing system packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y "${missing[@]}"
