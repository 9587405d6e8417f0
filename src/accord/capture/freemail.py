"""Mail providers anyone can sign up to: their domains say nothing about a person's employer.

The one list capture, forms and imports consult before they match or create an account by domain.
"""

from __future__ import annotations

FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "rocketmail.com",
        "hotmail.com", "outlook.com", "live.com", "msn.com", "passport.com",
        "icloud.com", "me.com", "mac.com", "aol.com", "aim.com", "protonmail.com", "proton.me",
        "pm.me", "tutanota.com", "tuta.io", "zoho.com", "zohomail.com", "mail.com", "email.com",
        "gmx.com", "gmx.net", "gmx.de", "gmx.at", "gmx.ch", "web.de", "t-online.de", "freenet.de",
        "posteo.de", "mailbox.org", "orange.fr", "wanadoo.fr", "free.fr", "laposte.net", "sfr.fr",
        "libero.it", "virgilio.it", "tiscali.it", "alice.it", "seznam.cz", "wp.pl", "o2.pl",
        "onet.pl", "interia.pl", "yandex.ru", "yandex.com", "mail.ru", "bk.ru", "list.ru",
        "inbox.ru", "rambler.ru", "qq.com", "163.com", "126.com", "sina.com", "naver.com",
        "hanmail.net", "rediffmail.com", "bigpond.com", "optusnet.com.au", "shaw.ca",
        "sympatico.ca", "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "cox.net",
        "charter.net", "earthlink.net", "btinternet.com", "sky.com", "virginmedia.com",
        "ntlworld.com", "talktalk.net", "bluewin.ch", "telenet.be", "skynet.be", "ziggo.nl",
        "kpnmail.nl", "hetnet.nl", "home.nl", "planet.nl", "telia.com", "online.no", "uol.com.br",
        "bol.com.br", "terra.com.br", "hushmail.com", "fastmail.com", "fastmail.fm",
    }
)

# Providers that run the same free service under many country domains
# (gmx.es, yahoo.co.uk, hotmail.fr …): the first label alone decides.
FREE_MAIL_FAMILIES = frozenset(
    {"gmail", "googlemail", "yahoo", "ymail", "hotmail", "outlook", "live", "msn", "aol",
     "gmx", "yandex", "protonmail", "icloud", "zoho"}
)


def is_free_mail(domain: str) -> bool:
    """Tell whether a (lower-case) mail domain belongs to a free provider rather than a company."""
    if domain in FREE_MAIL_DOMAINS:
        return True
    first, _, rest = domain.partition(".")
    # "yahoo.co.uk" has a short public suffix after the family name; "yahoo-inc.com" is a company.
    return first in FREE_MAIL_FAMILIES and 0 < len(rest) <= 6
