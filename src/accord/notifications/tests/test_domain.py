import random
from datetime import UTC, datetime, timedelta

import pytest

from accord.notifications.domain import (
    Channel,
    Mode,
    default_mode,
    matches,
    next_attempt_at,
    refused_address,
    signature,
    verify_signature,
    webhook_body,
)

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_retry_delays_double_from_ten_seconds_within_their_jitter_band():
    rng = random.Random(1)
    delays = [
        (next_attempt_at(attempts=n, first_attempt_at=T0, now=T0, rng=rng) - T0).total_seconds()
        for n in (1, 2, 3, 4)
    ]
    for n, delay in enumerate(delays):
        full = 10 * 2**n
        assert full / 2 <= delay <= full


def test_retry_delay_stops_growing_at_six_hours():
    when = next_attempt_at(attempts=30, first_attempt_at=T0, now=T0, rng=random.Random(2))
    assert timedelta(hours=3) <= when - T0 <= timedelta(hours=6)


def test_no_retry_is_scheduled_past_three_days_after_the_first_attempt():
    late = T0 + timedelta(days=3) - timedelta(minutes=1)
    assert next_attempt_at(attempts=20, first_attempt_at=T0, now=late, rng=random.Random(3)) is None


def test_a_signature_verifies_with_the_same_secret_and_fails_with_another_or_when_stale():
    body = webhook_body(event_id="e1", event_type="deal.won", occurred_at=T0, record_key="deal:1",
                        payload={"amount": "100.00"})
    header = signature(secret="s3cret", timestamp=1_800_000_000, body=body)

    assert header.startswith("v1=") and len(header) == 3 + 64
    assert verify_signature(secret="s3cret", timestamp="1800000000", body=body, header=header,
                            now=1_800_000_010)
    assert not verify_signature(secret="other", timestamp="1800000000", body=body, header=header,
                                now=1_800_000_010)
    assert not verify_signature(secret="s3cret", timestamp="1800000000", body=body + b" ",
                                header=header, now=1_800_000_010)
    assert not verify_signature(secret="s3cret", timestamp="1800000000", body=body, header=header,
                                now=1_800_001_000)


def test_an_empty_filter_takes_every_event_and_a_family_filter_takes_its_members_only():
    assert matches([], "deal.won")
    assert matches(["deal.*"], "deal.won")
    assert not matches(["deal.*"], "dealer.signed")
    assert matches(["lead.rejected", "deal.won"], "deal.won")
    assert not matches(["lead.rejected"], "deal.won")


def test_a_rep_is_emailed_at_once_about_a_new_lead_and_gets_deals_won_in_the_digest():
    assert default_mode(role="sales_rep", kind="lead_assigned", channel=Channel.EMAIL) == Mode.IMMEDIATE
    assert default_mode(role="sales_rep", kind="deal_won", channel=Channel.EMAIL) == Mode.DIGEST
    assert default_mode(role="sales_rep", kind="sla_breach", channel=Channel.SLACK) == Mode.IMMEDIATE
    assert default_mode(role="executive", kind="sla_breach", channel=Channel.EMAIL) == Mode.DIGEST
    assert default_mode(role="executive", kind="sla_breach", channel=Channel.IN_APP) == Mode.IMMEDIATE


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "::1", "fe80::1", "fd00:ec2::254", "::ffff:127.0.0.1", "224.0.0.1",
])
def test_loopback_private_link_local_and_metadata_addresses_are_refused(address):
    assert refused_address(address) is True


def test_a_public_address_is_not_refused():
    assert refused_address("93.184.215.14") is False
    assert refused_address("2606:2800:21f:cb07:6820:80da:af6b:8b2c") is False


def test_an_allowed_network_lets_its_private_addresses_through_and_no_others():
    assert refused_address("127.0.0.1", allowed=["127.0.0.0/8"]) is False
    assert refused_address("10.0.0.1", allowed=["127.0.0.0/8"]) is True
