"""Database faults during a webhook request: a retryable JSON answer, never a 500 page.

When PostgreSQL terminates the request's connection (``pg_terminate_backend``, a restart,
a network cut) while the handler runs, psycopg2 raises ``OperationalError`` (then
``InterfaceError`` on every later use of the connection). Left to Odoo, its request loop
(``odoo.service.model.retrying``) tries to roll back on the dead connection, fails again and
answers ``500`` with an HTML page. Nothing of the request was committed (the transaction
died with its connection), so the honest answer is "try again": ``503`` with
``Retry-After`` in the webhook's JSON error shape. A client that retries with the same
``Idempotency-Key`` gets exactly one lead.

Serialization failures and lock timeouts (``retrying`` replays them itself) and errors on a
live connection are left to Odoo.
"""

import functools

import psycopg2

from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from ..intake import IntakeError

RETRY_AFTER_SECONDS = 2  # documented in the OpenAPI description and README


def database_unavailable_response():
    error = IntakeError(
        "database_unavailable",
        "The database is unavailable right now; nothing was saved. "
        "Retry later with the same Idempotency-Key.",
        status=503,
    )
    return request.make_json_response(
        {"error": error.to_dict()},
        headers=[("Retry-After", str(RETRY_AFTER_SECONDS))],
        status=error.status,
    )


def connection_lost(error):
    """Whether ``error`` means the request's database connection is gone."""
    if isinstance(error, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
        return False
    return bool(request.env.cr.closed)


def answers_database_faults(route):
    """Decorate a route (under ``@http.route``): a lost connection answers 503."""

    @functools.wraps(route)
    def wrapper(*args, **kwargs):
        try:
            return route(*args, **kwargs)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as error:
            if not connection_lost(error):
                raise
            # Nothing can reach the database any more: drop the pending ORM writes and
            # pre-commit hooks, so that Odoo's request loop has nothing to flush. It then
            # skips the commit (the cursor reports itself closed) and the pool discards
            # the dead connection.
            request.env.cr.clear()
            request.env.cr.postcommit.clear()
            return database_unavailable_response()

    return wrapper
