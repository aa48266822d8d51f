"""Frameworks as the gateway holds them: imported from the library, read back in the engine's shape."""

import pytest

from gateway.frameworks.models import FrameworkVersion
from gateway.frameworks.service import import_frameworks
from inspection_shared.framework import Framework
from inspection_shared.library import content_hash, library
from inspection_shared.problems import Conflict


async def test_list_holds_every_library_version(gateway):
    response = await gateway.get("/api/v1/frameworks")
    assert response.status_code == 200
    body = response.json()
    assert [f["id"] for f in body["items"]] == sorted(library())
    assert body["next_cursor"] is None
    crc = next(f for f in body["items"] if f["id"] == "probation-crc-2018")
    assert (crc["standards"], crc["scored_standards"]) == (10, 10)


async def test_detail_matches_the_library_definition(gateway):
    response = await gateway.get("/api/v1/frameworks/probation-crc-2018")
    assert response.status_code == 200
    body = response.json()
    assert Framework.model_validate(body) == library()["probation-crc-2018"]
    standards = {s["id"]: s for d in body["domains"] for s in d["standards"]}
    assert standards["2.1"]["kind"] == "case"
    assert [k["id"] for k in standards["2.1"]["key_questions"]] == ["2.1.1", "2.1.2", "2.1.3"]
    assert standards["1.1"]["kind"] == "judged" and standards["1.1"]["key_questions"] == []
    assert body["rules"]["overall"]["max_score"] == 30


async def test_unknown_framework_is_a_404_problem(gateway):
    response = await gateway.get("/api/v1/frameworks/probation-1999")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == f"No framework 'probation-1999' (the frameworks held: {', '.join(sorted(library()))})"


async def test_import_is_idempotent(db_session):
    report = await import_frameworks(db_session, list(library().values()))
    assert report.created == [] and report.updated == []
    assert sorted(report.unchanged) == sorted(library())


async def test_a_published_version_held_without_publication_gates_takes_the_librarys(db_session):
    # As a database holds a version imported before the gates were written into the library.
    youth = library()["youth-2021"]
    await import_frameworks(db_session, [youth.model_copy(update={"publication": None})])
    held = await db_session.get(FrameworkVersion, "youth-2021")
    assert "publication" not in held.definition or held.definition["publication"] is None

    report = await import_frameworks(db_session, [youth])
    assert (report.created, report.updated, report.unchanged) == ([], ["youth-2021"], [])
    await db_session.refresh(held)
    assert held.definition["publication"] == youth.publication.model_dump(mode="json")
    assert held.content_hash == content_hash(youth)


async def test_a_published_version_whose_rating_content_differs_is_still_refused(db_session):
    youth = library()["youth-2021"]
    changed = youth.model_copy(update={"version": "2021.2"})
    with pytest.raises(Conflict) as refused:
        await import_frameworks(db_session, [changed])
    assert refused.value.detail.startswith("Framework youth-2021 is published and its library copy differs")
