"""The app's options, with their defaults; searchsite/settings.py sets them from the environment."""

from django.conf import settings


def refresh_quiet_seconds() -> float:
    """Refresh once edits have been quiet this long, so a burst costs one refresh."""
    return float(getattr(settings, "SEARCH_REFRESH_QUIET_SECONDS", 1.0))


def refresh_max_wait_seconds() -> float:
    """But never let the first edit of a burst wait longer than this."""
    return float(getattr(settings, "SEARCH_REFRESH_MAX_WAIT_SECONDS", 30.0))


def refresh_poll_seconds() -> float:
    """Look for pending edits this often even without a notification."""
    return float(getattr(settings, "SEARCH_REFRESH_POLL_SECONDS", 60.0))


def search_timeout_ms() -> int:
    """What one search may cost: past this, the person is asked to simplify it."""
    return int(getattr(settings, "SEARCH_TIMEOUT_MS", 2000))


def compaction_share() -> float:
    """Refresh the materialized view once pending items exceed this share of it; merge them until then.

    The overlay serves 1% of a million items pending within noise of none
    (docs/benchmarks.md), and a compaction, whose cost follows the catalog, is
    then paid once per 1% of the catalog changed: a constant cost per edit.
    """
    return float(getattr(settings, "SEARCH_COMPACTION_SHARE", 0.01))


def search_semantic() -> bool:
    """Blend the words' ranking with the item vectors' (docs/ranking.md); off: words alone, as before."""
    return bool(getattr(settings, "SEARCH_SEMANTIC", True))
