"""Google's errors, in words for the user: one exception type, :class:`SheetError`,
carrying Google's own error text, or saying plainly why Google could not be reached."""

import contextlib
import socket
import ssl
import urllib.parse

import gspread
import requests
from google.auth import exceptions as auth_exceptions
from urllib3 import exceptions as urllib3_exceptions

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class SheetError(Exception):
    """Google Sheets could not be read; ``message`` is meant for the user."""

    def __init__(self, message, status=None, retryable=False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable


@contextlib.contextmanager
def google_errors():
    """Turn the exceptions of gspread, google-auth and requests into SheetError."""
    try:
        yield
    except SheetError:
        raise
    except gspread.exceptions.WorksheetNotFound as exc:
        raise SheetError(f"No worksheet named {str(exc)!r}.", status=404) from None
    except (gspread.exceptions.SpreadsheetNotFound, PermissionError) as exc:
        cause = exc.__cause__
        if isinstance(cause, gspread.exceptions.APIError):
            raise _api_error(cause) from None
        raise SheetError("Spreadsheet not found.", status=404) from None
    except gspread.exceptions.APIError as exc:
        raise _api_error(exc) from None
    except auth_exceptions.RefreshError as exc:
        raise SheetError(f"Google refused the service-account key: {exc}", status=401) from None
    except (requests.RequestException, auth_exceptions.TransportError) as exc:
        raise _network_error(exc) from None


def _exception_chain(exc):
    """``exc`` and the exceptions it wraps (cause, context, urllib3's reason, args)."""
    seen, todo = set(), [exc]
    while todo:
        error = todo.pop(0)
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        yield error
        todo += [error.__cause__, error.__context__, getattr(error, "reason", None)]
        todo += [arg for arg in getattr(error, "args", ()) if isinstance(arg, BaseException)]


# What went wrong on the way to Google, most specific first: (exception types, words).
NETWORK_FAULTS = (
    ((urllib3_exceptions.NameResolutionError, socket.gaierror), "DNS: the name is unknown"),
    ((ConnectionRefusedError,), "connection refused"),
    (
        (requests.Timeout, urllib3_exceptions.ReadTimeoutError, socket.timeout),
        "no answer in time (timeout)",
    ),
    ((requests.exceptions.SSLError, ssl.SSLError), "the secure connection (TLS) failed"),
    ((requests.exceptions.ProxyError,), "the proxy refused the connection"),
    ((ConnectionResetError, urllib3_exceptions.ProtocolError), "connection reset"),
)


def _network_error(exc):
    """A SheetError saying in plain words that Google could not be reached, and why
    (connection refused, DNS, timeout...), instead of urllib3's text."""
    chain = list(_exception_chain(exc))
    reason = next(
        (words for types, words in NETWORK_FAULTS if any(isinstance(e, types) for e in chain)),
        "network error",
    )
    host = next((_host(e) for e in chain if _host(e)), None)
    where = f" at {host}" if host else ""
    return SheetError(
        f"Google could not be reached{where} ({reason}): check the server's internet "
        "access (DNS, firewall, proxy).",
        retryable=True,
    )


def _host(error):
    request = getattr(error, "request", None)
    url = getattr(request, "url", None) or ""
    return urllib.parse.urlsplit(url).netloc if isinstance(url, str) else ""


def _api_error(exc):
    status = exc.response.status_code
    error = exc.error if isinstance(exc.error, dict) else {}
    label = error.get("status") or exc.response.reason or ""
    message = error.get("message") or exc.response.text
    hint = ""
    if status in (403, 404):
        hint = " (is the sheet shared with the service account's e-mail?)"
    return SheetError(
        f"Google API error {status} {label}: {message}{hint}".replace("  ", " "),
        status=status,
        retryable=status in RETRY_STATUSES,
    )
