"""Database faults during a webhook request: a retryable JSON answer, never a 500 page.

When PostgreSQL terminates the request's connection (``pg_terminate_backend``, a restart,
a network cut) after Odoo matched the webhook's route (while the handler runs, or while
Odoo prepares the request or commits it), psycopg2 raises ``OperationalError``, then
``InterfaceError`` on every later use of the connection. Odoo's request loop
(``odoo.service.model.retrying``) cannot roll back on the dead connection either and hands
the error to ``ir.http._handle_error``, which answers ``500`` with an HTML page. Nothing of
the request can have been committed once the connection died before the commit's answer,
and a retry with the same ``Idempotency-Key`` is safe in every case, so the webhook answers
``503`` with ``Retry-After`` in its JSON error shape instead.

Serialization failures and lock timeouts (``retrying`` replays them itself), errors on a
live connection and every other route are left to Odoo.
"""

import psycopg2

from odoo import models
from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from ..intake import IntakeError

FAULT_TOLERANT_PATHS = frozenset({"/lead_allocation/webhook"})
RETRY_AFTER_SECONDS = 2  # documented in the OpenAPI description and README


def connection_lost(exception):
    """Whether ``exception`` means the request's database connection is gone."""
    if not isinstance(exception, psycopg2.OperationalError | psycopg2.InterfaceError):
        return False
    if isinstance(exception, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
        return False
    env = getattr(request, "env", None)
    return env is not None and bool(env.cr.closed)


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


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _handle_error(cls, exception):
        if request.httprequest.path in FAULT_TOLERANT_PATHS and connection_lost(exception):
            return database_unavailable_response()
        return super()._handle_error(exception)
