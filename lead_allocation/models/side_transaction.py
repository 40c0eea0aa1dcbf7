"""Short transactions of their own, for the draws of ``lead.allocation.state``, on
connections that each process keeps open between requests.

A draw's transaction is what a lone request pays for the rotation, so it costs as few
round trips and as little planning as it can: its statements are prepared once per
connection (a connection lent by Odoo's pool is reset first, DISCARD ALL, which would drop
them), BEGIN travels with the first statement and COMMIT with the last. A kept connection
that the server closed meanwhile (a restart, the database dropped, the backend terminated)
is replaced at the first statement of a transaction, before anything was done on it.
"""

import itertools
import os
import re
import threading
import time
from contextlib import contextmanager

import psycopg2

from odoo import sql_db

KEPT = 2  # idle connections kept per process and database
_kept = {}  # {(process id, database): [(connection, last used)]}; a fork's are not touched
_mutex = threading.Lock()

BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED;"
COMMIT = ";COMMIT"


class _Connection(psycopg2.extensions.connection):
    """A kept connection: autocommit (BEGIN and COMMIT are sent with the statements), and
    the names of the statements prepared on it."""

    def __init__(self, dsn, *args, **kwargs):
        super().__init__(dsn, *args, **kwargs)
        self.autocommit = True
        self.prepared = set()


class SideTransaction:
    """A READ COMMITTED transaction on a kept connection, with the statements of
    ``prepared`` (``{name: statement}``, parameters ``$1``…) prepared on it: each
    statement sees what committed before it, the wait for a lock included. Its cursor's
    ``execute``, ``fetchone`` and ``fetchall``; ``commit(query, params)`` runs a last
    statement and commits in one round trip."""

    def __init__(self, dbname, prepared):
        self.dbname, self.prepared = dbname, prepared
        self.connection = self.cursor = None
        self.begun = False

    def execute(self, query, params=None):
        if self.begun:
            return self.cursor.execute(query, params)
        self.begun = True
        for attempt in (1, 2):
            # the second time a new connection: the other kept ones may be lost as well
            self.connection = _take(self.dbname, self.prepared, kept=attempt == 1)
            self.cursor = self.connection.cursor()
            try:
                # the statement begins the transaction: no round trip of its own
                return self.cursor.execute(BEGIN + query, params)
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                if attempt == 2 or not self.connection.closed:
                    raise
                self.connection = None  # closed by the server while kept: a new one

    def fetchone(self):
        return self.cursor.fetchone()

    def fetchall(self):
        return self.cursor.fetchall()

    def commit(self, query="", params=None):
        if not self.begun:
            return
        self.cursor.execute(query + COMMIT if query else COMMIT[1:], params)
        self.begun = False

    def rollback(self):
        if self.begun and self.connection and not self.connection.closed:
            self.cursor.execute("ROLLBACK")
        self.begun = False


@contextmanager
def side_transaction(dbname, prepared):
    """A ``SideTransaction`` on database ``dbname``, committed on leaving the block (by its
    ``commit``, or here), rolled back if the block raised."""
    transaction = SideTransaction(dbname, prepared)
    try:
        yield transaction
        transaction.commit()
    except BaseException:
        try:
            transaction.rollback()
        except psycopg2.Error:
            _close(transaction.connection)
            transaction.connection = None
        raise
    finally:
        if transaction.connection:
            _give_back(dbname, transaction.connection)


def numbered(query):
    """``query`` with its ``%s`` placeholders numbered ``$1``, ``$2``…, for PREPARE."""
    count = itertools.count(1)
    return re.sub("%s", lambda _match: f"${next(count)}", query)


def _take(dbname, prepared, kept=True):
    """An idle kept connection to ``dbname`` (``kept``) or a new one, with ``prepared``
    prepared on it."""
    now, key = time.monotonic(), (os.getpid(), dbname)
    with _mutex:
        idle = _kept.setdefault(key, [])
        fresh = [(cnx, used) for cnx, used in idle if now - used < sql_db.MAX_IDLE_TIMEOUT]
        stale = [cnx for cnx, used in idle if now - used >= sql_db.MAX_IDLE_TIMEOUT]
        idle[:] = fresh
        connection = idle.pop()[0] if idle and kept else None
    for cnx in stale:
        _close(cnx)
    if connection is None:
        info = sql_db.connection_info_for(dbname)[1]
        connection = psycopg2.connect(connection_factory=_Connection, **info)
    missing = [name for name in prepared if name not in connection.prepared]
    if missing:
        with connection.cursor() as cursor:
            for name in missing:
                cursor.execute(f"PREPARE {name} AS {prepared[name]}")
        connection.prepared.update(missing)
    return connection


def _give_back(dbname, connection):
    with _mutex:
        idle = _kept.setdefault((os.getpid(), dbname), [])
        if not connection.closed and len(idle) < KEPT:
            idle.append((connection, time.monotonic()))
            return
    _close(connection)


def _close(connection):
    if connection is not None and not connection.closed:
        connection.close()
