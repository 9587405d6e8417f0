"""The channel rule the PostgreSQL form-post statement applies in SQL, held to infer_channel."""

import itertools

from accord.capture.domain import infer_channel
from accord.capture.ingestion import _channel_rule
from accord.core.vocabulary import Channel

MEDIA = ["", "cpc", "email", "webinar", "social", "something-else"]
SOURCES = ["", "facebook", "google", "newsletter", "partner-site"]
REFERRERS = ["", "https://www.google.com/search", "https://t.co/x", "https://blog.example.org/post"]
CAMPAIGN_CHANNELS = ["", *Channel.values]


def test_the_statements_channel_rule_gives_what_infer_channel_gives_for_every_campaign_channel():
    for medium, source, referrer in itertools.product(MEDIA, SOURCES, REFERRERS):
        campaign_decides, fallback = _channel_rule(medium, source, referrer)
        for campaign_channel in CAMPAIGN_CHANNELS:
            # What the statement computes: the campaign's channel when it decides and has one.
            chosen = (campaign_channel or fallback) if campaign_decides else fallback
            expected = infer_channel(
                utm_medium=medium, utm_source=source, referrer=referrer, campaign_channel=campaign_channel
            )
            assert chosen == expected, (medium, source, referrer, campaign_channel)


def test_a_medium_that_decides_the_channel_leaves_the_campaign_no_say():
    assert _channel_rule("cpc", "google", "") == (False, Channel.PAID_SEARCH)
    assert _channel_rule("", "", "https://t.co/x") == (True, Channel.ORGANIC_SOCIAL)
