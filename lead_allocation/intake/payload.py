"""Mapping and validation of lead data coming from outside Odoo (webhook, Google Sheets).

Pure Python: no Odoo import. The Odoo side (``models/lead_allocation_intake.py``) turns a
``LeadPayload`` into ``crm.lead`` values; everything that can be checked without the
database is checked here, so the webhook and the Sheets import accept and reject alike.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

# Plain text fields copied to crm.lead as they are (after trimming).
TEXT_FIELDS = (
    "name",
    "contact_name",
    "partner_name",
    "email_from",
    "phone",
    "description",
    "website",
)
# At least one of them is needed to make a lead; a missing name is derived from them.
IDENTIFYING_FIELDS = ("name", "contact_name", "partner_name", "email_from", "phone")
NAME_SOURCES = ("contact_name", "partner_name", "email_from", "phone")
ID_FIELDS = ("team_id", "user_id")
UTM_FIELDS = ("source", "medium", "campaign")
KNOWN_FIELDS = frozenset((*TEXT_FIELDS, *ID_FIELDS, *UTM_FIELDS, "tag_names", "external_id"))

# PostgreSQL ``integer`` columns: larger ids cannot exist and would fail in SQL.
MAX_ID = 2**31 - 1
MAX_EXTERNAL_ID_LENGTH = 255
MAX_TAG_LENGTH = 128


class IntakeError(ValueError):
    """Outside lead data that cannot become a lead.

    ``code`` is a stable machine-readable word, ``message`` a human sentence, ``field``
    the offending input field (None when no single field is at fault), ``status`` the
    HTTP status the webhook answers with.
    """

    def __init__(self, code, message, field=None, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status

    def to_dict(self):
        return {"code": self.code, "message": self.message, "field": self.field}


@dataclass
class LeadPayload:
    """Validated lead data, ready for the Odoo side."""

    values: dict = field(default_factory=dict)
    team_id: int | None = None
    user_id: int | None = None
    tag_names: list = field(default_factory=list)
    utm: dict = field(default_factory=dict)
    external_id: str | None = None
    ignored_fields: list = field(default_factory=list)

    def fingerprint(self):
        """A stable hash of what the lead is made of (not of how it was spelled).

        ``{"user_id": "12"}`` from a form and ``{"user_id": 12}`` from JSON give the same
        fingerprint; the idempotency key and the ignored fields are left out.
        """
        canonical = json.dumps(
            {
                "values": self.values,
                "team_id": self.team_id,
                "user_id": self.user_id,
                "tag_names": self.tag_names,
                "utm": self.utm,
            },
            sort_keys=True,
            ensure_ascii=True,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def parse_lead_payload(data):
    """Validate outside lead data and map it to a :class:`LeadPayload`.

    ``data`` is a mapping of field names to values, from a JSON object or a form post:
    strings such as ``"12"`` are accepted for integers, ``tag_names`` is a list of strings
    or one comma-separated string, empty strings and ``None`` count as absent. Unknown keys
    are listed in ``ignored_fields``. Raises :class:`IntakeError` (status 400).
    """
    if not isinstance(data, Mapping):
        raise IntakeError("invalid_body", "The lead must be a JSON object of fields.")
    payload = LeadPayload()
    payload.ignored_fields = [str(key) for key in data if key not in KNOWN_FIELDS]
    for fname in TEXT_FIELDS:
        value = _text(data, fname)
        if value is not None:
            payload.values[fname] = value
    if not any(fname in payload.values for fname in IDENTIFYING_FIELDS):
        raise IntakeError(
            "missing_lead_data",
            "Nothing to create a lead from: send at least one of "
            + ", ".join(IDENTIFYING_FIELDS)
            + ".",
        )
    if "name" not in payload.values:
        payload.values["name"] = next(
            payload.values[fname] for fname in NAME_SOURCES if fname in payload.values
        )
    payload.team_id = _record_id(data, "team_id")
    payload.user_id = _record_id(data, "user_id")
    payload.tag_names = _tag_names(data)
    payload.utm = {fname: value for fname in UTM_FIELDS if (value := _text(data, fname))}
    external_id = data.get("external_id")
    if isinstance(external_id, int) and not isinstance(external_id, bool):
        external_id = str(external_id)
    external_id = _text(data, "external_id", external_id)
    if external_id is not None and len(external_id) > MAX_EXTERNAL_ID_LENGTH:
        raise IntakeError(
            "invalid_value",
            f"external_id is longer than {MAX_EXTERNAL_ID_LENGTH} characters.",
            "external_id",
        )
    payload.external_id = external_id
    return payload


def check_text(value, fname):
    """``value`` trimmed, or None when empty; IntakeError unless it is storable text."""
    if not isinstance(value, str):
        raise IntakeError("invalid_type", f"{fname} must be a string.", fname)
    if "\x00" in value:
        raise IntakeError("invalid_value", f"{fname} contains a NUL character.", fname)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise IntakeError("invalid_value", f"{fname} is not valid Unicode text.", fname) from None
    return value.strip() or None


def _text(data, fname, value=None):
    value = data.get(fname) if value is None else value
    if value is None:
        return None
    return check_text(value, fname)


def _record_id(data, fname):
    value = data.get(fname)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()):
            raise IntakeError("invalid_type", f"{fname} must be an integer.", fname)
        value = int(text)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)  # 12.0 is an integer for JSON (and JSON Schema)
    elif isinstance(value, bool) or not isinstance(value, int):
        raise IntakeError("invalid_type", f"{fname} must be an integer.", fname)
    if not 0 < value <= MAX_ID:
        raise IntakeError("invalid_value", f"{fname} must be a positive record id.", fname)
    return value


def _tag_names(data):
    value = data.get("tag_names")
    if value is None:
        return []
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple):
        items = value
    else:
        raise IntakeError(
            "invalid_type",
            "tag_names must be a list of strings or a comma-separated string.",
            "tag_names",
        )
    names = []
    for item in items:
        name = check_text(item, "tag_names")
        if name is None or name in names:
            continue
        if len(name) > MAX_TAG_LENGTH:
            raise IntakeError(
                "invalid_value",
                f"A tag name is longer than {MAX_TAG_LENGTH} characters.",
                "tag_names",
            )
        names.append(name)
    return names
