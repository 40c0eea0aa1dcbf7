"""Mapping and validation of outside lead data (intake/payload.py)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from intake import KNOWN_FIELDS, IntakeError, LeadPayload, parse_lead_payload


def test_full_json_payload():
    payload = parse_lead_payload(
        {
            "name": " Website quote ",
            "contact_name": "Ann Buyer",
            "partner_name": "Buyer Ltd",
            "email_from": "ann@buyer.example",
            "phone": "+32 2 555 00 00",
            "description": "Wants 40 seats",
            "website": "https://buyer.example",
            "team_id": 3,
            "user_id": 12,
            "tag_names": ["Hot", "Web", "Hot"],
            "source": "Website",
            "medium": "Form",
            "campaign": "Spring",
            "external_id": "order-1",
            "colour": "blue",
        }
    )
    assert payload.values == {
        "name": "Website quote",
        "contact_name": "Ann Buyer",
        "partner_name": "Buyer Ltd",
        "email_from": "ann@buyer.example",
        "phone": "+32 2 555 00 00",
        "description": "Wants 40 seats",
        "website": "https://buyer.example",
    }
    assert (payload.team_id, payload.user_id) == (3, 12)
    assert payload.tag_names == ["Hot", "Web"]
    assert payload.utm == {"source": "Website", "medium": "Form", "campaign": "Spring"}
    assert payload.external_id == "order-1"
    assert payload.ignored_fields == ["colour"]


def test_form_strings_are_accepted():
    payload = parse_lead_payload(
        {"contact_name": "Ann", "user_id": " 12 ", "team_id": "", "tag_names": "a, b,,a"}
    )
    assert payload.user_id == 12
    assert payload.team_id is None
    assert payload.tag_names == ["a", "b"]
    assert payload.values == {"name": "Ann", "contact_name": "Ann"}


@pytest.mark.parametrize(
    ("data", "name"),
    [
        ({"contact_name": "Ann", "partner_name": "Ltd"}, "Ann"),
        ({"partner_name": "Ltd", "phone": "1"}, "Ltd"),
        ({"email_from": "a@b.example"}, "a@b.example"),
        ({"phone": "555", "name": "  "}, "555"),
    ],
)
def test_missing_name_is_derived(data, name):
    assert parse_lead_payload(data).values["name"] == name


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ([1, 2], "invalid_body", None),
        ("name", "invalid_body", None),
        ({}, "missing_lead_data", None),
        ({"description": "only a description"}, "missing_lead_data", None),
        ({"name": "  ", "phone": None}, "missing_lead_data", None),
        ({"name": 5}, "invalid_type", "name"),
        ({"name": ["a"]}, "invalid_type", "name"),
        ({"name": "a\x00b"}, "invalid_value", "name"),
        ({"name": "\ud800"}, "invalid_value", "name"),
        ({"name": "x", "user_id": "twelve"}, "invalid_type", "user_id"),
        ({"name": "x", "user_id": 1.5}, "invalid_type", "user_id"),
        ({"name": "x", "user_id": True}, "invalid_type", "user_id"),
        ({"name": "x", "user_id": "-3"}, "invalid_type", "user_id"),
        ({"name": "x", "user_id": 0}, "invalid_value", "user_id"),
        ({"name": "x", "team_id": 2**31}, "invalid_value", "team_id"),
        ({"name": "x", "tag_names": {"a": 1}}, "invalid_type", "tag_names"),
        ({"name": "x", "tag_names": ["a", 3]}, "invalid_type", "tag_names"),
        ({"name": "x", "tag_names": ["t" * 200]}, "invalid_value", "tag_names"),
        ({"name": "x", "source": 3}, "invalid_type", "source"),
        ({"name": "x", "external_id": ["k"]}, "invalid_type", "external_id"),
        ({"name": "x", "external_id": "k" * 256}, "invalid_value", "external_id"),
    ],
)
def test_invalid_data(data, code, field):
    with pytest.raises(IntakeError) as caught:
        parse_lead_payload(data)
    error = caught.value
    assert (error.code, error.field, error.status) == (code, field, 400)
    assert error.to_dict() == {"code": code, "message": error.message, "field": field}
    assert isinstance(error, ValueError)


def test_integer_external_id_and_nulls():
    payload = parse_lead_payload({"name": "x", "external_id": 42, "user_id": None, "source": None})
    assert payload.external_id == "42"
    assert payload.user_id is None
    assert payload.utm == {}


def test_fingerprint_ignores_spelling_key_and_unknown_fields():
    form = parse_lead_payload({"name": "x", "user_id": "12", "tag_names": "a,b", "k": "1"})
    json_ = parse_lead_payload({"name": "x ", "user_id": 12, "tag_names": ["a", "b"]})
    keyed = parse_lead_payload({"name": "x", "user_id": 12, "tag_names": "a,b", "external_id": "e"})
    assert form.fingerprint() == json_.fingerprint() == keyed.fingerprint()
    assert form.fingerprint() != parse_lead_payload({"name": "y", "user_id": 12}).fingerprint()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
field_names = st.sampled_from(sorted(KNOWN_FIELDS)) | st.text(max_size=12)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(field_names, json_values, max_size=10))
def test_any_json_object_is_either_a_payload_or_an_intake_error(data):
    try:
        payload = parse_lead_payload(data)
    except IntakeError as error:
        assert error.status == 400
        assert error.field is None or error.field in KNOWN_FIELDS
        return
    assert isinstance(payload, LeadPayload)
    assert payload.values.get("name")
    assert set(payload.ignored_fields) == set(data) - KNOWN_FIELDS
    for value in [*payload.values.values(), *payload.tag_names, *payload.utm.values()]:
        assert isinstance(value, str) and value == value.strip() and value
        assert "\x00" not in value
        value.encode("utf-8")
    for record_id in (payload.team_id, payload.user_id):
        assert record_id is None or (isinstance(record_id, int) and 0 < record_id < 2**31)
    assert len(payload.tag_names) == len(set(payload.tag_names))


form_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00,"), max_size=20)


@settings(max_examples=300, deadline=None)
@given(
    name=form_text.filter(str.strip),
    user_id=st.integers(1, 2**31 - 1),
    tags=st.lists(form_text.filter(str.strip), max_size=5),
)
def test_form_and_json_spellings_agree(name, user_id, tags):
    as_json = parse_lead_payload({"name": name, "user_id": user_id, "tag_names": tags})
    as_form = parse_lead_payload(
        {"name": name, "user_id": str(user_id), "tag_names": ",".join(tags)}
    )
    assert as_json == as_form
    assert as_json.fingerprint() == as_form.fingerprint()
