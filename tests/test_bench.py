"""The benchmark harness's pure parts (bench/): no server is started, nothing is sent."""

import argparse
import itertools

import pytest

from bench.chart import chart_data, size_label
from bench.floor_app import sqlite_path, sqlite_query
from bench.load import schedule
from bench.per_request import named_url
from bench.run import fill, pg_url, ratio, ratios, urls_for
from bench.scenarios import SCENARIOS, datasette_sql, keyset_sql

BASES = {
    "app": "http://127.0.0.1:8501",
    "app-nocache": "http://127.0.0.1:8504",
    "floor": "http://127.0.0.1:8502",
    "datasette": "http://127.0.0.1:8503/kb",
}
PARAMS = {"abn1": "synthetic-abnormality-1", "q": "cytotoxicity"}


def scenario(name):
    return next(s for s in SCENARIOS if s.name == name)


def test_fill_puts_the_values_in_the_placeholders():
    assert fill("/api/v1/evidence/?q={q}", PARAMS) == "/api/v1/evidence/?q=cytotoxicity"


def test_fill_refuses_a_placeholder_without_a_value():
    with pytest.raises(KeyError):
        fill("{cursor50}", PARAMS)


def test_every_server_gets_its_url_for_a_scenario():
    urls = urls_for(scenario("evidence_by_abnormality"), BASES, PARAMS)
    assert urls == {
        "app": "http://127.0.0.1:8501/api/v1/evidence/?abnormality=synthetic-abnormality-1",
        "app-nocache": "http://127.0.0.1:8504/api/v1/evidence/?abnormality=synthetic-abnormality-1",
        "floor": "http://127.0.0.1:8502/evidence_by_abnormality?abn1=synthetic-abnormality-1",
        "datasette": "http://127.0.0.1:8503/kb/evidence_by_abnormality.json"
        "?abn1=synthetic-abnormality-1&_shape=array",
    }


def test_the_cursor_scenario_has_no_app_url_when_the_app_gave_no_cursor_link():
    params = {**PARAMS, "after_level": "A", "after_year": "2001", "after_id": "7"}
    urls = urls_for(scenario("evidence_page50_cursor"), BASES, params)
    assert set(urls) == {"floor", "datasette"}
    urls = urls_for(scenario("evidence_page50_cursor"), BASES, {**params, "cursor50": "/c?x=1"})
    assert urls["app-nocache"] == "http://127.0.0.1:8504/c?x=1"


def test_the_interleaved_schedule_asks_every_server_once_a_round():
    order = schedule(["app", "floor", "datasette"], 3)
    assert order == [
        "app", "floor", "datasette",
        "floor", "datasette", "app",
        "datasette", "app", "floor",
    ]  # fmt: skip
    rounds = [order[i : i + 3] for i in range(0, len(order), 3)]
    assert all(sorted(r) == ["app", "datasette", "floor"] for r in rounds)
    # No server ever asked twice in a row.
    assert all(a != b for a, b in itertools.pairwise(order))


def test_a_schedule_of_no_server_is_empty():
    assert schedule([], 5) == []


def test_ratio_is_none_without_both_numbers():
    assert ratio(30, 20) == 1.5
    assert ratio(None, 20) is None
    assert ratio(30, 0) is None


def test_ratios_compare_the_app_with_each_reference_that_answered():
    def timed(p50, p95):
        return {"available": True, "c1": {"p50_ms": p50, "p95_ms": p95}}

    row = {
        "app-nocache": timed(10, 40),
        "floor": timed(5, 20),
        "datasette": {"available": False, "status": 404},
    }
    assert ratios(row, "app-nocache") == {"p50/floor": 2.0, "p95/floor": 2.0}
    assert ratios(row, "app") == {}


def test_chart_data_gives_each_server_its_points_by_size():
    def run(backend, size, p95):
        return {
            "backend": backend,
            "evidence": size,
            "scenarios": {
                "evidence_list": {
                    "label": "the evidence list",
                    "api_list": False,
                    "app-nocache": {"available": True, "c1": {"p50_ms": p95 / 2, "p95_ms": p95}},
                    "floor": {"available": False, "status": 404},
                }
            },
            "memory": {"app-nocache": {"workers": [{"rss_mb": 100, "hwm_mb": 120}, {}]}},
        }

    data = chart_data({"runs": [run("postgresql", 100_000, 40), run("postgresql", 10_000, 8)]})
    assert data["latency"] == {
        "evidence_list": {"app-nocache (PG)": [(10_000, 4, 8), (100_000, 20, 40)]}
    }
    assert data["memory"] == {"app-nocache (PG)": [(10_000, 100, 120), (100_000, 100, 120)]}
    assert data["labels"] == {"evidence_list": "the evidence list"}


def test_sizes_are_labelled_shortly():
    assert [size_label(n) for n in (500, 10_000, 500_000, 2_000_000)] == [
        "500",
        "10k",
        "500k",
        "2M",
    ]


def test_each_size_has_its_own_database_but_the_named_one():
    base = "postgres://postgres@127.0.0.1:5432/kb_perf"
    assert pg_url(base, 500_000, 500_000) == base
    assert pg_url(base, 10_000, 500_000) == "postgres://postgres@127.0.0.1:5432/kb_perf_10000"


def test_the_sqlite_floor_binds_like_django():
    assert sqlite_query("SELECT 1 WHERE a = %s AND b LIKE '%%x' AND c = %s") == (
        "SELECT 1 WHERE a = ? AND b LIKE '%x' AND c = ?"
    )
    assert sqlite_path("sqlite:////tmp/kb.sqlite3") == "/tmp/kb.sqlite3"
    assert sqlite_path("postgres://x/y") is None


def test_datasette_has_a_query_for_every_scenario_on_both_kinds_of_file():
    for source in ("export", "app"):
        queries = datasette_sql(source)
        assert {s.name for s in SCENARIOS} <= set(queries)
    # On the app's own file every query reads the tables through the visibility rules.
    assert all(sql.startswith("WITH") for sql in datasette_sql("app").values())
    assert keyset_sql("app").startswith("WITH") and not keyset_sql("export").startswith("WITH")


def test_per_request_takes_named_urls_and_refuses_anything_else():
    assert named_url("by abnormality=/api/v1/evidence/?abnormality=a&x=1") == (
        "by abnormality",
        "/api/v1/evidence/?abnormality=a&x=1",
    )
    for wrong in ("/api/v1/", "name=api/v1/", "=/api/v1/", "name"):
        with pytest.raises(argparse.ArgumentTypeError):
            named_url(wrong)
