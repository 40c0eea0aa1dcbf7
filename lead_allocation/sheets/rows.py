"""Sheet rows to lead fields: header suggestions, row mapping and stable row keys.

Field names are those of the intake unit (``intake.payload.KNOWN_FIELDS``), so a row
becomes the same kind of mapping as a webhook payload.
"""

import hashlib
import json
import re

# A row key that names its tab starts with this (see tab_prefix).
TAB_KEY_PREFIX = "tab:"
# The column holding a stable id of the row, when the sheet has one.
ROW_ID_FIELD = "external_id"
# Without an id, a row is known by who the lead is: editing its notes, agent or company
# does not make it a new row (an edited e-mail or name does).
IDENTITY_FIELDS = ("name", "contact_name", "partner_name", "email_from", "phone")

_SUGGESTIONS = {
    "name": ("name", "lead", "leadname", "title", "subject", "opportunity"),
    "contact_name": (
        "contact",
        "contactname",
        "fullname",
        "firstname",
        "lastname",
        "customer",
        "customername",
        "person",
    ),
    "partner_name": ("company", "companyname", "organization", "organisation", "business"),
    "email_from": ("email", "emailaddress", "mail", "emailfrom"),
    "phone": ("phone", "phonenumber", "telephone", "tel", "mobile", "mobilephone"),
    "description": ("notes", "note", "comment", "comments", "message", "description"),
    "website": ("website", "web", "url", "site"),
    "medium": ("source", "leadsource", "channel", "medium"),
    "campaign": ("campaign", "utmcampaign"),
    "tag_names": ("tags", "tag", "labels"),
    "user_id": (
        "agent",
        "agentid",
        "userid",
        "agentuserid",
        "salesperson",
        "salespersonid",
        "assignedto",
        "owner",
    ),
    ROW_ID_FIELD: ("id", "rowid", "leadid", "externalid", "uid", "reference", "ref"),
}
_HEADER_FIELDS = {header: fname for fname, headers in _SUGGESTIONS.items() for header in headers}
# Several columns mapped to one field are joined with this separator.
_JOINERS = {"description": "\n", "tag_names": ","}


def normalize_header(header):
    """``"Agent / User ID"`` -> ``"agentuserid"``."""
    return re.sub(r"[\W_]+", "", str(header or "")).casefold()


def suggest_mapping(headers):
    """``[(header, field or None)]``: the lead field each header most likely holds.

    A field is suggested for its first matching column only (except the name parts,
    which are joined).
    """
    taken = set()
    result = []
    for header in headers:
        fname = _HEADER_FIELDS.get(normalize_header(header))
        if fname in taken and fname != "contact_name":
            fname = None
        if fname:
            taken.add(fname)
        result.append((header, fname))
    return result


def resolve_columns(headers, mapping):
    """``([(column index, field)], [missing headers])`` of ``mapping``, ``[(header, field)]``.

    Columns are found by header (case, spaces and punctuation ignored), so moving a
    column in the sheet needs no change of the mapping.
    """
    positions = {}
    for index, header in enumerate(headers):
        positions.setdefault(normalize_header(header), index)
    columns, missing = [], []
    for header, fname in mapping:
        index = positions.get(normalize_header(header))
        if index is None:
            missing.append(header)
        else:
            columns.append((index, fname))
    return columns, missing


def map_row(values, columns):
    """The row as ``{field: text}``; ``columns`` is ``[(column index, field)]``.

    Empty cells are left out; several columns of one field are joined in column order.
    """
    parts = {}
    for index, fname in columns:
        cell = values[index].strip() if index < len(values) else ""
        if cell:
            parts.setdefault(fname, []).append(cell)
    return {fname: _JOINERS.get(fname, " ").join(cells) for fname, cells in parts.items()}


def _canonical(text):
    return " ".join(str(text).split()).casefold()


def row_key(record, identity_fields=IDENTITY_FIELDS):
    """A stable key of a mapped row, None for an empty row.

    ``id:<value>`` when the row has an id (:data:`ROW_ID_FIELD`), else ``sha256:<hex>`` of
    its identity fields (case and spacing ignored), or of all its fields when it has none.
    The key does not depend on the row's position, so sorting, inserting or deleting rows
    keeps the keys of the other rows.
    """
    row_id = (record.get(ROW_ID_FIELD) or "").strip()
    if row_id:
        if len(row_id) > 200:
            return "id-sha256:" + hashlib.sha256(row_id.encode()).hexdigest()
        return "id:" + row_id
    content = {f: _canonical(record[f]) for f in identity_fields if record.get(f)}
    if not content:
        content = {f: _canonical(v) for f, v in record.items() if v and str(v).strip()}
    if not content:
        return None
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def keyed_rows(chunk, columns, prefix=""):
    """``[(row number, key, mapped row)]`` of the non-empty rows of ``chunk``, a list of
    ``(row number, cells)``; ``prefix`` (:func:`tab_prefix`) is put before each key."""
    rows = []
    for number, cells in chunk:
        data = map_row(cells, columns)
        if key := row_key(data):
            rows.append((number, prefix + key, data))
    return rows


def tab_prefix(title):
    """What the keys of the rows of tab ``title`` start with, when a source reads several
    tabs (the keys of a one-tab source have no prefix, as before several tabs could be
    read)."""
    return f"{TAB_KEY_PREFIX}{title}!"


def triage(rows, imported, sync_number):
    """Sort ``rows`` (:func:`keyed_rows`) by what the sync does with them.

    ``imported`` is ``{key: (sync number, row number, lead id)}`` of the keys already
    imported. Returns ``(new, duplicates, skipped)``: the rows to import, the
    ``(row number, key, earlier row number, lead id)`` of the rows repeating a row of
    this sync (``sync_number``), and the number of rows imported by earlier syncs.
    """
    new, duplicates, skipped, seen = [], [], 0, {}
    for number, key, data in rows:
        done = imported.get(key)
        earlier = seen.get(key) or (done[1:] if done and done[0] == sync_number else None)
        if earlier:
            duplicates.append((number, key, *earlier))
        elif done:
            skipped += 1
        else:
            seen[key] = (number, None)
            new.append((number, key, data))
    return new, duplicates, skipped
