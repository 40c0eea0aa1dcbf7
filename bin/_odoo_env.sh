# Sourced by bin/run, bin/test and bench/run: find an importable Odoo 19 and PostgreSQL.
# Odoo is a prerequisite (no package index serves it): set ODOO_PYTHON to the Python that
# imports it, or have it importable from `python3`, or in /opt/odoo19-venv.
# PostgreSQL is reached with the usual PG* variables (defaults: 127.0.0.1:5432, current user).

die() { printf 'error: %s\n' "$*" >&2; exit 2; }

find_odoo_python() {
    local candidate
    for candidate in "${ODOO_PYTHON:-}" python3 /opt/odoo19-venv/bin/python; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import odoo.release as r, sys; sys.exit(r.version_info[0] != 19)' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

PY=$(find_odoo_python) || die "Odoo 19.0 is not importable: install Odoo 19.0 Community in a Python 3.12
environment (for instance /opt/odoo19-venv) or set ODOO_PYTHON to a Python that can 'import odoo'."
export PATH="$(dirname "$PY"):$PATH"
# The server's own launcher (prefork workers re-execute it, so `python -m odoo` won't do).
ODOO_BIN=$(dirname "$PY")/odoo
[ -x "$ODOO_BIN" ] || ODOO_BIN=$("$PY" -c 'import odoo, os; print(os.path.join(os.path.dirname(list(odoo.__path__)[0]), "odoo-bin"))')
[ -x "$ODOO_BIN" ] || die "no Odoo launcher next to $PY (odoo) nor in the source tree (odoo-bin)."

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-$(id -un)}"
[ "$PGUSER" != postgres ] || die "Odoo refuses to connect as 'postgres': set PGUSER to another role (LOGIN CREATEDB)."
"$PY" - <<'PYEOF' || die "PostgreSQL is not reachable at $PGHOST:$PGPORT as $PGUSER (set PGHOST, PGPORT, PGUSER, PGPASSWORD)."
import sys, psycopg2
try:
    psycopg2.connect(dbname="postgres", connect_timeout=5).close()
except psycopg2.Error as error:
    sys.exit(str(error).strip())
PYEOF

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_DB_ARGS=(--db_host "$PGHOST" --db_port "$PGPORT" --db_user "$PGUSER")
[ -z "${PGPASSWORD:-}" ] || ODOO_DB_ARGS+=(--db_password "$PGPASSWORD")
# The repository comes first, so this checkout wins over an installed copy of the add-on.
ODOO_ADDONS_ARGS=(--addons-path "$ROOT,$("$PY" -c 'import odoo.addons, os; print(",".join(dict.fromkeys(p for p in odoo.addons.__path__ if os.path.isdir(p))))')")

# Install the add-on's own Python requirements (and the test tools) when missing.
ensure_requirements() {
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
