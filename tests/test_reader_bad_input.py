"""Nothing a URL can hold gives a 500: bad filters get a 400 naming the parameter and
the reason, unknown records a 404 page."""

import pytest

from tests import factories

pytestmark = pytest.mark.django_db

LONG = "x" * 5000


@pytest.fixture(autouse=True)
def some_data():
    therapy = factories.make_therapy(slug="ldn")
    nk = factories.make_abnormality(slug="low-nk")
    factories.make_evidence(therapy=therapy, abnormality=nk)


@pytest.mark.parametrize(
    ("url", "param", "reason"),
    [
        ("/treatments/?level=Z", "level", "Z is not one of the available choices"),
        ("/treatments/?level=", None, None),
        ("/treatments/?abnormality=", None, None),
        ("/treatments/?abnormality=&abnormality=nope", "abnormality", "nope is not one of"),
        ("/treatments/?abnormality=no-such", "abnormality", "no-such is not one of"),
        ("/treatments/?abnormality=low%00nk", "abnormality", "Null characters are not allowed"),
        ("/treatments/?match=some", "match", "some is not one of"),
        ("/treatments/?kind=potion", "kind", "potion is not one of"),
        ("/treatments/?stage=%00", "stage", "\ufffd is not one of the available choices"),
        ("/treatments/?direction=up", "direction", "up is not one of"),
        ("/treatments/?sort=price", "sort", "price is not one of"),
        (f"/treatments/?q={LONG}", "q", "at most 200 characters"),
        ("/treatments/?q=%00", "q", "Null characters are not allowed"),
        ("/treatments/?page=0", "page", "whole number, 1 or more"),
        ("/treatments/?page=-1", "page", "whole number, 1 or more"),
        ("/treatments/?page=abc", "page", "whole number, 1 or more"),
        ("/treatments/?page=1.5", "page", "whole number, 1 or more"),
        ("/treatments/?page=%C2%B2", "page", "whole number, 1 or more"),
        ("/treatments/?page=" + "9" * 5000, "page", "whole number, 1 or more"),
        ("/treatments/?page=999999999", "page", "there is only 1 page of results"),
        ("/treatments/?page=last", "page", "whole number, 1 or more"),
        ("/treatments/?format=xlsx", "format", "must be csv or json"),
        ("/treatments/?format=csv&level=Z", "level", "Z is not one of"),
        ("/abnormalities/?category=bones", "category", "bones is not one of"),
        ("/abnormalities/?q=%00", "q", "Null characters are not allowed"),
        ("/sources/?year_min=nineteen", "year_min", "Enter a whole number"),
        ("/sources/?year_min=1e999", "year_min", "Enter a whole number"),
        ("/sources/?year_max=99999999999999999999", "year_max", "less than or equal to 2100"),
        ("/sources/?retracted=banana", "retracted", "banana is not one of"),
        (f"/search/?q={LONG}", "q", "at most 200 characters"),
        ("/search/?q=%00", "q", "Null characters are not allowed"),
    ],
)
def test_a_bad_filter_gets_a_400_naming_the_parameter_and_why(client, url, param, reason):
    response = client.get(url)

    if param is None:  # an empty value means "no filter"
        assert response.status_code == 200
        return
    assert response.status_code == 400
    html = response.content.decode()
    assert f"(<code>{param}</code>)" in html
    assert reason in html
    assert "Not medical advice." in html


@pytest.mark.parametrize(
    "url",
    [
        "/treatments/no-such-therapy/",
        "/treatments/ldn/abnormalities/no-such/",
        "/abnormalities/no-such/",
        "/abnormalities/%C3%A9t%C3%A9/",
        "/sources/0/",
        "/sources/99999999999999999999999999/",
        "/sources/-1/",
        "/sources/abc/",
        "/no/such/page/",
        "/treatments/%00/",
    ],
)
def test_an_unknown_record_gets_the_404_page(client, url):
    response = client.get(url)

    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "Ampligen",
        "%E2%80%AE%E2%80%8Bnk%E2%80%8D",  # right-to-left override, zero-width characters
        "%F0%9F%A7%AC%F0%9F%92%8A",  # emoji
        "%ED%A0%80",  # a lone surrogate: not valid UTF-8
        "%FF%FE",  # not UTF-8 at all
        "n%CC%83k%CC%8A",  # combining marks
        "%22%27%3C%3E%26%5C%3A%2A%21%7C%28%29",  # quotes, tsquery operators
        "-",
        "or",
        "the and of",  # only stop words
        "&q=second",
    ],
)
def test_odd_text_never_breaks_search_or_the_filters(client, query):
    for url in (f"/search/?q={query}", f"/treatments/?q={query}", f"/sources/?q={query}"):
        response = client.get(url)
        assert response.status_code == 200, url


def test_a_huge_page_number_on_an_export_is_ignored_not_a_crash(client):
    # Downloads are never paginated: the whole filtered list is the file.
    response = client.get("/treatments/?format=json&page=99999")

    assert response.status_code == 200
    assert response.json()["count"] == 1
