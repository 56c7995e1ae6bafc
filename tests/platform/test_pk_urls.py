"""`{% pk_url %}` gives what `{% url %}` gives, for every row of a table, while reversing
the route once per page."""

from unittest import mock

import pytest
from django.template import Context, engines
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix

ROW_LINKS = ["safety:detail", "patients:participant", "notifications:open"]
PKS = [0, 7, 42, 10**12]
ROWS = engines["django"].from_string(
    "{% load pk_urls %}{% for pk in pks %}{% pk_url name pk %}|{% endfor %}"
)


def rendered(name, pks) -> list[str]:
    return ROWS.render({"name": name, "pks": pks}).split("|")[:-1]


@pytest.mark.parametrize("name", ROW_LINKS)
def test_each_row_links_where_url_would(name):
    assert rendered(name, PKS) == [reverse(name, args=[pk]) for pk in PKS]


def test_the_route_is_reversed_once_per_render():
    with mock.patch("core.templatetags.pk_urls.reverse", wraps=reverse) as reversing:
        rendered("safety:detail", PKS)
        rendered("safety:detail", PKS)
    assert reversing.call_count == 2


def test_the_script_prefix_of_each_request_is_kept():
    try:
        set_script_prefix("/ecrf/")
        [behind_a_prefix] = rendered("safety:detail", [5])
        assert behind_a_prefix == reverse("safety:detail", args=[5])
    finally:
        clear_script_prefix()
    assert behind_a_prefix.startswith("/ecrf/")
    assert rendered("safety:detail", [5]) == [behind_a_prefix.removeprefix("/ecrf")]


def test_what_is_not_a_record_number_is_reversed_as_url_does():
    assert rendered("trials:study", ["RP"]) == [reverse("trials:study", args=["RP"])]


def test_a_route_without_a_number_is_refused():
    template = engines["django"].from_string("{% load pk_urls %}{% pk_url 'home' 1 %}")
    with pytest.raises(NoReverseMatch, match="home"):
        template.template.render(Context({}))
