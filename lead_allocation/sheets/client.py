"""A thin wrapper of gspread + google-auth for reading a worksheet in row chunks.

The Google protocol is left to the libraries: google-auth signs the service-account
assertion and fetches the access token, gspread calls the Sheets v4 API. This module adds
what an unattended import needs: retries with exponential backoff on 408/429/5xx and on
timeouts, row ranges read in chunks (memory flat in the size of the sheet), and one
exception type, :class:`SheetError`, carrying Google's own error text.
"""

import json
import logging
import time

import gspread
import requests
from google.auth import exceptions as auth_exceptions
from google.oauth2 import service_account
from gspread import urls as gspread_urls
from gspread.http_client import HTTPClient
from gspread.utils import (
    ValueInputOption,
    ValueRenderOption,
    absolute_range_name,
    extract_id_from_url,
    rowcol_to_a1,
)

from .errors import RETRY_STATUSES, SheetError, google_errors

_logger = logging.getLogger(__name__)

READ_SCOPES = ("https://www.googleapis.com/auth/spreadsheets.readonly",)
# asked for only when the source writes back to its sheet
WRITE_SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
GOOGLE_API_BASE = gspread_urls.SPREADSHEETS_API_V4_BASE_URL
SERVICE_ACCOUNT_KEYS = ("client_email", "private_key", "token_uri")


def parse_service_account(text):
    """The service-account key (JSON text or mapping) as a dict, or SheetError."""
    if isinstance(text, str | bytes):
        try:
            info = json.loads(text)
        except ValueError as exc:
            raise SheetError(f"The service-account key is not valid JSON: {exc}") from None
    else:
        info = text
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise SheetError(
            'The key is not a service-account key (expected "type": "service_account").'
        )
    missing = [key for key in SERVICE_ACCOUNT_KEYS if not info.get(key)]
    if missing:
        raise SheetError("The service-account key lacks: " + ", ".join(missing) + ".")
    return info


def spreadsheet_key(url_or_key):
    """The spreadsheet id from a browser URL, or the text itself when it is an id."""
    text = (url_or_key or "").strip()
    if not text:
        raise SheetError("No spreadsheet URL or key given.")
    if "/" in text or "key=" in text:
        try:
            return extract_id_from_url(text)
        except gspread.exceptions.NoValidUrlKeyFound:
            raise SheetError(f"No spreadsheet id found in the URL {text!r}.") from None
    return text


class RetryingHTTPClient(HTTPClient):
    """gspread's HTTP client, with retries and a configurable API base URL.

    ``api_base`` replaces ``https://sheets.googleapis.com/v4/spreadsheets`` (a proxy, or
    a local server in tests). gspread's own ``BackOffHTTPClient`` keeps its retry counter
    on the class and waits up to 128 s, hence this small subclass.
    """

    api_base = None
    retries = 5
    backoff = 1.0
    max_backoff = 32.0
    sleep = staticmethod(time.sleep)

    def request(self, method, endpoint, *args, **kwargs):
        if self.api_base and endpoint.startswith(GOOGLE_API_BASE):
            endpoint = self.api_base + endpoint[len(GOOGLE_API_BASE) :]
        attempt = 0
        while True:
            try:
                return super().request(method, endpoint, *args, **kwargs)
            except gspread.exceptions.APIError as exc:
                status = exc.response.status_code
                if status not in RETRY_STATUSES or attempt >= self.retries:
                    raise
                reason = f"HTTP {status}"
            except (
                requests.Timeout,
                requests.ConnectionError,
                auth_exceptions.TransportError,
            ) as exc:
                if attempt >= self.retries:
                    raise
                reason = type(exc).__name__
            delay = min(self.backoff * 2**attempt, self.max_backoff)
            _logger.info("Google Sheets: %s, retry %s in %.1fs", reason, attempt + 1, delay)
            self.sleep(delay)
            attempt += 1


# The settings of the client (``lead_allocation.sheets_<name>`` system parameters).
SETTINGS = ("api_base", "timeout", "backoff")
# "Test connection" is interactive: one attempt, and at most this wait for Google.
INTERACTIVE_TIMEOUT = 10.0


def client_options(settings, interactive=False, write=False):
    """The :class:`SheetClient` options from ``settings`` (:data:`SETTINGS`, texts or
    None). Interactive (a button): no retry and a short timeout; scheduled: retries with
    exponential backoff on quota errors, 5xx and network faults. ``write``: the
    read-write scope, else the read-only one."""
    timeout = float(settings.get("timeout") or 30)
    return {
        "api_base": settings.get("api_base") or None,
        "timeout": min(timeout, INTERACTIVE_TIMEOUT) if interactive else timeout,
        "retries": 0 if interactive else 5,
        "backoff": float(settings.get("backoff") or 1),
        "write": write,
    }


class SheetClient:
    """Opens worksheets with a service-account key."""

    def __init__(
        self,
        credentials_info,
        *,
        api_base=None,
        timeout=30.0,
        retries=5,
        backoff=1.0,
        max_backoff=32.0,
        sleep=time.sleep,
        write=False,
    ):
        info = parse_service_account(credentials_info)
        scopes = WRITE_SCOPES if write else READ_SCOPES
        self.client_email = info["client_email"]
        try:
            credentials = service_account.Credentials.from_service_account_info(info, scopes=scopes)
        except (ValueError, TypeError) as exc:
            raise SheetError(f"The service-account key is invalid: {exc}") from None
        self.gspread = gspread.Client(credentials, http_client=RetryingHTTPClient)
        http = self.gspread.http_client
        http.api_base = api_base.rstrip("/") if api_base else None
        http.retries, http.backoff, http.max_backoff = retries, backoff, max_backoff
        http.sleep = sleep
        http.set_timeout(timeout)

    def open(self, url_or_key, worksheet=None):
        """The :class:`Worksheet` named ``worksheet`` (the first one when empty)."""
        return self.open_tabs(url_or_key, [worksheet] if worksheet else [])[0]

    def open_tabs(self, url_or_key, names=(), every=False):
        """The :class:`Worksheet` of each of ``names``, or of every tab (``every``), or
        the first one (neither); one metadata request."""
        key = spreadsheet_key(url_or_key)
        with google_errors():
            book = self.gspread.open_by_key(key)
            tabs = book.worksheets()
        by_title = {tab.title: tab for tab in tabs}
        if every:
            return [Worksheet(book, tab) for tab in tabs]
        if unknown := [name for name in names if name not in by_title]:
            raise SheetError(f"No worksheet named {unknown[0]!r}.", status=404)
        return [Worksheet(book, by_title[name]) for name in names] or [Worksheet(book, tabs[0])]


class Worksheet:
    """One worksheet, read by row ranges."""

    def __init__(self, book, sheet):
        self._sheet = sheet
        self.spreadsheet_title = book.title
        self.timezone = book.timezone
        self.title = sheet.title
        self.row_count = sheet.row_count

    def rows(self, first, last):
        """Formatted values of rows ``first`` to ``last`` (1-based, inclusive).

        Google leaves out trailing empty rows and trailing empty cells of each row.
        """
        with google_errors():
            values = self._sheet.get(
                f"{first}:{last}", value_render_option=ValueRenderOption.formatted
            )
        return [[str(cell) for cell in row] for row in values]

    def headers(self, header_row=1):
        rows = self.rows(header_row, header_row)
        return [cell.strip() for cell in rows[0]] if rows else []

    def iter_chunks(self, first_row, chunk_size=500):
        """Yield lists of ``(row_number, values)``, one range request per ``chunk_size``
        rows from ``first_row`` to the end of the grid; one chunk in memory at a time."""
        for start in range(first_row, self.row_count + 1, chunk_size):
            end = min(start + chunk_size - 1, self.row_count)
            yield list(enumerate(self.rows(start, end), start))

    def widen(self, col_count):
        """Give the grid at least ``col_count`` columns (cells past the grid cannot be
        written)."""
        if self._sheet.col_count < col_count:
            with google_errors():
                self._sheet.resize(cols=col_count)

    def write_cells(self, cells):
        """Write ``cells``, ``[(row, first column, [texts])]`` (1-based), as typed text
        (RAW: nothing is read as a formula), in one values batch update."""
        data = [
            {
                "range": absolute_range_name(
                    self.title,
                    f"{rowcol_to_a1(row, col)}:{rowcol_to_a1(row, col + len(values) - 1)}",
                ),
                "values": [values],
            }
            for row, col, values in cells
        ]
        if data:
            with google_errors():
                self._sheet.spreadsheet.values_batch_update(
                    {"valueInputOption": ValueInputOption.raw, "data": data}
                )
