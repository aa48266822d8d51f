"""National and annual statistics against figures worked out by hand, on both databases.

The fixture: two regions, three PDUs and a youth service; each inspection rated by the real engine from
key-question counts (every key question of an inspection has the same counts) and judgements (every
judged standard the same rating), then published through the API, so its figures are written by the
write path as any publication's are. Each sample holds as many cases as its key questions apply to, as
publication requires.

| | unit | framework | fieldwork from | programme year | judged | each key question | rated | score |
|---|---|---|---|---|---|---|---|---|
| A | P1 (R1) | probation-pdu-2021 | 31 March 2024 | 2023-24 | good | 6 / 10 (RI) | RI | 13 / 27 |
| B | P1 (R1) | probation-pdu-2021 | 1 April 2024 | 2024-25 | outstanding | 16 / 20 (O) | outstanding | 27 / 27 |
| C | P3 (R2) | probation-pdu-2021 | 31 March 2025 | 2024-25 | RI | 6 / 10 (RI) | RI | 9 / 27 |
| D | Y1 | youth-2021 | 10 June 2024 | 2024-25 | good | 7 / 10 (good) | good | 24 / 36 |
| E | Y1 | youth-2021 | 1 September 2023 | 2023-24 | RI | 6 / 10 (RI) | RI | 12 / 36 |
| F | P2 (R1) | probation-pdu-2021 | 1 May 2024 | draft | inadequate | 0 / 10 | inadequate | 0 / 27 |

F is rated but never published: nothing of it is ever counted. The figures are read as a reader of these
units, so that nothing else in the database (other tests' rows are rolled back, but the database is
shared) could be counted.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from scipy.stats import binomtest
from sqlalchemy import func, select

from gateway.actors import Actor
from gateway.permissions import Grant, Permission, Role
from gateway.ratings.service import rate_counts
from gateway.statistics.models import PublishedFigures
from inspection_shared.library import library
from inspection_shared.rating import KeyQuestionCount, StandardEvidence
from tests.gateway.factories import make_inspection, make_sampled_cases, make_unit
from tests.gateway.test_scoping import holding

API = "/api/v1/statistics"
RATED = ("outstanding", "good", "requires_improvement", "inadequate", "not_rated")


def counts(outstanding=0, good=0, requires_improvement=0, inadequate=0, not_rated=0) -> dict[str, int]:
    return {"outstanding": outstanding, "good": good, "requires_improvement": requires_improvement,
            "inadequate": inadequate, "not_rated": not_rated}


def evidence(framework_id: str, judged: str, yes: int, applicable: int) -> list[StandardEvidence]:
    framework = library()[framework_id]
    return [
        StandardEvidence(standard=s.id, rating=judged, evidence_summary="Interviews.") if s.kind == "judged" else
        StandardEvidence(standard=s.id, counts={kq.id: KeyQuestionCount(yes=yes, applicable=applicable)
                                                 for kq in s.key_questions})
        for s in framework.standards()
    ]


@pytest.fixture
async def estate(gateway, gateway_app, db_session):
    r1, r2 = await make_unit(db_session, type="region"), await make_unit(db_session, type="region")
    p1, p2, p3 = (await make_unit(db_session, parent=r1), await make_unit(db_session, parent=r1),
                  await make_unit(db_session, parent=r2))
    y1 = await make_unit(db_session, type="yos")

    async def inspected(unit, framework_id, start, judged, yes, applicable, *, publish=True):
        inspection = await make_inspection(db_session, unit=unit, framework_id=framework_id, status="rating",
                                           fieldwork_start=start, fieldwork_end=start + timedelta(days=10))
        for sample_type in {s.sample_type for s in library()[framework_id].standards() if s.kind == "case"}:
            await make_sampled_cases(db_session, inspection, sample_type,
                                     [f"X{n:06d}" for n in range(applicable)])
        await rate_counts(db_session, gateway_app.state.rating_engine, inspection.id,
                          evidence(framework_id, judged, yes, applicable))
        if publish:
            moved = await gateway.post(f"/api/v1/inspections/{inspection.id}/transitions", json={"to": "published"})
            assert moved.status_code == 200, moved.text
        return inspection

    pdu, youth = "probation-pdu-2021", "youth-2021"
    return {
        "r1": r1, "r2": r2, "p1": p1, "p2": p2, "p3": p3, "y1": y1,
        "A": await inspected(p1, pdu, date(2024, 3, 31), "good", 6, 10),
        "B": await inspected(p1, pdu, date(2024, 4, 1), "outstanding", 16, 20),
        "C": await inspected(p3, pdu, date(2025, 3, 31), "requires_improvement", 6, 10),
        "D": await inspected(y1, youth, date(2024, 6, 10), "good", 7, 10),
        "E": await inspected(y1, youth, date(2023, 9, 1), "requires_improvement", 6, 10),
        "F": await inspected(p2, pdu, date(2024, 5, 1), "inadequate", 0, 10, publish=False),
    }


@pytest.fixture
def reader(estate):
    return holding(Role.READER, *(estate[k] for k in ("r1", "r2", "p1", "p2", "p3", "y1")))


async def read(gateway, acting_as, actor, path, **params):
    with acting_as(actor):
        response = await gateway.get(f"{API}/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def standard(body, framework_id, standard_id):
    return next(s for s in body["standards"] if (s["framework_id"], s["standard"]) == (framework_id, standard_id))


def key_question(body, framework_id, key_question_id):
    return next(k for k in body["key_questions"] if (k["framework_id"], k["key_question"]) == (framework_id, key_question_id))


# --- ratings ------------------------------------------------------------------------------------------


async def test_ratings_count_each_published_inspection_by_its_final_ratings(gateway, acting_as, reader):
    body = await read(gateway, acting_as, reader, "ratings")

    assert body["inspections"] == 5
    assert body["overall"] == counts(outstanding=1, good=1, requires_improvement=3)
    assert [(s["framework_id"], s["standard"]) for s in body["standards"]] == [
        *(("probation-pdu-2021", s) for s in ("1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "2.5")),
        *(("youth-2021", s) for s in ("1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "3.1", "3.2", "3.3",
                                      "3.4", "4.1")),
    ]
    assert standard(body, "probation-pdu-2021", "1.1") == {
        "framework_id": "probation-pdu-2021", "standard": "1.1", "name": "Leadership", "inspections": 3,
        "ratings": counts(outstanding=1, good=1, requires_improvement=1),
    }
    assert standard(body, "probation-pdu-2021", "2.1")["ratings"] == counts(outstanding=1, requires_improvement=2)
    # Rated, though not counted in the overall score.
    assert standard(body, "youth-2021", "4.1") == {
        "framework_id": "youth-2021", "standard": "4.1", "name": "Resettlement policy and provision",
        "inspections": 2, "ratings": counts(good=1, requires_improvement=1),
    }


@pytest.mark.parametrize(("period", "counted"), [
    ({"year": "2023-24"}, "AE"),
    ({"year": "2024-25"}, "BCD"),
    ({"year": "2025-26"}, ""),
    ({"from": "2024-03-31", "to": "2024-03-31"}, "A"),  # 31 March: the last day of 2023-24
    ({"from": "2024-04-01", "to": "2024-04-01"}, "B"),  # 1 April: the first day of 2024-25
    ({"from": "2025-03-31"}, "C"),
    ({"to": "2024-03-31"}, "AE"),
    ({"from": "2024-03-31", "to": "2025-03-31"}, "ABCD"),
])
async def test_the_period_counts_inspections_by_their_first_day_of_fieldwork_in_years_from_1_april(
    gateway, acting_as, reader, period, counted
):
    overall = {"A": "requires_improvement", "B": "outstanding", "C": "requires_improvement", "D": "good",
               "E": "requires_improvement"}
    expected = counts()
    for name in counted:
        expected[overall[name]] += 1

    body = await read(gateway, acting_as, reader, "ratings", **period)

    assert (body["inspections"], body["overall"]) == (len(counted), expected)
    assert body["scope"]["year"] == period.get("year")
    if "year" in period:
        start = int(period["year"][:4])
        assert (body["scope"]["from"], body["scope"]["to"]) == (f"{start}-04-01", f"{start + 1}-03-31")


@pytest.mark.parametrize(("filters", "counted"), [
    ({"programme": "probation"}, "ABC"),
    ({"programme": "youth"}, "DE"),
    ({"framework_id": "youth-2021"}, "DE"),
    ({"framework_id": "probation-crc-2018"}, ""),
    ({"region_id": "r1"}, "AB"),
    ({"region_id": "r2"}, "C"),
    ({"unit_type": "yos"}, "DE"),
    ({"unit_type": "pdu", "year": "2024-25"}, "BC"),
    ({"programme": "youth", "region_id": "r1"}, ""),
])
async def test_each_filter_narrows_the_inspections_counted(gateway, acting_as, estate, reader, filters, counted):
    params = {k: str(estate[v].id) if k == "region_id" else v for k, v in filters.items()}

    body = await read(gateway, acting_as, reader, "ratings", **params)

    assert body["inspections"] == len(counted)
    assert sum(s["inspections"] for s in body["standards"] if s["standard"] == "1.1") == len(counted)


async def test_a_draft_is_never_counted_nor_kept_among_the_figures(gateway, acting_as, estate, db_session):
    held = await db_session.scalar(
        select(func.count()).select_from(PublishedFigures).where(PublishedFigures.inspection_id == estate["F"].id)
    )
    assert held == 0
    staff = holding(Role.LEAD_INSPECTOR, estate["r1"], estate["p1"], estate["p2"])  # who may read the draft
    body = await read(gateway, acting_as, staff, "ratings")
    assert (body["inspections"], body["overall"]) == (2, counts(outstanding=1, requires_improvement=1))
    assert (await read(gateway, acting_as, staff, "key-questions"))["key_questions"][0]["applicable"] == 30
    # As an administrator too: the draft of region 1 is not among its inspections.
    response = await gateway.get(f"{API}/ratings", params={"region_id": str(estate["r1"].id)})
    assert response.json()["overall"]["inadequate"] == 0


# --- key questions ------------------------------------------------------------------------------------


def interval(yes, applicable):
    """The Wilson interval at 80%, from scipy: a reference independent of the code under test."""
    found = binomtest(yes, applicable).proportion_ci(confidence_level=0.80, method="wilson")
    return pytest.approx([100 * found.low, 100 * found.high], abs=1e-5)


async def test_key_questions_pool_the_cases_of_the_inspections(gateway, acting_as, reader):
    body = await read(gateway, acting_as, reader, "key-questions")

    assert body["confidence"] == 0.8
    assert len(body["key_questions"]) == 15 + 21
    first = key_question(body, "probation-pdu-2021", "2.1.1")
    assert {k: first[k] for k in ("standard", "inspections", "yes", "applicable")} == {
        "standard": "2.1", "inspections": 3, "yes": 6 + 16 + 6, "applicable": 10 + 20 + 10,
    }
    assert first["percent"] == pytest.approx(100 * 28 / 40)
    assert first["interval"] == interval(28, 40)
    assert first["text"].startswith("Does")
    youth = key_question(body, "youth-2021", "3.3.3")
    assert (youth["yes"], youth["applicable"], youth["percent"]) == (13, 20, 65.0)
    assert youth["interval"] == interval(13, 20)

    year = await read(gateway, acting_as, reader, "key-questions", year="2024-25", programme="probation")
    assert [(k["inspections"], k["yes"], k["applicable"]) for k in year["key_questions"]] == [(2, 22, 30)] * 15
    assert year["key_questions"][0]["percent"] == pytest.approx(100 * 22 / 30)


# --- trends and the annual dataset ----------------------------------------------------------------------


async def test_trends_give_each_programme_years_overall_ratings_and_mean_share_of_the_maximum(gateway, acting_as, reader):
    body = await read(gateway, acting_as, reader, "trends")

    assert [{k: y[k] for k in ("year", "from", "to", "inspections", "overall", "scored_inspections")}
            for y in body["years"]] == [
        {"year": "2023-24", "from": "2023-04-01", "to": "2024-03-31", "inspections": 2,
         "overall": counts(requires_improvement=2), "scored_inspections": 2},
        {"year": "2024-25", "from": "2024-04-01", "to": "2025-03-31", "inspections": 3,
         "overall": counts(outstanding=1, good=1, requires_improvement=1), "scored_inspections": 3},
    ]
    assert body["years"][0]["mean_score_share"] == pytest.approx((13 / 27 + 12 / 36) / 2)
    assert body["years"][1]["mean_score_share"] == pytest.approx((27 / 27 + 9 / 27 + 24 / 36) / 3)


async def test_the_annual_dataset_sets_a_year_beside_the_year_before(gateway, acting_as, reader):
    with acting_as(reader):
        response = await gateway.get(f"{API}/annual/2024-25", params={"programme": "probation"})
    body = response.json()

    assert (response.status_code, body["year"], body["previous_year"]) == (200, "2024-25", "2023-24")
    assert body["scope"]["programme"] == "probation"
    current, previous, change = body["current"], body["previous"], body["change"]
    assert (current["inspections"], current["overall"]) == (2, counts(outstanding=1, requires_improvement=1))
    assert (previous["inspections"], previous["overall"]) == (1, counts(requires_improvement=1))
    assert (change["inspections"], change["overall"]) == (1, counts(outstanding=1))
    assert change["mean_score_share"] == pytest.approx((27 / 27 + 9 / 27) / 2 - 13 / 27)
    assert standard(change, "probation-pdu-2021", "1.1")["ratings"] == counts(outstanding=1, good=-1,
                                                                               requires_improvement=1)
    moved = key_question(change, "probation-pdu-2021", "2.1.1")
    assert {k: moved[k] for k in ("inspections", "yes", "applicable")} == {"inspections": 1, "yes": 16, "applicable": 20}
    assert moved["percent_points"] == pytest.approx(100 * 22 / 30 - 60.0)

    youth = await read(gateway, acting_as, reader, "annual/2024-25", programme="youth")
    assert (youth["change"]["inspections"], youth["change"]["overall"]) == (0, counts(good=1, requires_improvement=-1))
    assert youth["change"]["mean_score_share"] == pytest.approx(24 / 36 - 12 / 36)
    assert key_question(youth["change"], "youth-2021", "2.1.1")["percent_points"] == pytest.approx(10.0)


async def test_a_year_without_inspections_counts_nothing_and_changes_by_nothing(gateway, acting_as, reader):
    body = await read(gateway, acting_as, reader, "annual/2030-31")

    assert (body["year"], body["previous_year"]) == ("2030-31", "2029-30")
    for figures in (body["current"], body["previous"]):
        assert {k: figures[k] for k in ("inspections", "overall", "scored_inspections", "mean_score_share",
                                        "standards", "key_questions")} == {
            "inspections": 0, "overall": counts(), "scored_inspections": 0, "mean_score_share": None,
            "standards": [], "key_questions": []}
    assert body["change"] == {"inspections": 0, "overall": counts(), "scored_inspections": 0,
                              "mean_score_share": None, "standards": [], "key_questions": []}
    # A year beside an empty one: its counts are the change, its mean share has none.
    first = await read(gateway, acting_as, reader, "annual/2023-24", programme="youth")
    assert (first["change"]["overall"], first["change"]["mean_score_share"]) == (counts(requires_improvement=1), None)
    assert key_question(first["change"], "youth-2021", "2.1.1")["percent_points"] is None


# --- corrections and withdrawal -----------------------------------------------------------------------


async def correct(gateway, inspection, reason, **correction):
    made = await gateway.post(f"/api/v1/inspections/{inspection.id}/corrections", json={"reason": reason, **correction})
    assert made.status_code == 201, made.text
    return made.json()


def named(version, inspection, unit) -> dict:
    """An entry of `corrections` or `withdrawn`, from the published version the corrections route answered."""
    return {"inspection_id": str(inspection.id), "unit_code": unit.code, "unit_name": unit.name,
            "version": version["version"], "kind": version["kind"], "made_at": version["created_at"],
            "reason": version["reason"]}


@pytest.fixture
async def amended(gateway, estate):
    """B (2024-25, P1 in R1) corrected to good in 1.1; C (2024-25, P3 in R2) withdrawn."""
    corrected = await correct(gateway, estate["B"], "The panel met again.",
                              overrides=[{"standard": "1.1", "rating": "good", "reason": "Leadership was new."}])
    withdrawn = await correct(gateway, estate["C"], "Withdrawn on legal advice.", withdraw=True)
    return {"B": named(corrected, estate["B"], estate["p1"]), "C": named(withdrawn, estate["C"], estate["p3"])}


async def test_a_corrected_inspection_counts_with_its_latest_figures_and_is_named_with_when_and_why(
    gateway, acting_as, estate, reader, db_session, amended
):
    assert (amended["B"]["version"], amended["B"]["kind"]) == (2, "correction")
    assert (amended["C"]["version"], amended["C"]["kind"]) == (2, "withdrawal")

    body = await read(gateway, acting_as, reader, "ratings", programme="probation")
    assert (body["inspections"], body["overall"]) == (2, counts(outstanding=1, requires_improvement=1))
    assert standard(body, "probation-pdu-2021", "1.1")["ratings"] == counts(good=2)
    assert (body["corrected"], body["corrections"], body["withdrawn"]) == (1, [amended["B"]], [amended["C"]])
    trend = await read(gateway, acting_as, reader, "trends", programme="probation", year="2024-25")
    assert trend["years"][0]["mean_score_share"] == pytest.approx(26 / 27)
    for path in ("trends", "key-questions", "annual/2024-25"):
        answer = await read(gateway, acting_as, reader, path, programme="probation")
        assert (answer["corrected"], answer["corrections"], answer["withdrawn"]) == (1, [amended["B"]], [amended["C"]])
    figures = await db_session.get(PublishedFigures, estate["B"].id, populate_existing=True)
    assert (figures.version, figures.overall_score) == (2, 26)
    # The withdrawn inspection keeps the figures it was withdrawn with, under the withdrawal, never counted.
    kept = await db_session.get(PublishedFigures, estate["C"].id, populate_existing=True)
    assert (kept.version, kept.overall_score) == (2, 9)
    assert (await read(gateway, acting_as, reader, "ratings", region_id=str(estate["r2"].id)))["inspections"] == 0


async def test_the_named_inspections_are_newest_first_each_once_at_its_latest_version(gateway, acting_as, estate, reader):
    await correct(gateway, estate["B"], "First look.", judgements={"1.1": {"rating": "good", "evidence_summary": "Seen."}})
    second = await correct(gateway, estate["A"], "Scores checked.",
                           overrides=[{"standard": "1.2", "rating": "outstanding", "reason": "Rechecked."}])
    third = await correct(gateway, estate["B"], "Second look.",
                          overrides=[{"standard": "1.3", "rating": "good", "reason": "Rechecked."}])

    body = await read(gateway, acting_as, reader, "ratings")

    assert body["corrected"] == 2
    assert body["corrections"] == [named(third, estate["B"], estate["p1"]), named(second, estate["A"], estate["p1"])]
    assert body["corrections"][0]["version"] == 3
    assert body["withdrawn"] == []


@pytest.mark.parametrize(("filters", "corrected", "withdrawn"), [
    ({}, "B", "C"),
    ({"programme": "youth"}, "", ""),
    ({"framework_id": "probation-pdu-2021"}, "B", "C"),
    ({"region_id": "r1"}, "B", ""),
    ({"region_id": "r2"}, "", "C"),
    ({"unit_type": "yos"}, "", ""),
    ({"year": "2023-24"}, "", ""),
    ({"from": "2024-04-01", "to": "2024-04-01"}, "B", ""),
    ({"from": "2025-03-31"}, "", "C"),
])
async def test_the_filters_of_the_figures_choose_the_inspections_named(
    gateway, acting_as, estate, reader, amended, filters, corrected, withdrawn
):
    params = {k: str(estate[v].id) if k == "region_id" else v for k, v in filters.items()}

    body = await read(gateway, acting_as, reader, "key-questions", **params)

    assert (body["corrected"], body["corrections"]) == (len(corrected), [amended[k] for k in corrected])
    assert body["withdrawn"] == [amended[k] for k in withdrawn]


async def test_the_annual_dataset_names_those_of_the_year_and_the_year_before(gateway, acting_as, reader, amended):
    # Both in 2024-25: the year before of 2025-26, the year of 2024-25, neither of 2023-24's pair.
    for year, expected in (("2025-26", "BC"), ("2024-25", "BC"), ("2023-24", "")):
        body = await read(gateway, acting_as, reader, f"annual/{year}")
        assert [e["inspection_id"] for e in body["corrections"] + body["withdrawn"]] == [
            amended[k]["inspection_id"] for k in expected]


async def test_a_reader_is_named_only_the_inspections_of_units_it_may_read_reports_of(
    gateway, acting_as, estate, amended
):
    of_region_1 = holding(Role.READER, estate["r1"], estate["p1"], estate["p2"])
    body = await read(gateway, acting_as, of_region_1, "trends")
    assert (body["corrected"], body["corrections"], body["withdrawn"]) == (1, [amended["B"]], [])
    of_region_2 = holding(Role.READER, estate["r2"], estate["p3"])
    body = await read(gateway, acting_as, of_region_2, "ratings")
    assert (body["inspections"], body["corrected"], body["corrections"], body["withdrawn"]) == (0, 0, [], [amended["C"]])
    key = Actor(id="key:1", name="Report generator", kind="key", grants=(Grant(
        frozenset({Permission.REPORTS_READ}), frozenset({estate["y1"].id})),))
    body = await read(gateway, acting_as, key, "annual/2024-25")
    assert (body["corrected"], body["corrections"], body["withdrawn"]) == (0, [], [])


# --- who sees what ------------------------------------------------------------------------------------


async def test_each_caller_counts_the_published_inspections_of_the_units_it_may_read_reports_of(
    gateway, acting_as, estate, reader, anonymous
):
    of_region_1 = holding(Role.READER, estate["r1"], estate["p1"], estate["p2"])
    assert (await read(gateway, acting_as, of_region_1, "ratings"))["inspections"] == 2
    key = Actor(id="key:1", name="Report generator", kind="key", grants=(Grant(
        frozenset({Permission.REPORTS_READ}), frozenset({estate[k].id for k in ("p3", "y1")})),))
    assert (await read(gateway, acting_as, key, "trends"))["years"][1]["inspections"] == 2  # C and D
    without = Actor(id="key:2", name="Inspections only", kind="key", grants=(Grant(
        frozenset({Permission.INSPECTIONS_READ}), None),))
    with acting_as(without):
        refused = await gateway.get(f"{API}/ratings")
    assert (refused.status_code, refused.json()["permission"]) == (403, "reports:read")
    assert (await anonymous.get(f"{API}/key-questions")).status_code == 401


# --- CSV ----------------------------------------------------------------------------------------------


def cells(value) -> str:
    return "" if value is None else str(value)


def table(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="statistics-')
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.mark.parametrize("ask", ["format", "accept"])
async def test_each_answer_as_csv_holds_the_figures_of_its_json(gateway, acting_as, reader, ask):
    async def both(path, **params):
        with acting_as(reader):
            as_json = (await gateway.get(f"{API}/{path}", params=params)).json()
            if ask == "format":
                as_csv = await gateway.get(f"{API}/{path}", params={**params, "format": "csv"})
            else:
                as_csv = await gateway.get(f"{API}/{path}", params=params, headers={"Accept": "text/csv"})
        return as_json, table(as_csv)

    ratings, rows = await both("ratings")
    assert rows[0] == {"framework_id": "", "standard": "overall", "name": "Overall",
                       "inspections": str(ratings["inspections"]), **{r: str(ratings["overall"][r]) for r in RATED}}
    assert rows[1:] == [{"framework_id": s["framework_id"], "standard": s["standard"], "name": s["name"],
                         "inspections": str(s["inspections"]), **{r: str(s["ratings"][r]) for r in RATED}}
                        for s in ratings["standards"]]

    questions, rows = await both("key-questions")
    assert len(rows) == len(questions["key_questions"]) == 36
    for row, k in zip(rows, questions["key_questions"]):
        assert row == {**{f: cells(k[f]) for f in ("framework_id", "standard", "key_question", "text", "inspections",
                                                   "yes", "applicable")},
                       "percent": row["percent"], "interval_low": row["interval_low"],
                       "interval_high": row["interval_high"]}
        assert [float(row["percent"]), float(row["interval_low"]), float(row["interval_high"])] == [
            k["percent"], *k["interval"]]

    trends, rows = await both("trends")
    assert [{**{k: row[k] for k in ("year", "from", "to", "inspections", *RATED, "scored_inspections")},
             "mean_score_share": float(row["mean_score_share"])} for row in rows] == [
        {"year": y["year"], "from": y["from"], "to": y["to"], "inspections": str(y["inspections"]),
         **{r: str(y["overall"][r]) for r in RATED}, "scored_inspections": str(y["scored_inspections"]),
         "mean_score_share": y["mean_score_share"]} for y in trends["years"]]

    annual, rows = await both("annual/2024-25", programme="youth")
    found = {(r["of"], r["framework_id"], r["standard"], r["key_question"], r["measure"]): r for r in rows}
    overall = found[("overall", "", "", "", "good")]
    assert (overall["2024-25"], overall["2023-24"], overall["change"]) == ("1", "0", "1")
    share = found[("overall", "", "", "", "mean_score_share")]
    assert [float(share[c]) for c in ("2024-25", "2023-24", "change")] == [
        annual["current"]["mean_score_share"], annual["previous"]["mean_score_share"], annual["change"]["mean_score_share"]]
    percent = found[("key_question", "youth-2021", "2.1", "2.1.1", "percent")]
    assert [float(percent[c]) for c in ("2024-25", "2023-24", "change")] == [
        key_question(annual["current"], "youth-2021", "2.1.1")["percent"],
        key_question(annual["previous"], "youth-2021", "2.1.1")["percent"],
        key_question(annual["change"], "youth-2021", "2.1.1")["percent_points"]]
    rated = found[("standard", "youth-2021", "1.1", "", "requires_improvement")]
    assert (rated["2024-25"], rated["2023-24"], rated["change"]) == ("0", "1", "-1")
    assert len(rows) == 3 + 5 + 13 * 6 + 21 * 4


@pytest.mark.parametrize("path", ["ratings", "key-questions", "trends", "annual/2024-25"])
async def test_the_corrections_table_as_csv_holds_the_named_inspections_of_its_json(
    gateway, acting_as, reader, amended, path
):
    with acting_as(reader):
        as_json = (await gateway.get(f"{API}/{path}")).json()
        response = await gateway.get(f"{API}/{path}", params={"format": "csv", "table": "corrections"})
        figures = await gateway.get(f"{API}/{path}", params={"format": "csv", "table": "figures"})
        default = await gateway.get(f"{API}/{path}", params={"format": "csv"})

    rows = table(response)
    assert response.headers["content-disposition"].endswith('-corrections.csv"')
    assert response.text.splitlines()[0] == "inspection_id,unit_code,unit_name,version,kind,made_at,reason"
    assert rows == [{k: str(v) for k, v in entry.items()} for entry in as_json["corrections"] + as_json["withdrawn"]]
    assert [row["kind"] for row in rows] == ["correction", "withdrawal"]
    assert (figures.text, table(figures)[0]) == (default.text, table(default)[0])
    # A JSON answer holds both tables, whichever is asked.
    with acting_as(reader):
        both = (await gateway.get(f"{API}/{path}", params={"table": "corrections"})).json()
    assert both == as_json


# --- refusals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "params", "field"), [
    ("ratings", {"year": "2024-26"}, "query.year"),
    ("ratings", {"year": "2024"}, "query.year"),
    ("trends", {"year": "24-25"}, "query.year"),
    ("ratings", {"year": "2024-25", "from": "2024-04-01"}, "query.from"),
    ("key-questions", {"year": "2024-25", "to": "2024-04-01"}, "query.to"),
    ("ratings", {"from": "2025-01-01", "to": "2024-12-31"}, "query.to"),
    ("ratings", {"from": "31/03/2024"}, "query.from"),
    ("trends", {"programme": "adult"}, "query.programme"),
    ("ratings", {"unit_type": "prison"}, "query.unit_type"),
    ("ratings", {"region_id": "north"}, "query.region_id"),
    ("ratings", {"format": "xlsx"}, "query.format"),
    ("trends", {"format": "csv", "table": "both"}, "query.table"),
    ("ratings", {"period": "2024-25"}, "query.period"),
    ("annual/2024", {}, "path.year"),
    ("annual/2024-26", {"programme": "youth"}, "path.year"),
    ("annual/2024-25", {"year": "2024-25"}, "query.year"),
])
async def test_a_bad_parameter_is_a_422_naming_it(gateway, path, params, field):
    response = await gateway.get(f"{API}/{path}", params=params)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_an_accept_header_naming_neither_json_nor_csv_is_a_406(gateway):
    refused = await gateway.get(f"{API}/trends", headers={"Accept": "application/pdf"})
    assert (refused.status_code, refused.json()["available"]) == (406, [
        {"format": "json", "media_type": "application/json"}, {"format": "csv", "media_type": "text/csv"}])
    assert (await gateway.get(f"{API}/trends", headers={"Accept": "text/*"})).headers["content-type"].startswith(
        "text/csv")
    assert (await gateway.get(f"{API}/trends", headers={"Accept": "*/*"})).headers["content-type"] == "application/json"
