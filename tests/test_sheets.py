"""The Google Sheets client wrapper and row helpers, against a local fake Google.

The real gspread and google-auth run; only the server is fake (127.0.0.1, a thread).
"""

import importlib.util
import pathlib
import socket

import pytest
import requests
from sheets import (
    SheetClient,
    SheetError,
    map_row,
    normalize_header,
    parse_service_account,
    row_key,
    suggest_mapping,
)
from sheets.write_back import changed_cells, layout

_FAKE = pathlib.Path(__file__).resolve().parents[1] / "lead_allocation/tests/fake_google.py"
_spec = importlib.util.spec_from_file_location("fake_google", _FAKE)
fake_google = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_google)

HEADERS = ["Name", "Email", "Phone", "Company", "Notes", "Source", "Agent/User ID"]


@pytest.fixture
def google():
    with fake_google.FakeGoogle() as server:
        server.add_sheet(
            "sheet-key-1",
            "Spring campaign",
            [HEADERS] + [[f"Lead {i}", f"l{i}@example.com", "", "", "", "", ""] for i in range(7)],
        )
        yield server


def make_client(google, **kwargs):
    sleeps = []
    kwargs.setdefault("sleep", sleeps.append)
    client = SheetClient(google.service_account_info(), api_base=google.api_base, **kwargs)
    client.sleeps = sleeps
    return client


def test_open_by_url_reads_title_headers_and_chunks(google):
    client = make_client(google)
    sheet = client.open("https://docs.google.com/spreadsheets/d/sheet-key-1/edit#gid=0")
    assert (sheet.spreadsheet_title, sheet.title, sheet.row_count) == (
        "Spring campaign",
        "Leads",
        8,
    )
    assert sheet.headers() == HEADERS
    chunks = list(sheet.iter_chunks(2, chunk_size=3))
    assert [len(chunk) for chunk in chunks] == [3, 3, 1]
    assert [number for chunk in chunks for number, _values in chunk] == list(range(2, 9))
    assert chunks[0][0][1] == ["Lead 0", "l0@example.com"]  # trailing empty cells left out
    assert google.count("values") == 4 and google.token_requests == 1


def test_open_by_key_and_named_worksheet(google):
    sheet = make_client(google).open("sheet-key-1", "Leads")
    assert sheet.title == "Leads"
    with pytest.raises(SheetError, match="No worksheet named 'Other'"):
        make_client(google).open("sheet-key-1", "Other")


def test_google_errors_are_reported_verbatim(google):
    with pytest.raises(SheetError, match="404 NOT_FOUND: Requested entity was not found"):
        make_client(google).open("missing-key")
    google.spreadsheets["sheet-key-1"].shared_with = {"someone@else.com"}
    with pytest.raises(SheetError, match=r"403 PERMISSION_DENIED.*shared with") as err:
        make_client(google).open("sheet-key-1")
    assert err.value.status == 403 and not err.value.retryable


def test_429_and_5xx_are_retried_with_exponential_backoff(google):
    client = make_client(google, backoff=0.5)
    sheet = client.open("sheet-key-1")
    google.inject(429, times=2)
    google.inject(503, times=1)
    assert len(sheet.rows(2, 4)) == 3
    assert client.sleeps == [0.5, 1.0, 2.0]


def test_retries_give_up_with_the_google_error(google):
    client = make_client(google, retries=2)
    sheet = client.open("sheet-key-1")
    google.inject(500, times=5)
    with pytest.raises(SheetError, match="500 INTERNAL") as err:
        sheet.rows(2, 4)
    assert err.value.retryable and len(client.sleeps) == 2


def test_timeouts_are_retried(google):
    client = make_client(google, timeout=0.3)
    sheet = client.open("sheet-key-1")
    google.inject(503, delay=1.0)
    assert len(sheet.rows(2, 3)) == 2
    assert client.sleeps == [1.0]


def closed_port():
    """A local port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def attempts(monkeypatch):
    """The URLs of the HTTP requests really sent (the sending itself is untouched)."""
    sent = []
    send = requests.adapters.HTTPAdapter.send

    def counting_send(adapter, request, *args, **kwargs):
        sent.append(request.url)
        return send(adapter, request, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", counting_send)
    return sent


def test_unreachable_google_in_plain_words_once_or_with_retries(attempts):
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    info = fake_google.service_account_info(base + "/token")
    sleeps = []
    client = SheetClient(info, api_base=base + "/v4", retries=0, sleep=sleeps.append)
    with pytest.raises(SheetError) as err:
        client.open("sheet-key-1")
    assert err.value.message == (
        f"Google could not be reached at 127.0.0.1:{port} (connection refused): check the "
        "server's internet access (DNS, firewall, proxy)."
    )
    assert err.value.retryable
    assert (len(attempts), sleeps) == (1, [])  # no retry: one attempt, no wait
    attempts.clear()
    client = SheetClient(info, api_base=base + "/v4", retries=5, sleep=sleeps.append)
    with pytest.raises(SheetError, match="connection refused"):
        client.open("sheet-key-1")
    assert (len(attempts), sleeps) == (6, [1.0, 2.0, 4.0, 8.0, 16.0])


def test_timeout_in_plain_words(google):
    sheet = make_client(google, timeout=0.3, retries=0).open("sheet-key-1")
    google.inject(503, delay=1.0)
    with pytest.raises(SheetError, match=r"reached at 127\.0\.0\.1:\d+ \(no answer in time"):
        sheet.rows(2, 3)


def test_bad_keys():
    with pytest.raises(SheetError, match="not valid JSON"):
        parse_service_account("{nope")
    with pytest.raises(SheetError, match="not a service-account key"):
        parse_service_account('{"type": "authorized_user"}')
    with pytest.raises(SheetError, match="lacks: private_key"):
        parse_service_account(
            '{"type": "service_account", "client_email": "a@b", "token_uri": "x"}'
        )


def test_refused_key_is_reported(google):
    """A well-formed key that Google does not know (another key pair): the token
    request is refused, and the refusal is what the user reads."""
    info = google.service_account_info()
    info["private_key"] = fake_google.new_key_pair()[0]
    with pytest.raises(SheetError, match="Google refused the service-account key") as err:
        SheetClient(info, api_base=google.api_base).open("sheet-key-1")
    assert err.value.status == 401 and "invalid_grant" in err.value.message
    assert google.token_requests == 1 and not google.tokens


def test_suggest_mapping_from_common_headers():
    mapping = dict(suggest_mapping([*HEADERS, "Lead ID", "Favourite colour"]))
    assert mapping == {
        "Name": "name",
        "Email": "email_from",
        "Phone": "phone",
        "Company": "partner_name",
        "Notes": "description",
        "Source": "medium",
        "Agent/User ID": "user_id",
        "Lead ID": "external_id",
        "Favourite colour": None,
    }
    # a second "Email" column is not suggested again
    assert suggest_mapping(["Email", "E-mail"]) == [("Email", "email_from"), ("E-mail", None)]
    assert normalize_header(" Agent / User_ID ") == "agentuserid"


def test_map_row_joins_and_skips_empty_cells():
    columns = [(0, "contact_name"), (1, "contact_name"), (2, "email_from"), (5, "phone")]
    assert map_row([" Ada ", "Lovelace", "", "x"], columns) == {"contact_name": "Ada Lovelace"}


def test_row_key_by_id_or_identity():
    assert row_key({"external_id": " 42 ", "name": "A"}) == "id:42"
    a = row_key({"name": "Ada", "email_from": "ADA@example.com", "description": "call"})
    b = row_key({"name": " ada ", "email_from": "ada@example.com", "description": "edited"})
    assert a == b and a.startswith("sha256:")
    assert a != row_key({"name": "Ada", "email_from": "ada@other.com"})
    assert row_key({"description": "only notes"}).startswith("sha256:")
    assert row_key({}) is None
    assert row_key({"external_id": "x" * 300}).startswith("id-sha256:")


def test_write_needs_the_read_write_scope_and_an_editor(google):
    """The read-only scope cannot write; the read-write scope is asked for only when
    the client writes; a sheet shared as Viewer refuses writes."""
    sheet = make_client(google).open("sheet-key-1")
    with pytest.raises(SheetError, match=r"403 PERMISSION_DENIED.*insufficient") as err:
        sheet.write_cells([(1, 8, ["Status"])])
    assert err.value.status == 403 and google.writes == []
    sheet = make_client(google, write=True).open("sheet-key-1")
    sheet.widen(9)
    sheet.write_cells([(1, 8, ["Status", "Imported On"]), (2, 8, ["Imported", "2026-01-05 10:00"])])
    rows = google.rows("sheet-key-1")
    assert rows[0][7:] == ["Status", "Imported On"] and rows[1][7:9] == [
        "Imported",
        "2026-01-05 10:00",
    ]
    assert google.count("write") == 1 and google.count("resize") == 1
    book = google.spreadsheets["sheet-key-1"]
    book.viewers = {google.service_account_info()["client_email"]}
    assert sheet.rows(2, 2)[0][0] == "Lead 0"  # a Viewer reads
    with pytest.raises(SheetError, match="403 PERMISSION_DENIED: The caller does not have"):
        sheet.write_cells([(2, 8, ["Imported"])])


def test_writes_are_retried_like_reads(google):
    client = make_client(google, write=True, backoff=0.5)
    sheet = client.open("sheet-key-1")
    sheet.widen(8)
    google.inject(429, times=1, path="write")
    google.inject(500, times=1, path="write")
    sheet.write_cells([(3, 8, ["Imported"])])
    assert client.sleeps == [0.5, 1.0] and google.rows("sheet-key-1")[2][7] == "Imported"


def test_write_back_layout_and_changed_cells():
    names = {"user": "Salesperson", "lead": "Odoo Lead", "status": "Status", "date": "Imported On"}
    positions, added = layout(["Name", "Email", "status"], names)
    assert positions == {"user": 3, "lead": 4, "status": 2, "date": 5}
    assert added == [(3, "Salesperson"), (4, "Odoo Lead"), (5, "Imported On")]
    columns = [(0, "name"), (1, "email_from")]
    chunk = [
        (2, ["Ada", "ada@x.org", "Imported", "Sam", "https://o/odoo/crm/1", "2026-01-05"]),
        (3, ["Bob", "bob@x.org"]),
        (4, ["Ada", "ada@x.org"]),
    ]
    done = {
        "user": "Sam",
        "lead": "https://o/odoo/crm/1",
        "status": "Imported",
        "date": "2026-01-05",
    }

    def wanted(key, number, first):
        if number != first:
            return dict.fromkeys(done, "") | {"status": f"Duplicate of row {first}"}
        return done if number == 2 else None  # row 3: nothing known of it yet

    first_rows = {}
    changes = changed_cells(chunk, columns, positions, wanted, first_rows)
    # row 2 is up to date, row 3 left alone, row 4 is a duplicate of row 2: one range
    # over the adjacent columns, in sheet order (status, salesperson, lead, date)
    assert changes == [(4, 3, ["Duplicate of row 2", "", "", ""])]
    assert set(first_rows.values()) == {2, 3}
