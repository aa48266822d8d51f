"""Frameworks as the gateway holds them: imported from the library, read back in the engine's shape."""

from gateway.frameworks.service import import_frameworks
from inspection_shared.framework import Framework
from inspection_shared.library import library


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
