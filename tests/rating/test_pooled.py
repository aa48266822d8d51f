"""Pooled ratings: several units' case answers rated as one sample, with each unit's own figures."""

import pytest

from rating_engine.errors import RatingInputError
from tests.rating.builders import answers, cases, counts, pooled, rated, standard

PDU = "probation-pdu-2021"


def _unit(unit, yes, no, prefix=None, na=0):
    """A unit whose 2.2 (planning) key questions are all answered with yes/no/na in these numbers."""
    answer_list = answers(yes, no, na)
    return {
        "unit": unit,
        "standards": [
            {"standard": "2.2", "cases": cases({kq: answer_list for kq in ("2.2.1", "2.2.2", "2.2.3")}, prefix=prefix or unit)}
        ],
    }


def test_pooled_figures_add_the_units_and_keep_each_units_own():
    result = pooled({"framework": PDU, "units": [_unit("N01", 9, 1), _unit("N02", 6, 4, na=3), _unit("N03", 13, 7)]})
    assert result["units"] == ["N01", "N02", "N03"]
    [planning] = result["standards"]
    assert planning["standard"] == "2.2"
    first = planning["key_questions"][0]
    assert (first["yes"], first["applicable"], first["not_applicable"]) == (28, 40, 3)
    assert first["band"] == "good"  # 70%
    assert planning["computed_rating"] == "good"
    by_unit = {u["unit"]: u for u in planning["units"]}
    assert {u: by_unit[u]["computed_rating"] for u in by_unit} == {
        "N01": "outstanding", "N02": "requires_improvement", "N03": "good"}
    assert by_unit["N02"]["key_questions"][0]["not_applicable"] == 3
    assert by_unit["N01"]["cases"] == 10


def test_pooled_equals_rating_the_pooled_cases_as_one_inspection():
    units = [_unit("N01", 9, 1), _unit("N02", 6, 4), _unit("N03", 13, 7)]
    pooled_result = pooled({"framework": PDU, "units": units})
    all_cases = [c for u in units for c in u["standards"][0]["cases"]]
    single = rated({"framework": PDU, "standards": [{"standard": "2.2", "cases": all_cases}]})
    keys = ("computed_rating", "driver", "key_questions", "borderline", "cases_to_move_up", "cases_to_move_down")
    assert {k: pooled_result["standards"][0][k] for k in keys} == {k: standard(single, "2.2")[k] for k in keys}


def test_units_may_send_counts_and_cases_together():
    with_counts = {"unit": "N09", "standards": [
        {"standard": "2.2", "counts": counts(k2_2_1=(10, 10), k2_2_2=(10, 10), k2_2_3=(10, 10))}]}
    result = pooled({"framework": PDU, "units": [_unit("N01", 5, 5), with_counts]})
    first = result["standards"][0]["key_questions"][0]
    assert (first["yes"], first["applicable"], first["not_applicable"]) == (15, 20, None)


def test_order_of_units_changes_nothing():
    units = [_unit("N01", 9, 1), _unit("N02", 6, 4), _unit("N03", 13, 7)]
    assert pooled({"framework": PDU, "units": units}) == pooled({"framework": PDU, "units": units[::-1]})


def test_standards_are_pooled_only_where_a_unit_sent_evidence():
    result = pooled({"framework": PDU, "units": [_unit("N01", 9, 1)]})
    assert [s["standard"] for s in result["standards"]] == ["2.2"]


def test_pooled_case_filter_selects_delivery_partner_cases():
    def unit(name, with_requirement, without):
        rows = cases({"2.3.1": ["yes"] * with_requirement, "2.3.2": ["yes"] * with_requirement,
                      "2.3.3": ["yes"] * with_requirement}, prefix=name + "R", attributes={"unpaid_work": True})
        rows += cases({"2.3.1": ["no"] * without, "2.3.2": ["no"] * without, "2.3.3": ["no"] * without},
                      prefix=name + "N", attributes={"unpaid_work": False})
        return {"unit": name, "standards": [{"standard": "2.3", "cases": rows}]}

    body = {
        "framework": PDU,
        "case_filter": {"conditions": [{"attribute": "unpaid_work", "equals": True}]},
        "units": [unit("N01", 4, 6), unit("N02", 3, 2)],
    }
    [implementation] = pooled(body)["standards"]
    assert (implementation["cases"], implementation["cases_selected"]) == (15, 7)
    assert implementation["computed_rating"] == "outstanding"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"framework": PDU, "units": [{"unit": "N01", "standards": [{"standard": "1.1", "rating": "good"}]}]},
         "body.units.0.standards.0.rating", "pooling takes case answers or counts"),
        ({"framework": PDU, "units": [_unit("N01", 1, 1), _unit("N01", 1, 1)]},
         "body.units.1.unit", "unit N01 is given more than once"),
        ({"framework": PDU, "units": [{"unit": "N01", "standards": [{"standard": "2.2", "counts": counts(k2_2_1=(5, 4))}]}]},
         "body.units.0.standards.0.counts.2.2.1.yes", "more than applicable"),
        ({"framework": PDU, "case_filter": {"conditions": [{"attribute": "rar", "equals": True}]},
          "units": [{"unit": "N01", "standards": [{"standard": "2.2", "counts": counts(k2_2_1=(1, 2))}]}]},
         "body.units.0.standards.0.counts", "counts cannot be filtered"),
        ({"framework": PDU, "units": [{"unit": "N01", "standards": [
            {"standard": "2.2", "counts": counts(k2_2_1=(1, 2)), "confidence": 0.9}]}]},
         "body.units.0.standards.0.confidence", "set the confidence of a pooled rating on the request"),
    ],
)
def test_pooled_refusals(body, field, message):
    with pytest.raises(RatingInputError) as raised:
        pooled(body)
    assert any(e.field == field and message in e.message for e in raised.value.faults), raised.value.faults


async def test_pooled_over_http(client):
    body = {"framework": PDU, "units": [_unit("N01", 9, 1), _unit("N02", 6, 4)]}
    response = await client.post("/v1/ratings/pooled", json=body)
    assert response.status_code == 200
    result = response.json()
    assert result["standards"][0]["key_questions"][0]["yes"] == 15
    assert len(result["input_fingerprint"]) == 64
    refused = await client.post("/v1/ratings/pooled", json={"framework": PDU, "units": []})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "body.units"
