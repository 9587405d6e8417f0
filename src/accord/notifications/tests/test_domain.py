import random
from datetime import UTC, datetime, timedelta

from accord.notifications.domain import (
    Channel,
    Mode,
    default_mode,
    matches,
    next_attempt_at,
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
