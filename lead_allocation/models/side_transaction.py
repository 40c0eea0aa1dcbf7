"""Short transactions of their own, for the draws of ``lead.allocation.state``, on
connections that each process keeps open between requests.

A draw's transaction is what a lone request pays for the rotation, so it costs as few
round trips and as little planning as it can: its statements are prepared once per
connection (a connection lent by Odoo's pool is reset first, DISCARD ALL, which would drop
them), BEGIN travels with the first statement and COMMIT with the last.

A connection is kept only when its transaction ended cleanly, committed or rolled back
after an error of the caller's; after a database error it is closed. A kept connection that
cannot run the first statement of a transaction (the server closed it: a restart, the
backend terminated; or its prepared statements no longer fit: a column's type changed) is
closed and replaced by a new one, before anything was done on it.
Like Odoo's pool, each process keeps as many as it used at once (up to ``KEPT`` per
database), and closes those idle for ``MAX_IDLE_TIMEOUT``; a forked process leaves its
parent's alone.
"""

import itertools
import os
import re
import threading
import time
from contextlib import contextmanager

import psycopg2
from psycopg2.extensions import TRANSACTION_STATUS_IDLE

from odoo import sql_db

KEPT = 16  # idle connections kept at most per process and database
_kept = {}  # {(process id, database): [(connection, last used)]}; a fork's are not touched
_mutex = threading.Lock()

BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED;"
COMMIT = "COMMIT"
# errors of a first statement on a kept connection that a new connection does not have:
# its prepared statements are gone (26000) or no longer fit the tables (0A000)
_STALE = {"26000", "0A000"}


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
        if self.connection:  # committed already: the next transaction, on the same one
            return self.cursor.execute(BEGIN + query, params)
        for attempt in (1, 2):
            # the second time a new connection: the other kept ones may be lost as well
            self.connection = _take(self.dbname, self.prepared, kept=attempt == 1)
            try:
                self.cursor = self.connection.cursor()
                # the statement begins the transaction: no round trip of its own
                return self.cursor.execute(BEGIN + query, params)
            except psycopg2.Error as error:
                stale = self.connection.closed or error.pgcode in _STALE
                _close(self.connection)  # nothing was done on it
                self.connection = None
                if attempt == 2 or not stale:
                    raise

    def fetchone(self):
        return self.cursor.fetchone()

    def fetchall(self):
        return self.cursor.fetchall()

    def commit(self, query="", params=None):
        if query and not self.begun:
            self.execute(query, params)
            query = ""
        if self.begun:
            self.cursor.execute(f"{query};{COMMIT}" if query else COMMIT, params)
            self.begun = False

    def rollback(self):
        if self.begun and self.connection and not self.connection.closed:
            try:
                self.cursor.execute("ROLLBACK")
            except psycopg2.Error:
                pass  # the connection is closed below: the server rolls back
        self.begun = False


@contextmanager
def side_transaction(dbname, prepared):
    """A ``SideTransaction`` on database ``dbname``, committed on leaving the block (by its
    ``commit``, or here), rolled back if the block raised. Its connection is kept for
    the next one only when no database error occurred and it ends outside a transaction."""
    transaction, keep = SideTransaction(dbname, prepared), False
    try:
        yield transaction
        transaction.commit()
        keep = True
    except BaseException as error:
        transaction.rollback()  # the pool's lock is freed at once
        keep = isinstance(error, Exception) and not isinstance(error, psycopg2.Error)
        raise
    finally:
        connection = transaction.connection
        if connection and not connection.closed:
            if keep and connection.info.transaction_status == TRANSACTION_STATUS_IDLE:
                _give_back(dbname, connection)
            else:
                _close(connection)


def numbered(query):
    """``query`` with its ``%s`` placeholders numbered ``$1``, ``$2``…, for PREPARE."""
    count = itertools.count(1)
    return re.sub("%s", lambda _match: f"${next(count)}", query)


def _take(dbname, prepared, kept=True):
    """An idle kept connection to ``dbname`` (``kept``) or a new one, with ``prepared``
    prepared on it; the connections of this process idle for too long are closed."""
    now, pid = time.monotonic(), os.getpid()
    with _mutex:
        stale = []
        for key, idle in _kept.items():
            if key[0] == pid:
                stale += [cnx for cnx, used in idle if now - used >= sql_db.MAX_IDLE_TIMEOUT]
                idle[:] = [(cnx, used) for cnx, used in idle if cnx not in stale]
        idle = _kept.setdefault((pid, dbname), [])
        connection = idle.pop()[0] if idle and kept else None
    for cnx in stale:
        _close(cnx)
    if connection is None:
        info = sql_db.connection_info_for(dbname)[1]
        connection = psycopg2.connect(connection_factory=_Connection, **info)
    missing = [name for name in prepared if name not in connection.prepared]
    try:
        with connection.cursor() as cursor:
            for name in missing:
                cursor.execute(f"PREPARE {name} AS {prepared[name]}")
    except psycopg2.Error:
        _close(connection)
        raise
    connection.prepared.update(missing)
    return connection


def _give_back(dbname, connection):
    with _mutex:
        idle = _kept.setdefault((os.getpid(), dbname), [])
        if len(idle) < KEPT:
            idle.append((connection, time.monotonic()))
            return
    _close(connection)


def _close(connection):
    if connection is not None and not connection.closed:
        connection.close()
