"""Who already owns a customer, in plain Python: the e-mail and website domains a lead
and a company are matched on, and the public e-mail domains never matched.

A lead whose e-mail is ``ann@acme.example`` belongs to the customer whose company
contact has an e-mail or a website at ``acme.example``, unless that domain is a public
mail service (``gmail.com``: thousands of unrelated customers share it).
"""

import re

# Common public e-mail services. A trailing ".*" stands for any ending (hotmail.fr,
# yahoo.co.uk). Administrators add their own with the system parameter
# ``lead_allocation.public_email_domains`` (comma-separated, same syntax).
PUBLIC_EMAIL_DOMAINS = (
    "gmail.com",
    "googlemail.com",
    "outlook.*",
    "hotmail.*",
    "live.*",
    "msn.com",
    "yahoo.*",
    "ymail.com",
    "rocketmail.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.*",
    "proton.me",
    "protonmail.com",
    "protonmail.ch",
    "pm.me",
    "gmx.*",
    "web.de",
    "t-online.de",
    "freenet.de",
    "mail.ru",
    "bk.ru",
    "inbox.ru",
    "list.ru",
    "yandex.*",
    "ya.ru",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "foxmail.com",
    "naver.com",
    "daum.net",
    "zoho.com",
    "zohomail.com",
    "mail.com",
    "email.com",
    "fastmail.com",
    "tutanota.com",
    "tuta.io",
    "hey.com",
    "orange.fr",
    "wanadoo.fr",
    "free.fr",
    "sfr.fr",
    "laposte.net",
    "libero.it",
    "virgilio.it",
    "seznam.cz",
    "wp.pl",
    "o2.pl",
    "interia.pl",
    "rediffmail.com",
    "comcast.net",
    "verizon.net",
    "att.net",
    "btinternet.com",
    "sky.com",
    "skynet.be",
    "telenet.be",
)

_WEBSITE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*://)?(?:[^@/]*@)?(?:www\.)?([^/:?#\s]+)", re.I)


def email_domain(email):
    """The domain of an e-mail address, lower case, or "" when there is none.

    >>> email_domain("Ann <Ann@Acme.Example>")
    'acme.example'
    """
    if not email or "@" not in email:
        return ""
    domain = email.rsplit("@", 1)[1].strip().strip(">").strip().lower()
    return domain if "." in domain and " " not in domain else ""


def website_domain(website):
    """The host of a website, lower case, without ``www.``, or "".

    >>> website_domain("https://www.Acme.example/contact")
    'acme.example'
    """
    match = _WEBSITE.match(website or "")
    domain = match.group(1).lower().rstrip(".") if match else ""
    return domain if "." in domain else ""


def public_domains(extra=""):
    """The public e-mail domain patterns: the shipped list and ``extra`` (comma-separated)."""
    added = (part.strip().lower() for part in (extra or "").split(","))
    return PUBLIC_EMAIL_DOMAINS + tuple(part for part in added if part)


def is_public(domain, patterns=PUBLIC_EMAIL_DOMAINS):
    """Whether ``domain`` is a public e-mail service of ``patterns`` ("name.*": any ending)."""
    for pattern in patterns:
        if pattern.endswith(".*"):
            stem = pattern[:-1]  # "hotmail."
            if domain.startswith(stem) and "." not in domain[len(stem) :].replace(".", "", 1):
                return True
        elif domain == pattern:
            return True
    return False


def single_owner(owners):
    """The one owner of ``owners`` (an iterable, falsy ones ignored), or None when there
    are none or several different ones (an ambiguous match)."""
    distinct = {owner for owner in owners if owner}
    return distinct.pop() if len(distinct) == 1 else None
