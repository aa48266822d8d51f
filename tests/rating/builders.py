"""Builders of rating evidence for the tests: cases, counts, ratings tables, small inline frameworks."""

from __future__ import annotations

import copy
from typing import Any

from inspection_shared.framework import Framework
from inspection_shared.library import library
from inspection_shared.rating import PooledRatingRequest, PooledRatingResult, RatingRequest, RatingResult
from rating_engine.frameworks.service import resolve_framework
from rating_engine.pooled.service import rate_pooled
from rating_engine.ratings.service import rate

SCORE_OF = {"outstanding": 3, "good": 2, "requires_improvement": 1, "inadequate": 0}


def framework(framework_id: str) -> Framework:
    return library()[framework_id]


def cases(answers_by_kq: dict[str, list[str]], prefix: str = "X", attributes: dict | None = None) -> list[dict]:
    """Cases whose answers to each key question are the given lists, position by position."""
    n = max(len(v) for v in answers_by_kq.values())
    out = []
    for i in range(n):
        case: dict[str, Any] = {
            "case_ref": f"{prefix}{i:06d}",
            "answers": {kq: answers[i] for kq, answers in answers_by_kq.items() if i < len(answers)},
        }
        if attributes is not None:
            case["attributes"] = dict(attributes)
        out.append(case)
    return out


def answers(yes: int, no: int, not_applicable: int = 0) -> list[str]:
    return ["yes"] * yes + ["no"] * no + ["not_applicable"] * not_applicable


def counts(**by_kq: tuple[int, int]) -> dict[str, dict[str, int]]:
    """counts(k2_1_1=(79, 100)) -> {"2.1.1": {"yes": 79, "applicable": 100}}."""
    return {k.removeprefix("k").replace("_", "."): {"yes": y, "applicable": a} for k, (y, a) in by_kq.items()}


def table(framework_id: str, ratings: list[str]) -> dict:
    """A ratings table: each standard of the framework, in order, given the next rating."""
    ids = [s.id for s in framework(framework_id).standards()]
    assert len(ids) == len(ratings), (ids, ratings)
    return {"framework": framework_id, "standards": [{"standard": s, "rating": r} for s, r in zip(ids, ratings)]}


def rated(body: dict) -> dict:
    """Rate in process through the core, holding the result to the wire model."""
    request = RatingRequest.model_validate(body)
    result = rate(resolve_framework(request.framework), request)
    RatingResult.model_validate(result)
    return result


def pooled(body: dict) -> dict:
    request = PooledRatingRequest.model_validate(body)
    result = rate_pooled(resolve_framework(request.framework), request)
    PooledRatingResult.model_validate(result)
    return result


def standard(result: dict, standard_id: str) -> dict:
    return next(s for s in result["standards"] if s["standard"] == standard_id)


def small_framework(**rules_changes: Any) -> dict:
    """A small valid framework definition (one judged, two case-based standards, one with a filter)."""
    definition = {
        "id": "draft-small",
        "version": "0.1",
        "name": "Small draft framework",
        "status": "draft",
        "themes": [{"id": "t1", "name": "Theme one"}, {"id": "t2", "name": "Theme two"}],
        "sample_types": [{"id": "cases", "name": "Cases"}],
        "domains": [
            {"number": 1, "name": "Organisation", "standards": [{"id": "1.1", "name": "Leadership", "kind": "judged"}]},
            {
                "number": 2,
                "name": "Cases",
                "standards": [
                    {
                        "id": "2.1",
                        "name": "Assessment",
                        "kind": "case",
                        "sample_type": "cases",
                        "key_questions": [
                            {"id": "2.1.1", "text": "First?", "theme": "t1"},
                            {"id": "2.1.2", "text": "Second?", "theme": "t2"},
                        ],
                    },
                    {
                        "id": "2.2",
                        "name": "Unpaid work",
                        "kind": "case",
                        "sample_type": "cases",
                        "case_filter": {"conditions": [{"attribute": "unpaid_work", "equals": True}]},
                        "key_questions": [{"id": "2.2.1", "text": "Delivered?", "theme": "t1"}],
                    },
                ],
            },
        ],
        "rules": {
            "scale": [
                {"rating": "outstanding", "label": "Outstanding", "points": 3},
                {"rating": "good", "label": "Good", "points": 2},
                {"rating": "requires_improvement", "label": "Requires improvement", "points": 1},
                {"rating": "inadequate", "label": "Inadequate", "points": 0},
            ],
            "key_question_thresholds": {"outstanding": 80, "good": 65, "requires_improvement": 50},
            "overall": {
                "max_score": 9,
                "bands": [
                    {"rating": "inadequate", "min": 0, "max": 1},
                    {"rating": "requires_improvement", "min": 2, "max": 4},
                    {"rating": "good", "min": 5, "max": 7},
                    {"rating": "outstanding", "min": 8, "max": 9},
                ],
            },
        },
    }
    definition = copy.deepcopy(definition)
    definition["rules"].update(rules_changes)
    return definition
