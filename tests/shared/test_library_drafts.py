"""The draft framework in the library: the PDU 2021 standards extended with the effectiveness standard,
an outcome standard on provisional thresholds; and the library's rules for drafts that extend a version
and for outcome standards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from inspection_shared.framework import Framework
from inspection_shared.library import (
    LIBRARY_DIR,
    FrameworkInvalid,
    content_hash,
    library,
    load_framework_file,
    load_library,
    parse_framework,
)

DRAFT = "probation-pdu-2021-effectiveness"
BASE = "probation-pdu-2021"


def as_data(framework_id: str) -> dict[str, Any]:
    return library()[framework_id].model_dump(mode="json")


def test_the_draft_is_the_pdu_framework_with_the_effectiveness_standard_added():
    draft, base = library()[DRAFT], library()[BASE]
    assert draft.status == "draft" and base.status == "published"
    assert draft.effective_from is None
    assert [s.id for s in draft.standards()] == [s.id for s in base.standards()] + ["3.1"]
    assert draft.domains[:2] == base.domains
    assert (draft.themes, draft.sample_types, draft.applies_to) == (base.themes, base.sample_types, base.applies_to)
    assert draft.rules.overall == base.rules.overall
    assert draft.rules.key_question_thresholds == base.rules.key_question_thresholds
    assert draft.publication == base.publication


def test_the_effectiveness_standard_records_each_outcome_of_the_letter_on_the_case_supervision_sample():
    standard = library()[DRAFT].standard("3.1")
    assert (standard.name, standard.kind, standard.answer_scale, standard.scored, standard.sample_type) == (
        "Effectiveness", "case", "outcome", False, "case_supervision",
    )
    assert [(kq.id, kq.text.split(":")[0]) for kq in standard.key_questions] == [
        ("3.1.1", "Accommodation"),
        ("3.1.2", "Employment, education and training"),
        ("3.1.3", "Substance misuse"),
    ]
    assert all("start of supervision" in kq.text for kq in standard.key_questions)


def test_its_thresholds_are_marked_provisional():
    thresholds = library()[DRAFT].rules.outcome_thresholds
    assert thresholds is not None
    assert (thresholds.outstanding, thresholds.good, thresholds.requires_improvement) == (80, 65, 50)
    assert thresholds.provisional is True
    assert thresholds.note.startswith("Provisional.")


def test_every_published_version_keeps_its_hash_and_states_no_outcome_rules():
    # The new optional fields are left at their defaults, which the content hash leaves out.
    for framework in library().values():
        if framework.status == "published":
            assert framework.rules.outcome_thresholds is None
            assert {s.answer_scale for s in framework.standards()} == {"yes_no"}
    assert content_hash(library()[BASE]) == "797bb910864a6dde915408e9d6402939f8f091e8233dad13ff34c30d15c6e73c"


# --- extends --------------------------------------------------------------------------------------------


def _write(directory: Path, name: str, data: Any) -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _copy(framework_id: str, directory: Path) -> Path:
    target = directory / f"{framework_id}.yaml"
    target.write_text((LIBRARY_DIR / f"{framework_id}.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return target


def test_a_draft_loads_beside_its_base_in_another_directory(tmp_path: Path):
    _copy(BASE, tmp_path)
    _copy(DRAFT, tmp_path)
    loaded = load_library(tmp_path)
    assert sorted(loaded) == [BASE, DRAFT]
    assert content_hash(loaded[DRAFT]) == content_hash(library()[DRAFT])


def test_extends_merges_mappings_replaces_values_and_adds_domains(tmp_path: Path):
    _copy(BASE, tmp_path)
    path = _write(tmp_path, "pdu-renamed.yaml", {
        "extends": BASE, "id": "pdu-renamed", "name": "Renamed", "status": "draft",
        "rules": {"overall": {"note": "changed"}},
        "applies_to": ["pdu"],
    })
    framework = load_framework_file(path)
    base = library()[BASE]
    assert (framework.id, framework.name, framework.status) == ("pdu-renamed", "Renamed", "draft")
    assert framework.rules.overall.note == "changed"
    assert framework.rules.overall.bands == base.rules.overall.bands  # the rest of the mapping is kept
    assert framework.domains == base.domains
    assert framework.applies_to == ["pdu"]  # a list replaces the base's


def test_extending_a_version_not_in_the_folder_is_refused(tmp_path: Path):
    path = _write(tmp_path, "orphan.yaml", {"extends": "probation-none", "id": "orphan"})
    with pytest.raises(FrameworkInvalid) as caught:
        load_framework_file(path)
    assert caught.value.faults == ["extends: no framework 'probation-none' in the library to extend"]


def test_extending_a_version_that_extends_another_is_refused(tmp_path: Path):
    _copy(BASE, tmp_path)
    _copy(DRAFT, tmp_path)
    path = _write(tmp_path, "twice.yaml", {"extends": DRAFT, "id": "twice"})
    with pytest.raises(FrameworkInvalid) as caught:
        load_framework_file(path)
    assert caught.value.faults == [f"extends: {DRAFT} extends another version in turn; extend a whole one"]


def test_a_draft_whose_base_is_broken_is_refused_with_the_fault(tmp_path: Path):
    base = _copy(BASE, tmp_path)
    base.write_text(base.read_text().replace("max: 22", "max: 21", 1))
    _copy(DRAFT, tmp_path)
    with pytest.raises(FrameworkInvalid) as caught:
        load_framework_file(tmp_path / f"{DRAFT}.yaml")
    assert caught.value.faults == ["score bands leave a gap: no band covers 22"]


# --- outcome standards ----------------------------------------------------------------------------------


def _refused(data: dict[str, Any]) -> list[str]:
    with pytest.raises(FrameworkInvalid) as caught:
        parse_framework(data)
    return caught.value.faults


def test_an_outcome_standard_needs_outcome_thresholds():
    data = as_data(DRAFT)
    data["rules"]["outcome_thresholds"] = None
    assert _refused(data) == ["outcome standard 3.1 needs the framework's rules.outcome_thresholds"]


def test_outcome_thresholds_must_descend():
    data = as_data(DRAFT)
    data["rules"]["outcome_thresholds"]["good"] = 85
    assert _refused(data) == ["outcome thresholds must descend: outstanding 80.0 > good 85.0 > requires_improvement 50.0"]


def test_a_judged_standard_takes_no_answer_scale():
    data = as_data(DRAFT)
    data["domains"][0]["standards"][0]["answer_scale"] = "outcome"
    assert _refused(data) == ["judged standard 1.1 takes no answer scale: it has no key questions"]


def test_an_unknown_answer_scale_is_refused():
    data = as_data(DRAFT)
    data["domains"][2]["standards"][0]["answer_scale"] = "stars"
    faults = _refused(data)
    assert len(faults) == 1 and faults[0].startswith("domains.2.standards.0.answer_scale:")


def test_the_draft_round_trips_through_its_wire_shape():
    draft = library()[DRAFT]
    assert parse_framework(draft.model_dump(mode="json")) == draft
    assert Framework.model_validate_json(draft.model_dump_json()) == draft
