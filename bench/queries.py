"""The query classes the suite times, as a person would type them.

Most classes are fixed queries made of words every size of the synthetic
catalog holds (its words follow the real catalog's frequencies). Two are
chosen from the data, because what counts as rare or common depends on it:
rare terms come from the index's vocabulary (a handful of items each), and
common terms are checked to match more than 20% of the items.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from catalog.search import TEXT_SEARCH_CONFIG

CLASSES = [
    "rare term",
    "common term",
    "two terms",
    "three terms",
    "phrase",
    "prefix",
    "typo",
    "facet filter",
    "page 10",
    "browse",
]
# A common term must match more than this share of the items.
COMMON_SHARE = 0.20
COMMON_CANDIDATES = ["package", "library", "files", "support", "data", "provides", "program"]
PER_CLASS = 4

FIXED: dict[str, list[tuple[str, dict[str, object]]]] = {
    "two terms": [("web browser", {}), ("python library", {}), ("text editor", {}), ("audio player", {})],
    "three terms": [
        ("python web framework", {}),
        ("gnome text editor", {}),
        ("command line tool", {}),
        ("audio video player", {}),
    ],
    "phrase": [('"web browser"', {}), ('"command line"', {}), ('"development files"', {}), ('"shared library"', {})],
    # What the page sends while someone types: the last word unfinished.
    "prefix": [("pyth", {}), ("libreoff", {}), ("web brows", {}), ("netw", {})],
    # Common words mistyped (first letter kept, one or two edits): corrected, then searched.
    "typo": [("libary", {}), ("pyhton", {}), ("netwrok", {}), ("databse", {})],
    "facet filter": [
        ("library", {"categories": ("libs",)}),
        ("python", {"categories": ("python",)}),
        ("game", {"categories": ("games",)}),
        ("editor", {"tags": ("role::program",)}),
    ],
    "page 10": [("library", {"page": 10}), ("python", {"page": 10}), ("data", {"page": 10}), ("tool", {"page": 10})],
    # No words, a category chosen: its items, most popular first; large and small categories.
    "browse": [("", {"categories": (name,)}) for name in ("libs", "utils", "games", "editors")],
}


@dataclass(frozen=True)
class Case:
    """One query of a class, with the arguments document_search takes."""

    cls: str
    text: str
    page: int = 1
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def search_kwargs(self) -> dict[str, object]:
        return {"text": self.text, "page": self.page, "categories": list(self.categories), "tags": list(self.tags)}

    def label(self) -> str:
        """The query as the report lists it: its text, then its page and filters."""
        page = f" (page {self.page})" if self.page != 1 else ""
        filters = [f" [category={value}]" for value in self.categories] + [f" [tag={value}]" for value in self.tags]
        return self.text + page + "".join(filters)

    def api_path(self) -> str:
        params: list[tuple[str, object]] = [("q", self.text)]
        if self.page != 1:
            params.append(("page", self.page))
        params += [("category", c) for c in self.categories] + [("tag", t) for t in self.tags]
        return "/api/search?" + urlencode(params)


# The rarest words: a handful of items each (at 1M items, every word of the
# synthetic text is in a dozen or more, so "rare" is relative).
RARE_SQL = """
    SELECT word FROM catalog_searchword
    WHERE length(word) >= 6 AND word ~ '^[a-z]+$'
    ORDER BY documents, md5(word) LIMIT %s
"""
SHARE_SQL = f"""
    SELECT count(*)::float / greatest(1, (SELECT count(*) FROM catalog_searchindex))
    FROM catalog_searchindex WHERE document @@ plainto_tsquery('{TEXT_SEARCH_CONFIG}', %s)
"""


def choose_cases() -> tuple[list[Case], dict[str, float]]:
    """Every class's queries for the current database, and each common term's share of items."""
    from django.db import connection

    cases: list[Case] = []
    shares: dict[str, float] = {}
    with connection.cursor() as cursor:
        cursor.execute(RARE_SQL, [PER_CLASS])
        cases += [Case("rare term", word) for (word,) in cursor.fetchall()]
        for word in COMMON_CANDIDATES:
            cursor.execute(SHARE_SQL, [word])
            share = cursor.fetchone()[0]
            if share > COMMON_SHARE:
                shares[word] = share
                cases.append(Case("common term", word))
            if len(shares) == PER_CLASS:
                break
    for cls, queries in FIXED.items():
        cases += [Case(cls, text, **options) for text, options in queries]  # type: ignore[arg-type]
    return cases, shares
