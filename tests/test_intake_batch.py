"""Batches of outside lead data (intake/batch.py)."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from intake import IntakeError, LeadPayload, batch_status, parse_lead_batch


def test_each_item_is_parsed_alone_in_order():
    items = [{"name": "A"}, {"description": "no contact"}, 12, {"name": "D", "user_id": "x"}]
    parsed = parse_lead_batch(items)
    assert isinstance(parsed[0], LeadPayload) and parsed[0].values["name"] == "A"
    assert [(error.code, error.field, error.status) for error in parsed[1:]] == [
        ("missing_lead_data", None, 400),
        ("invalid_body", None, 400),
        ("invalid_type", "user_id", 400),
    ]


@pytest.mark.parametrize(
    "data, code, status",
    [
        ({"name": "not an array"}, "invalid_body", 400),
        ("text", "invalid_body", 400),
        (None, "invalid_body", 400),
        ([], "empty_batch", 400),
        ([{"name": "x"}] * 4, "too_many_items", 413),
    ],
)
def test_batches_refused_whole(data, code, status):
    with pytest.raises(IntakeError) as caught:
        parse_lead_batch(data, max_items=3)
    assert (caught.value.code, caught.value.status) == (code, status)


def test_an_item_too_large_is_refused_alone():
    parsed = parse_lead_batch(
        [{"name": "x" * 2000}, {"name": "é" * 400}, {"name": "small"}], max_item_size=1024
    )
    assert [getattr(item, "code", "ok") for item in parsed] == [
        "payload_too_large",
        "ok",  # 400 characters, 800 bytes of UTF-8
        "ok",
    ]
    assert parsed[0].status == 413


@pytest.mark.parametrize(
    "statuses, status",
    [([201], 201), ([201, 201], 201), ([200, 200], 200), ([422, 422], 422), ([201, 200], 207),
     ([201, 400, 201], 207)],
)  # fmt: skip
def test_batch_status(statuses, status):
    assert batch_status(statuses) == status


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@given(st.lists(json_values, min_size=1, max_size=20))
def test_any_json_array_gives_one_result_per_item(data):
    parsed = parse_lead_batch(json.loads(json.dumps(data)))
    assert len(parsed) == len(data)
    for item, result in zip(data, parsed, strict=True):
        assert isinstance(result, LeadPayload | IntakeError)
        if not isinstance(item, dict):
            assert result.code == "invalid_body"
