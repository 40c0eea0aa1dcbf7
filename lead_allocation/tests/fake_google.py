"""A local stand-in for Google's OAuth token endpoint and the Sheets v4 API.

Plain Python (no Odoo import), shared by the Odoo tests and the benchmark. The real
gspread and google-auth talk to it over HTTP on 127.0.0.1: the service-account key made by
:func:`service_account_info` has its ``token_uri`` here, and the sheet client is given
:attr:`FakeGoogle.api_base` instead of ``https://sheets.googleapis.com/v4/spreadsheets``.

It checks what Google checks (the assertion's RSA signature, the bearer token and its
scope, that the sheet is shared with the service account, as Editor to write) and answers
the calls gspread makes to read a sheet: ``GET /v4/spreadsheets/<id>`` (metadata) and
``GET .../values/<range>``, and to write one: ``POST .../values:batchUpdate`` (RAW values,
within the grid) and ``POST /v4/spreadsheets/<id>:batchUpdate`` (grid size). Faults are
injected with :meth:`FakeGoogle.inject` (HTTP status or a stalled answer).
"""

import functools
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
_RANGE_RE = re.compile(r"^(?:'((?:[^']|'')*)'|([^!']*))!(\d+):(\d+)$")
_CELLS_RE = re.compile(r"^(?:'((?:[^']|'')*)'|([^!']*))!([A-Z]+)(\d+):([A-Z]+)(\d+)$")
WRITE_SCOPE = "https://www.googleapis.com/auth/spreadsheets"


def new_key_pair():
    """A new RSA key pair, ``(private PEM, public PEM)``; a few milliseconds each."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode(), public.decode()


# The one key pair of the service account of every test (made once per process): the
# fake token endpoint accepts assertions signed with it, and only with it.
_private_key_pem = functools.cache(new_key_pair)


def service_account_info(token_uri, email="lead-import@test-project.iam.gserviceaccount.com"):
    """A valid service-account key (the process's test key pair, see
    :func:`_private_key_pem`) whose token endpoint is ``token_uri``."""
    private_pem, _public = _private_key_pem()
    return {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": "0123456789abcdef",
        "private_key": private_pem,
        "client_email": email,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "universe_domain": "googleapis.com",
    }


class FakeSpreadsheet:
    def __init__(self, title, worksheets, shared_with=None, spare_rows=0, viewers=()):
        self.title = title
        # {worksheet title: [[cell, ...], ...]} including the header row
        self.worksheets = worksheets
        # None: shared with everybody; else the service-account e-mails allowed
        self.shared_with = shared_with
        # e-mails the sheet is shared with as Viewer: they may read, not write
        self.viewers = set(viewers)
        self.spare_rows = spare_rows
        # columns of each worksheet's grid (Google's grid is as wide as the widest row
        # here, unless widened): cells past it cannot be written
        self.grid_cols = {}

    def grid_rows(self, title):
        return max(len(self.worksheets[title]) + self.spare_rows, 1)

    def grid_columns(self, title):
        widest = max((len(r) for r in self.worksheets[title]), default=1)
        return max(self.grid_cols.get(title, 0), widest, 1)


class FakeGoogle:
    """``with FakeGoogle() as google:`` serves on a free port of 127.0.0.1 in a thread."""

    def __init__(self):
        self.spreadsheets = {}
        self.tokens = {}
        self.requests = []
        self.faults = []
        self.token_requests = 0
        self.writes = []  # bodies of the values batch updates applied
        self._lock = threading.Lock()
        self._server = None

    # -- set up ---------------------------------------------------------------
    def add_sheet(self, key, title, rows, worksheet="Leads", **kwargs):
        """Add (or replace) a spreadsheet of one worksheet; ``rows`` starts with the header."""
        self.spreadsheets[key] = FakeSpreadsheet(title, {worksheet: rows}, **kwargs)
        return self.spreadsheets[key]

    def add_tab(self, key, worksheet, rows):
        """Add a worksheet to a spreadsheet."""
        self.spreadsheets[key].worksheets[worksheet] = rows
        return rows

    def rows(self, key, worksheet="Leads"):
        """The rows of a worksheet, to edit in place (sort, delete, append...)."""
        return self.spreadsheets[key].worksheets[worksheet]

    def inject(self, status=503, times=1, from_row=None, delay=None, path="values"):
        """Answer the next ``times`` matching requests with ``status`` (or stall them
        ``delay`` seconds first). ``path``: "values", "write" (values batch update),
        "metadata" or "token";
        ``from_row``: only value ranges starting at or after that row."""
        with self._lock:
            self.faults.append(
                {
                    "status": status,
                    "times": times,
                    "from_row": from_row,
                    "delay": delay,
                    "path": path,
                }
            )

    def clear_faults(self):
        with self._lock:
            self.faults.clear()

    def service_account_info(self, **kwargs):
        return service_account_info(self.token_uri, **kwargs)

    @property
    def base_url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_base(self):
        return self.base_url + "/v4/spreadsheets"

    @property
    def token_uri(self):
        return self.base_url + "/token"

    def count(self, kind):
        return sum(1 for request_kind, _path in self.requests if request_kind == kind)

    # -- server ---------------------------------------------------------------
    def start(self):
        handler = functools.partial(_Handler, self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _take_fault(self, kind, first_row=None):
        with self._lock:
            for fault in self.faults:
                if fault["path"] != kind or fault["times"] <= 0:
                    continue
                if fault["from_row"] and (first_row is None or first_row < fault["from_row"]):
                    continue
                fault["times"] -= 1
                return dict(fault)
        return None


def _column_index(letters):
    """``"A"`` -> 0, ``"AA"`` -> 26."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _error(code, message, status):
    return code, {"error": {"code": code, "message": message, "status": status}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __init__(self, google, *args, **kwargs):
        self.google = google
        super().__init__(*args, **kwargs)

    def log_message(self, *args):
        pass  # no per-request log

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/v4/spreadsheets/"):
            return self._write(urllib.parse.unquote(path[len("/v4/spreadsheets/") :]), raw)
        body = urllib.parse.parse_qs(raw)
        if path != "/token":
            return self._send(*_error(404, "Not found", "NOT_FOUND"))
        self.google.requests.append(("token", self.path))
        self.google.token_requests += 1
        if self._fault("token"):
            return
        assertion = (body.get("assertion") or [""])[0]
        try:
            claims = jwt.decode(
                assertion, certs=_private_key_pem()[1], audience=GOOGLE_TOKEN_AUDIENCE
            )
        except ValueError as exc:
            return self._send(400, {"error": "invalid_grant", "error_description": str(exc)})
        token = f"ya29.fake-{len(self.google.tokens) + 1}"
        self.google.tokens[token] = (claims["iss"], claims.get("scope", ""))
        self._send(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _authorize(self, key, write=False):
        """``(book, None)``, or ``(None, error answer)`` as Google refuses."""
        auth = self.headers.get("Authorization", "")
        email, scope = self.google.tokens.get(auth.removeprefix("Bearer "), (None, ""))
        if email is None:
            return None, _error(401, "Request had invalid authentication credentials.",
                                "UNAUTHENTICATED")  # fmt: skip
        if write and WRITE_SCOPE not in scope.split():
            return None, _error(403, "Request had insufficient authentication scopes.",
                                "PERMISSION_DENIED")  # fmt: skip
        book = self.google.spreadsheets.get(key)
        if book is None:
            return None, _error(404, "Requested entity was not found.", "NOT_FOUND")
        shared = book.shared_with is None or email in book.shared_with
        if not shared or (write and email in book.viewers):
            return None, _error(403, "The caller does not have permission", "PERMISSION_DENIED")
        return book, None

    def do_GET(self):
        parts = urllib.parse.urlsplit(self.path)
        segments = [urllib.parse.unquote(s) for s in parts.path.split("/") if s]
        if segments[:2] != ["v4", "spreadsheets"] or len(segments) < 3:
            return self._send(*_error(404, "Not found", "NOT_FOUND"))
        book, refusal = self._authorize(segments[2])
        if refusal:
            return self._send(*refusal)
        if len(segments) == 3:
            self.google.requests.append(("metadata", self.path))
            if self._fault("metadata"):
                return
            return self._send(200, self._metadata(segments[2], book))
        if len(segments) == 5 and segments[3] == "values":
            return self._values(book, segments[4])
        return self._send(*_error(404, "Not found", "NOT_FOUND"))

    def _metadata(self, key, book):
        sheets = [
            {
                "properties": {
                    "sheetId": index,
                    "title": title,
                    "index": index,
                    "sheetType": "GRID",
                    "gridProperties": {
                        "rowCount": book.grid_rows(title),
                        "columnCount": book.grid_columns(title),
                    },
                }
            }
            for index, (title, rows) in enumerate(book.worksheets.items())
        ]
        return {
            "spreadsheetId": key,
            "properties": {"title": book.title, "locale": "en_US", "timeZone": "Etc/UTC"},
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{key}/edit",
        }

    def _values(self, book, range_name):
        match = _RANGE_RE.match(range_name)
        if not match:
            return self._send(
                *_error(400, f"Unable to parse range: {range_name}", "INVALID_ARGUMENT")
            )
        title = match.group(1).replace("''", "'") if match.group(1) else match.group(2)
        first, last = int(match.group(3)), int(match.group(4))
        self.google.requests.append(("values", self.path))
        if self._fault("values", first):
            return
        if title not in book.worksheets:
            return self._send(
                *_error(400, f"Unable to parse range: {range_name}", "INVALID_ARGUMENT")
            )
        values = []
        for row in book.worksheets[title][first - 1 : last]:
            row = [str(cell) for cell in row]
            while row and row[-1] == "":
                row.pop()
            values.append(row)
        while values and not values[-1]:
            values.pop()
        answer = {"range": range_name, "majorDimension": "ROWS"}
        if values:
            answer["values"] = values
        self._send(200, answer)

    def _write(self, target, raw):
        """``<id>/values:batchUpdate`` (values) or ``<id>:batchUpdate`` (grid size)."""
        key, _sep, method = target.partition("/values:" if "/values:" in target else ":")
        book, refusal = self._authorize(key, write=True)
        if refusal:
            return self._send(*refusal)
        body = json.loads(raw or "{}")
        if method != "batchUpdate":
            return self._send(*_error(404, "Not found", "NOT_FOUND"))
        if "/values:" not in target:  # gspread's resize: updateSheetProperties
            self.google.requests.append(("resize", self.path))
            for request in body.get("requests", []):
                props = request["updateSheetProperties"]["properties"]
                title = list(book.worksheets)[props["sheetId"]]
                book.grid_cols[title] = props["gridProperties"]["columnCount"]
            return self._send(200, {"spreadsheetId": key, "replies": [{}]})
        self.google.requests.append(("write", self.path))
        if self._fault("write"):
            return
        updates, widths = [], {}  # the grid's width, once per worksheet (it reads every row)
        for item in body.get("data", []):
            match = _CELLS_RE.match(item["range"])
            title = match and (match.group(1) or match.group(2) or "").replace("''", "'")
            if not match or title not in book.worksheets:
                return self._send(*_error(400, f"Unable to parse range: {item['range']}",
                                          "INVALID_ARGUMENT"))  # fmt: skip
            col, row = _column_index(match.group(3)), int(match.group(4))
            if title not in widths:
                widths[title] = book.grid_columns(title)
            if col + len(item["values"][0]) > widths[title]:
                return self._send(*_error(400, f"Range ({item['range']}) exceeds grid limits.",
                                          "INVALID_ARGUMENT"))  # fmt: skip
            updates.append((title, row, col, item["values"][0]))
        for title, row, col, values in updates:  # all or nothing, as Google
            rows = book.worksheets[title]
            while len(rows) < row:
                rows.append([])
            cells = rows[row - 1]
            cells.extend([""] * (col + len(values) - len(cells)))
            cells[col : col + len(values)] = [str(value) for value in values]
        self.google.writes.append(body)
        self._send(200, {"spreadsheetId": key, "totalUpdatedRows": len(updates)})

    def _fault(self, kind, first_row=None):
        fault = self.google._take_fault(kind, first_row)
        if not fault:
            return False
        if fault["delay"]:
            time.sleep(fault["delay"])
        status = fault["status"]
        messages = {
            429: ("Quota exceeded for quota metric 'Read requests'.", "RESOURCE_EXHAUSTED"),
            500: ("Internal error encountered.", "INTERNAL"),
            503: ("The service is currently unavailable.", "UNAVAILABLE"),
        }
        message, label = messages.get(status, ("Fault injected by the test.", "UNKNOWN"))
        try:
            self._send(*_error(status, message, label))
        except OSError:
            pass  # the client gave up waiting (timeout)
        return True

    def _send(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
