"""The domains a new lead is matched to its customer on (allocation/owner.py)."""

import pytest
from allocation.owner import email_domain, is_public, public_domains, single_owner, website_domain
from hypothesis import given
from hypothesis import strategies as st

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
DOMAIN = st.lists(LABEL, min_size=2, max_size=4).map(".".join)


@given(DOMAIN, LABEL)
def test_email_domain_is_the_lower_case_part_after_the_last_at(domain, local):
    assert email_domain(f"{local}@{domain.upper()}") == domain
    assert email_domain(f'"Name" <{local}@{domain}>') == domain


@given(DOMAIN, st.sampled_from(["", "http://", "https://", "HTTPS://"]), st.booleans())
def test_website_domain_drops_scheme_www_and_path(domain, scheme, www):
    prefix = "www." if www else ""
    assert website_domain(f"{scheme}{prefix}{domain}/contact?x=1") == domain
    assert website_domain(f"{scheme}{prefix}{domain}:8080") == domain


@pytest.mark.parametrize("value", ["", "no-at-sign", "a@localhost", None])
def test_no_domain(value):
    assert email_domain(value) == ""


@pytest.mark.parametrize(
    "domain, public",
    [
        ("gmail.com", True),
        ("hotmail.fr", True),
        ("hotmail.co.uk", True),
        ("yahoo.com", True),
        ("gmx.de", True),
        ("acme.example", False),
        ("gmail.com.evil.example", False),
        ("notgmail.com", False),
        ("hotmail.fr.acme.example", False),
    ],
)
def test_public_domains(domain, public):
    assert is_public(domain) is public


def test_administrators_add_public_domains():
    patterns = public_domains(" Corp-Mail.example, webmail.* ,")
    assert is_public("corp-mail.example", patterns)
    assert is_public("webmail.net", patterns)
    assert not is_public("corp-mail.example")


@given(st.lists(st.sampled_from([None, 0, 1, 2]), max_size=6))
def test_single_owner(owners):
    distinct = {owner for owner in owners if owner}
    assert single_owner(owners) == (distinct.pop() if len(distinct) == 1 else None)
