"""Each page of the dashboard in Chromium: its figures are the API's for the same data, it narrows, exports,
hides drafts from readers, signs out, and axe finds no serious or critical WCAG 2.1 AA violation."""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import openpyxl
import pytest

from tests.dashboard.conftest import (
    READER_EMAIL,
    READER_PASSWORD,
    api,
    every_item,
    screenshot,
    serious_violations,
    sign_in,
)

pytestmark = pytest.mark.browser

LABELS = {"outstanding": "Outstanding", "good": "Good", "requires_improvement": "Requires improvement",
          "inadequate": "Inadequate"}


def cells(page, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


def expected_distribution(stack, headers) -> Counter:
    """Each unit's latest published overall rating, counted, from the API."""
    latest: dict[str, dict] = {}
    for inspection in every_item(stack, headers, "/inspections", status="published", limit=200):
        held = latest.get(inspection["unit_id"])
        if held is None or inspection["published_at"] > held["published_at"]:
            latest[inspection["unit_id"]] = inspection
    units = every_item(stack, headers, "/units", limit=500)
    return Counter(latest[u["id"]]["current_rating"] if u["id"] in latest else "not_inspected" for u in units)


def test_signing_in_shows_the_units_with_the_apis_ratings(page, stack, admin_headers):
    sign_in(page)
    assert page.locator("h1").inner_text() == "Units"
    expected = expected_distribution(stack, admin_headers)
    shown = {code: int(page.locator(f"#distribution td[data-rating='{code}']").inner_text())
             for code in (*LABELS, "not_inspected")}
    assert shown == {code: expected.get(code, 0) for code in shown}
    assert int(page.locator("#shown-count").inner_text()) == sum(expected.values())
    unit = stack["unit"]
    row = page.locator(f"#units-table tr[data-unit='{unit['code']}']")
    assert LABELS[stack["published"]["current_rating"]] in row.inner_text()
    assert page.locator("#units-table tbody tr").count() == sum(expected.values())
    assert serious_violations(page) == []
    screenshot(page, "units")


def test_a_filter_narrows_the_table_and_its_counts(page, stack, admin_headers):
    sign_in(page)
    total = page.locator("#units-table tbody tr").count()
    page.select_option("#rating", stack["published"]["current_rating"])
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state()
    rows = page.locator("#units-table tbody tr")
    expected = expected_distribution(stack, admin_headers)[stack["published"]["current_rating"]]
    assert 0 < rows.count() == expected < total
    assert set(rows.evaluate_all("rows => rows.map(r => r.dataset.rating)")) == {stack["published"]["current_rating"]}
    assert "rating=" in page.url  # a GET: the filtered page has an address of its own
    tag = page.locator("#selected-filters .moj-filter__tag")
    assert tag.count() == 1 and LABELS[stack["published"]["current_rating"]] in tag.inner_text()
    # Sorting in the page (MoJ Frontend's sortable table) keeps the rows the filter chose.
    names = lambda: rows.evaluate_all("rows => rows.map(r => r.querySelector('th').dataset.sortValue)")  # noqa: E731
    page.get_by_role("button", name="Unit", exact=True).click()
    assert page.locator("#units-table th[aria-sort='descending']").inner_text().strip() == "Unit"
    in_page = rows.evaluate_all("rows => rows.map(r => r.querySelector('th').dataset.sortValue)"
                                ".sort((a, b) => b.localeCompare(a))")
    assert names() == in_page and rows.count() == expected
    # The column's link (what a page without scripts offers) sorts on the server, the filters kept.
    page.goto(page.url.replace("order=asc", "order=desc"))
    assert rows.count() == expected
    assert page.locator("#units-table th[aria-sort='descending']").inner_text().strip() == "Unit"
    # The filter's tag links to the page without it.
    tag.click()
    page.wait_for_load_state()
    assert "rating=" not in page.url and page.locator("#units-table tbody tr").count() == total


def test_a_units_page_shows_each_inspections_ratings_by_standard(page, stack, admin_headers):
    unit = stack["unit"]
    sign_in(page, path=f"/units/{unit['id']}")
    history = api(stack, admin_headers, f"/units/{unit['id']}/ratings-history")["items"]
    rows = page.locator("#history-table tbody tr")
    assert rows.count() == len(history)
    for item in history:
        summary = api(stack, admin_headers, f"/inspections/{item['inspection_id']}/summary")
        row = page.locator(f"#history-table tr[data-inspection='{item['inspection_id']}']")
        assert row.locator("td[data-overall]").inner_text().strip() == LABELS[item["overall_rating"]]
        for standard in summary["ratings"]["standards"]:
            shown = row.locator(f"td[data-standard='{standard['standard']}']").inner_text().strip()
            assert shown == LABELS.get(standard["rating"], "Not rated")
    assert serious_violations(page) == []
    screenshot(page, "unit")


def test_an_inspections_page_shows_the_reports_figures_and_charts(page, stack, admin_headers):
    inspection_id = stack["published"]["id"]
    sign_in(page, path=f"/inspections/{inspection_id}")
    report = api(stack, admin_headers, f"/inspections/{inspection_id}/report")
    assert page.locator("#phase").inner_text() == "Published"
    for standard in report["ratings"]["standards"]:
        row = page.locator(f"#ratings-table tr[data-standard='{standard['standard']}']")
        computed, final, points, reason = cells(row, "td")
        assert (computed, final) == (LABELS[standard["computed_rating"]], LABELS[standard["rating"]])
        assert points == str(standard["points"]) and reason == (standard["override_reason"] or "")
    overall = report["ratings"]["overall"]
    assert page.locator("#overall-score").inner_text() == f"{overall['score']} of {overall['max_score']}"
    # The timeline (MoJ Frontend): each correction newest first, then the first publication.
    items = page.locator("#timeline .moj-timeline__item")
    assert report["corrections"] and items.count() == len(report["corrections"]) + 1
    assert items.evaluate_all("items => items.map(i => Number(i.dataset.version))") == [
        *(c["version"] for c in reversed(report["corrections"])), 1]
    assert report["corrections"][-1]["reason"] in items.first.inner_text()
    for case_standard in report["case_standards"]:
        chart = page.locator(f"svg[aria-labelledby^='chart-{case_standard['standard'].replace('.', '-')}']")
        assert chart.locator("rect.bar").count() == sum(kq["percent"] is not None
                                                        for kq in case_standard["key_questions"])
        assert chart.locator("line.band-line").count() == 3
        for kq in case_standard["key_questions"]:
            row = page.locator(f"table[data-chart='{case_standard['standard']}'] "
                               f"tr[data-key-question='{kq['key_question']}']")
            yes, applicable, percent, interval, _ = cells(row, "td")
            assert (int(yes), int(applicable)) == (kq["yes"], kq["applicable"])
            assert percent == f"{kq['percent']:.1f}%"
            assert interval == f"{kq['interval'][0]:.1f}% to {kq['interval'][1]:.1f}%"
    for sample in report["samples"]:
        row = page.locator(f"#samples-table tr[data-sample='{sample['sample_type']}']")
        assert cells(row, "td")[:3] == [str(sample["frame_cases"]), str(sample["sample_size"]), str(sample["assessed"])]
    assert serious_violations(page) == []
    screenshot(page, "inspection")


def test_an_export_link_downloads_the_reports_workbook_and_tables(page, stack, admin_headers, tmp_path):
    inspection_id = stack["published"]["id"]
    sign_in(page, path=f"/inspections/{inspection_id}")
    report = api(stack, admin_headers, f"/inspections/{inspection_id}/report")
    with page.expect_download() as caught:
        page.get_by_role("link", name="Spreadsheet (XLSX)").click()
    download = caught.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    workbook = openpyxl.load_workbook(saved, read_only=True)
    ratings_sheet = next(name for name in workbook.sheetnames if "rating" in name.lower())
    numbers = [cell for row in workbook[ratings_sheet].iter_rows(values_only=True) for cell in row]
    assert report["ratings"]["overall"]["score"] in numbers
    with page.expect_download() as caught:
        page.get_by_role("link", name="Ratings (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(caught.value.path(), encoding="utf-8-sig").read())))
    assert len(rows) >= len(report["ratings"]["standards"])


def test_work_in_progress_counts_the_inspections_under_way(page, stack, admin_headers):
    sign_in(page, path="/work-in-progress")
    under_way = every_item(stack, admin_headers, "/inspections", status=["planned", "pre_fieldwork", "fieldwork",
                                                                           "rating"])
    counts = Counter(inspection["status"] for inspection in under_way)
    for phase in ("planned", "pre_fieldwork", "fieldwork", "rating"):
        assert int(page.locator(f"#phase-counts td[data-phase='{phase}']").inner_text()) == counts.get(phase, 0)
    draft = page.locator(f"tr[data-inspection='{stack['draft']['id']}']")
    assert draft.locator("td[data-days-left]").inner_text().strip().isdigit()
    assert serious_violations(page) == []
    screenshot(page, "work-in-progress")


def test_a_reader_sees_no_draft(page, stack):
    sign_in(page, READER_EMAIL, READER_PASSWORD)
    assert page.locator("h1").inner_text() == "Units"
    assert page.get_by_role("link", name="Work in progress").count() == 0
    page.goto("/work-in-progress")
    assert page.locator(f"tr[data-inspection='{stack['draft']['id']}']").count() == 0
    response = page.goto(f"/inspections/{stack['draft']['id']}")
    assert response.status in (403, 404)
    assert "Planned inspection" not in page.content()
    page.goto(f"/units/{stack['draft']['unit_id']}")
    assert stack["draft"]["id"] not in page.content()


def test_the_sign_in_page_is_accessible_and_refuses_a_wrong_password(page, stack):
    sign_in(page, password="not the password")
    assert page.locator(".govuk-error-summary").is_visible()
    assert serious_violations(page) == []
    screenshot(page, "sign-in")


def test_signing_out_ends_the_session(page, browser, stack):
    sign_in(page)
    cookie = next(c for c in page.context.cookies() if c["name"] == "dashboard_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()
    assert "You have signed out" in page.content()
    page.goto("/")
    assert "/sign-in" in page.url
    # The old reference, sent again from elsewhere, is worth nothing.
    other = browser.new_context(base_url=stack["dashboard"])
    other.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path")}])
    replay = other.new_page()
    replay.goto("/")
    assert "/sign-in" in replay.url
    other.close()


def test_the_national_picture_shows_the_statistics_figures(page, stack, admin_headers):
    import httpx

    if httpx.get(f"{stack['gateway']}/api/v1/statistics/ratings", headers=admin_headers).status_code == 404:
        pytest.skip("this gateway has no statistics endpoints yet")
    sign_in(page, path="/national")
    ratings = api(stack, admin_headers, "/statistics/ratings")
    assert int(page.locator("#inspections-counted").inner_text()) == ratings["inspections"]
    overall = page.locator("#ratings-table tr[data-standard='overall']")
    for band, count in ratings["overall"].items():
        assert int(overall.locator(f"td[data-count='{band}']").inner_text()) == count
    for standard in ratings["standards"]:
        row = page.locator(f"#ratings-table tr[data-standard='{standard['framework_id']}/{standard['standard']}']")
        assert int(row.locator("td[data-count='inspections']").inner_text()) == standard["inspections"]
    trends = api(stack, admin_headers, "/statistics/trends")
    assert page.locator("#trends-table tbody tr").count() == len(trends["years"])
    key_questions = api(stack, admin_headers, "/statistics/key-questions")["key_questions"]
    for kq in key_questions:
        row = page.locator(f"tr[data-key-question='{kq['framework_id']}/{kq['key_question']}']")
        assert [int(n) for n in cells(row, "td")[:3]] == [kq["inspections"], kq["yes"], kq["applicable"]]
    assert serious_violations(page) == []
    screenshot(page, "national")


def test_a_summary_read_again_is_answered_304_from_what_was_held(stack, admin_headers):
    from inspection_shared.clients.gateway import GatewayClient

    statuses = []

    async def note(response) -> None:
        statuses.append(response.status_code)

    async def read_twice() -> tuple[dict, dict]:
        client = GatewayClient(stack["gateway"])
        client._http.event_hooks["response"].append(note)
        token = admin_headers["Authorization"].removeprefix("Bearer ")
        try:
            return (await client.summary(token, stack["published"]["id"], viewer="admin"),
                    await client.summary(token, stack["published"]["id"], viewer="admin"))
        finally:
            await client.aclose()

    # On a thread of its own: this module's browser holds an event loop in this one.
    with ThreadPoolExecutor(1) as thread:
        first, again = thread.submit(asyncio.run, read_twice()).result()
    assert first == again and first["inspection"]["id"] == stack["published"]["id"]
    assert statuses == [200, 304]
