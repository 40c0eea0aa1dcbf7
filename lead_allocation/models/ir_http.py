"""Database faults during a webhook request: a retryable JSON answer, never a 500 page.

When PostgreSQL drops a connection of the request (``pg_terminate_backend``, a restart, a
network cut) after Odoo matched the webhook's route (while the handler runs, while Odoo
prepares the request or commits it, or in the hooks run after the commit, such as mail's
sending of the assignment e-mail on a cursor of its own), psycopg2 raises
``OperationalError``, then ``InterfaceError`` on every later use of the connection. Odoo's
request loop (``odoo.service.model.retrying``) cannot roll back on a dead connection
either, and hands the error to ``ir.http._handle_error``, which answers ``500`` with an
HTML page. A retry with the same ``Idempotency-Key`` is safe in every case (the lead is
then made, or found if it was committed), so the webhook answers ``503`` with
``Retry-After`` in its JSON error shape instead: for every ``OperationalError`` and
``InterfaceError`` that reaches Odoo's error handler (the other ones PostgreSQL raises on a
live connection, such as a statement timeout or a full disk, mean "try later" as well).

Serialization failures and lock timeouts are replayed by ``retrying`` first; every other
error and every other route is left to Odoo.
"""

import psycopg2

from odoo import models
from odoo.http import request

from ..intake import BATCH_ROUTE, WEBHOOK_ROUTE, IntakeError

FAULT_TOLERANT_PATHS = frozenset({WEBHOOK_ROUTE, BATCH_ROUTE})
RETRY_AFTER_SECONDS = 2  # documented in the OpenAPI description and README


def database_fault(exception):
    """Whether ``exception`` means the database could not serve the request."""
    return isinstance(exception, psycopg2.OperationalError | psycopg2.InterfaceError)


def database_unavailable_response():
    error = IntakeError(
        "database_unavailable",
        "The database could not complete the request. Retry after Retry-After seconds "
        "with the same Idempotency-Key: the lead is made once.",
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
        if request.httprequest.path in FAULT_TOLERANT_PATHS and database_fault(exception):
            return database_unavailable_response()
        return super()._handle_error(exception)
