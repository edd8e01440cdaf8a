"""Seeded property-based fuzzing of the public views: no input makes a server error.

Every query parameter (known, unknown, repeated) and the item URL get
arbitrary bytes as a client can send them: NUL, lone surrogates (encoded as
the invalid UTF-8 a client sends for them), invalid UTF-8, 100 KB values.
The seed, the example count and no example database keep it short and the same
on every run; a failure prints the request that caused it.
"""

from __future__ import annotations

from urllib.parse import quote_from_bytes

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from catalog.middleware import NUL_MESSAGE
from tests.reliability.conftest import EXAMPLES, Figures

# Read-only requests against one imported corpus: examples need no fresh
# database each, so the function-scoped fixtures are shared on purpose.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
SEED = 13
LARGE = 100_000

KNOWN_PARAMETERS = [b"q", b"page", b"category", b"tag", b"sort"]
SPECIAL_VALUES = [
    b"",
    b"\x00",
    b"a\x00b",
    b"\xed\xa0\x80",  # a lone surrogate (U+D800) as UTF-8 would spell it: invalid
    b"\xff\xfe",
    b"%",
    b"%zz",
    b"-1",
    b"0",
    b"99999999999999999999",
    b"1e9",
    "\uff12".encode(),  # a fullwidth digit, which int() accepts
    b"name",
    b"relevance",
    b"web",
    b"role::program",
    b"<script>alert(1)</script>",
    b"' OR 1=1 --",
]
# Repeated to 100 KB when drawn (a strategy holding them would print them whole).
LARGE_PIECES = [b"x", "\u00e9".encode(), b"web ", b"\x00"]

values = st.one_of(
    st.sampled_from(SPECIAL_VALUES),
    st.sampled_from(LARGE_PIECES).map(lambda piece: piece * (LARGE // len(piece))),
    st.binary(max_size=30),
    st.text(st.characters(exclude_categories=()), max_size=30).map(lambda text: text.encode("utf-8", "surrogatepass")),
)
keys = st.one_of(st.sampled_from(KNOWN_PARAMETERS), values)
query_strings = st.lists(st.tuples(keys, values), max_size=8).map(
    lambda pairs: "&".join(f"{quote_from_bytes(k, safe='')}={quote_from_bytes(v, safe='')}" for k, v in pairs)
)
headers = st.sampled_from(
    [
        {},
        {"HX-Request": "true"},  # the results fragment
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
    ]
)


def assert_no_server_error(client: Client, url: str, request_headers: dict[str, str], figures: Figures) -> None:
    response = client.get(url, headers=request_headers)
    assert response.status_code < 500, f"{response.status_code} for GET {url[:300]} {request_headers}"
    figures.count("fuzz: requests, 0 server errors")
    figures.count(f"fuzz: answered {response.status_code}")


@pytest.mark.usefixtures("corpus")
class TestFuzzedRequests:
    @seed(SEED)
    @FUZZ
    @given(path=st.sampled_from(["/", "/api/search", "/api/index-status"]), query=query_strings, extra=headers)
    def test_search_page_fragment_and_api_never_fail(
        self, client: Client, figures: Figures, path: str, query: str, extra: dict[str, str]
    ) -> None:
        assert_no_server_error(client, f"{path}?{query}", extra, figures)

    @seed(SEED)
    @FUZZ
    @given(name=values.filter(bool), query=query_strings)
    def test_item_urls_never_fail(self, client: Client, figures: Figures, name: bytes, query: str) -> None:
        assert_no_server_error(client, f"/items/{quote_from_bytes(name, safe='')}/?{query}", {}, figures)

    @pytest.mark.parametrize(
        ("url", "status"),
        [
            ("/items/%00/", 400),
            ("/items/a%00b/", 400),
            ("/?q=a%00b", 400),
            ("/?tag=web&unknown%00=1", 400),
            ("/api/search?q=%00", 400),
            ("/items/%ED%A0%80/", 404),
            ("/items/%FF/", 404),
            (f"/items/{'x' * LARGE}/", 404),
            ("/?q=%01&page=%FF&category=%7F&tag=%ED%A0%80&sort=%ED%A0%80", 200),
            ("/api/search?q=%ED%A0%80&page=-1&tag=a&tag=a&unknown=1", 200),
        ],
    )
    def test_known_bad_inputs(self, client: Client, url: str, status: int) -> None:
        assert client.get(url).status_code == status

    def test_a_null_character_is_refused_with_a_reason(self, client: Client) -> None:
        page, api = client.get("/items/%00/"), client.get("/api/search?q=%00")

        assert page.content.decode() == api.json()["error"] == NUL_MESSAGE
        assert page["Content-Type"] == "text/plain; charset=utf-8"


class TestNullCharactersElsewhere:
    """What Django itself would pass to the database: the admin's filters and lookups, the session cookie."""

    @pytest.mark.parametrize(
        "url",
        [
            "/admin/catalog/searchrefresh/?outcome__exact=%00",
            "/admin/catalog/item/?priority__exact=%00",
            "/admin/autocomplete/?term=%00&app_label=catalog&model_name=itemtag&field_name=tag",
        ],
    )
    def test_admin_filters_and_autocomplete(self, admin_client: Client, url: str) -> None:
        assert admin_client.get(url).status_code == 400

    def test_a_session_cookie(self, client: Client, db: None) -> None:
        client.cookies["sessionid"] = "abcdefghij\x00klmn"

        assert client.get("/admin/").status_code == 400
