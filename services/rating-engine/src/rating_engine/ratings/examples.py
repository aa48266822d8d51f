"""Worked examples for the OpenAPI document; each is a request the engine answers as shown in the docs."""

from __future__ import annotations

from typing import Any

_YOUTH_TABLE = dict(
    zip(
        ["1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "3.1", "3.2", "3.3", "3.4", "4.1"],
        ["good", "good", "outstanding", "outstanding", "good", "inadequate", "outstanding", "outstanding",
         "requires_improvement", "requires_improvement", "outstanding", "good", "requires_improvement"],
        strict=True,
    )
)

RATING_EXAMPLES: dict[str, dict[str, Any]] = {
    "counts": {
        "summary": "Key-question counts for one case-based standard",
        "description": "79 of 100 is under 80%, so 2.1.1 drives the standard to Good.",
        "value": {
            "framework": "probation-crc-2018",
            "standards": [
                {
                    "standard": "2.1",
                    "counts": {
                        "2.1.1": {"yes": 79, "applicable": 100},
                        "2.1.2": {"yes": 90, "applicable": 100},
                        "2.1.3": {"yes": 85, "applicable": 98},
                    },
                }
            ],
        },
    },
    "cases": {
        "summary": "Case answers, with a case filter and a not-applicable answer",
        "value": {
            "framework": "probation-crc-2018",
            "confidence": 0.8,
            "standards": [
                {
                    "standard": "3.1",
                    "cases": [
                        {
                            "case_ref": "X100001",
                            "attributes": {"unpaid_work_requirement": True},
                            "answers": {"3.1.1": "yes", "3.1.2": "yes", "3.1.3": "not_applicable"},
                        },
                        {
                            "case_ref": "X100002",
                            "attributes": {"unpaid_work_requirement": True},
                            "answers": {"3.1.1": "no", "3.1.2": "yes", "3.1.3": "yes"},
                        },
                    ],
                }
            ],
        },
    },
    "published_table": {
        "summary": "Re-score a published youth ratings table (25/36, Good)",
        "value": {
            "framework": "youth-2021",
            "standards": [{"standard": k, "rating": v} for k, v in _YOUTH_TABLE.items()],
        },
    },
    "override": {
        "summary": "A ratings panel override, with its reason",
        "value": {
            "framework": "probation-crc-2018",
            "standards": [{"standard": "1.1", "rating": "good", "evidence_summary": "Interviews and surveys."}],
            "overrides": [
                {"standard": "1.1", "rating": "requires_improvement", "reason": "Panel weighed the staff survey."}
            ],
        },
    },
}

POOLED_EXAMPLES: dict[str, dict[str, Any]] = {
    "region": {
        "summary": "Two PDUs' case answers pooled into a regional rating",
        "value": {
            "framework": "probation-pdu-2021",
            "units": [
                {
                    "unit": "N01",
                    "standards": [
                        {
                            "standard": "2.2",
                            "cases": [
                                {"case_ref": "A000001", "answers": {"2.2.1": "yes", "2.2.2": "yes", "2.2.3": "no"}},
                                {"case_ref": "A000002", "answers": {"2.2.1": "yes", "2.2.2": "no", "2.2.3": "yes"}},
                            ],
                        }
                    ],
                },
                {
                    "unit": "N02",
                    "standards": [
                        {
                            "standard": "2.2",
                            "counts": {
                                "2.2.1": {"yes": 30, "applicable": 40},
                                "2.2.2": {"yes": 28, "applicable": 40},
                                "2.2.3": {"yes": 33, "applicable": 39},
                            },
                        }
                    ],
                },
            ],
        },
    },
}
