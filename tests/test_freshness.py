"""The index's freshness in words, as the admin and the search page's footer say it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.search.freshness import age_text, duration_text


class TestDurationText:
    @pytest.mark.parametrize(
        ("seconds", "text"),
        [(0.0123, "12 ms"), (0.1, "0.1 s"), (2.4321, "2.4 s"), (9.94, "9.9 s"), (56.4, "56 s"), (125.2, "2 min 5 s")],
    )
    def test_reads_as_people_say_it(self, seconds: float, text: str) -> None:
        assert duration_text(seconds) == text


class TestAgeText:
    def test_under_a_minute_is_just_now(self) -> None:
        assert age_text(timezone.now() - timedelta(seconds=59)) == "just now"

    def test_then_how_long_ago_without_breaking_the_line_inside_a_figure(self) -> None:
        assert age_text(timezone.now() - timedelta(minutes=5, seconds=3)) == "5\xa0minutes ago"
        assert age_text(timezone.now() - timedelta(hours=2, minutes=1)) == "2\xa0hours, 1\xa0minute ago"
