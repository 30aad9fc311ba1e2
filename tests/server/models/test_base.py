"""Shared column types and clocks of the models."""

from datetime import datetime, timedelta

from server.models import happened_at, utcnow


def test_happened_at_believes_a_past_moment():
    past = utcnow() - timedelta(days=30)
    assert happened_at(past) == past


def test_happened_at_is_now_without_a_moment_or_with_one_it_cannot_believe():
    for doubtful in (None, utcnow() + timedelta(minutes=5), datetime(2026, 1, 1, 9, 0)):
        before = utcnow()
        moment = happened_at(doubtful)
        assert before <= moment <= utcnow()
