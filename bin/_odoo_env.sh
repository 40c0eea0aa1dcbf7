# Sourced by bin/run, bin/test and bench/run: an Odoo 19 Python and a PostgreSQL server to use.
# Odoo comes from $ODOO_PYTHON or `python3` when one imports Odoo 19; otherwise bin/_runtime.py
# builds (once) a Python 3.12 environment with it in the per-user cache. PostgreSQL is the one the
# PG* variables name (defaults 127.0.0.1:5432, the current user); when none answers and the server
# binaries are installed, a private cluster is started in the cache (see stop_private_postgres).

die() { printf 'error: %s\n' "$*" >&2; exit 2; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Any Python 3 runs the bootstrap (it only uses the standard library): it finds Python 3.12 itself.
BOOT_PY=$(command -v python3 || command -v python3.12 || command -v python) \
    || die "no Python found: install Python 3.12 (Debian/Ubuntu: apt-get install python3.12 python3.12-venv)."
PY=$("$BOOT_PY" "$ROOT/bin/_runtime.py" odoo) || exit 2
export PATH="$(dirname "$PY"):$PATH"
# The server's own launcher (prefork workers re-execute it, so `python -m odoo` won't do).
ODOO_BIN=$(dirname "$PY")/odoo
[ -x "$ODOO_BIN" ] || ODOO_BIN=$("$PY" -c 'import odoo, os; print(os.path.join(os.path.dirname(list(odoo.__path__)[0]), "odoo-bin"))')
[ -x "$ODOO_BIN" ] || die "no Odoo launcher next to $PY (odoo) nor in the source tree (odoo-bin)."

pg_vars=$("$PY" "$ROOT/bin/_runtime.py" pg-start) || exit 2
eval "export $pg_vars"
# A private cluster started here is stopped by whoever sourced this file, at exit.
stop_private_postgres() {
    [ -z "${LEAD_ALLOCATION_PG_CLUSTER:-}" ] || "$PY" "$ROOT/bin/_runtime.py" pg-stop "$LEAD_ALLOCATION_PG_CLUSTER"
}

ODOO_DB_ARGS=(--db_host "$PGHOST" --db_port "$PGPORT" --db_user "$PGUSER")
[ -z "${PGPASSWORD:-}" ] || ODOO_DB_ARGS+=(--db_password "$PGPASSWORD")
# The repository comes first, so this checkout wins over an installed copy of the add-on.
ODOO_ADDONS_ARGS=(--addons-path "$ROOT,$("$PY" -c 'import odoo.addons, os; print(",".join(dict.fromkeys(p for p in odoo.addons.__path__ if os.path.isdir(p))))')")

# The add-on's own Python requirements and the test tools (already in a built environment;
# installed here into an environment given by ODOO_PYTHON when missing).
ensure_requirements() {
    case "$PY" in */lead_allocation/env-*/bin/python) return 0 ;; esac  # built with them
    "$PY" -m pip install --quiet --disable-pip-version-check "$@" \
        || die "could not install: $*"
}

drop_db() {
    "$PY" - "$1" <<'PYEOF'
import sys, psycopg2
cnx = psycopg2.connect(dbname="postgres")
cnx.autocommit = True
cnx.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % sys.argv[1])
PYEOF
}
