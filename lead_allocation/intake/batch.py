"""Batches of outside lead data (``POST /lead_allocation/webhook/batch``), in plain Python.

A batch is a JSON array of lead objects, each validated alone by ``parse_lead_payload``:
a bad item gets its own error and never refuses the others. Only the batch as a whole
(not an array, empty, too many items) is refused whole.
"""

import json

from .payload import IntakeError, parse_lead_payload

MAX_BATCH_ITEMS = 500
MAX_BATCH_SIZE = 5 * 1024 * 1024  # bytes of the whole body
MAX_ITEM_SIZE = 64 * 1024  # bytes of one item as compact JSON: a single webhook body's limit


def parse_lead_batch(data, max_items=MAX_BATCH_ITEMS, max_item_size=MAX_ITEM_SIZE):
    """One ``LeadPayload`` or ``IntakeError`` per item of ``data`` (decoded JSON), in order.

    Raises IntakeError when the batch itself cannot be taken: not an array or empty
    (400), more than ``max_items`` items (413).
    """
    if not isinstance(data, list):
        raise IntakeError("invalid_body", "The batch must be a JSON array of lead objects.")
    if not data:
        raise IntakeError("empty_batch", "The batch is empty: send at least one lead.")
    if len(data) > max_items:
        raise IntakeError(
            "too_many_items",
            f"The batch has {len(data)} leads: send at most {max_items} per request.",
            status=413,
        )
    return [_parse_item(item, max_item_size) for item in data]


def _parse_item(item, max_item_size):
    try:
        if _json_size(item) > max_item_size:
            raise IntakeError(
                "payload_too_large",
                f"This lead is larger than {max_item_size // 1024} KiB.",
                status=413,
            )
        return parse_lead_payload(item)
    except IntakeError as error:
        return error


def _json_size(item):
    text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-8", "surrogatepass"))


def batch_status(statuses):
    """The HTTP status of a batch whose items have ``statuses``: their common status, or
    207 (Multi-Status) when they differ."""
    distinct = set(statuses)
    return distinct.pop() if len(distinct) == 1 else 207
