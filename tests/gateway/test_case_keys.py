"""The case keys: from the environment or files it names, generated once on a development machine,
required in production; rotation to a new key loses nothing; sealed columns, documents and cursors."""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import stat
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import async_sessionmaker

from gateway.actors import SESSION_KEY
from gateway.app import create_app
from gateway.casedata.keys import CaseKeyError, fernet_keys, index_key, load_keys, new_index_key
from gateway.casedata.rotation import rotate_case_keys
from gateway.casedata.sealing import (
    CaseKeys,
    case_keys,
    holds_case_data,
    open_document,
    seal_document,
    use_case_keys,
)
from gateway.caseloads.frames import read_frame
from gateway.caseloads.models import SampledCase
from gateway.idempotency.models import IdempotentRequest
from gateway.models import Base
from gateway.production import RefusedInProduction
from gateway.settings import Settings
from inspection_shared.clients import SamplingClient
from inspection_shared.sampling import SampleDesign
from tests.conftest import TEST_ACTOR
from tests.gateway.factories import frame_units, make_inspection, synthetic_frame
from tests.gateway.inspection_run import API, read_back, run_inspection


def settings(tmp_path, **values) -> Settings:
    return Settings(database_url="unused://", case_key_dir=tmp_path, **values)


def test_a_development_machine_generates_its_keys_once_readable_by_their_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv("GATEWAY_CASE_KEYS")
    monkeypatch.delenv("GATEWAY_CASE_INDEX_KEY")
    first = load_keys(settings(tmp_path))
    assert load_keys(settings(tmp_path)) == first
    for name in ("case-keys", "case-index-key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert len(first[0]) == 1 and len(first[1]) == 32


def test_keys_come_from_the_environment_or_a_file_it_names_newest_first(tmp_path, monkeypatch):
    new, old = Fernet.generate_key(), Fernet.generate_key()
    keys_file = tmp_path / "keys"
    keys_file.write_text(f"{new.decode()}\n{old.decode()}\n")
    index = new_index_key()
    monkeypatch.delenv("GATEWAY_CASE_KEYS")
    monkeypatch.setenv("GATEWAY_CASE_KEYS_FILE", str(keys_file))
    given = load_keys(settings(tmp_path, case_index_key=SecretStr(index)))
    assert given == ([new, old], index_key(index))
    inline = load_keys(settings(tmp_path, case_keys=SecretStr(f"{new.decode()}, {old.decode()}"),
                                case_index_key=SecretStr(index)))
    assert inline == given
    assert not (tmp_path / "case-keys").exists()


@pytest.mark.parametrize(
    ("keys", "index", "message"),
    [
        ("not-a-key", None, "GATEWAY_CASE_KEYS: key 1 is not a Fernet key"),
        (None, "c2hvcnQ", "GATEWAY_CASE_INDEX_KEY must hold at least 32 random bytes"),
    ],
)
def test_a_bad_key_is_refused_naming_the_setting_never_the_key(tmp_path, keys, index, message):
    with pytest.raises(CaseKeyError) as refused:
        load_keys(settings(tmp_path, case_keys=SecretStr(keys) if keys else None,
                           case_index_key=SecretStr(index) if index else None))
    assert str(refused.value).startswith(message)
    assert "c2hvcnQ" not in str(refused.value)


def test_in_production_the_gateway_refuses_to_start_without_its_keys(tmp_path):
    with pytest.raises(RefusedInProduction) as refused:
        create_app(settings(tmp_path, env="production", case_keys=None, case_index_key=None))
    assert "\n  - GATEWAY_CASE_KEYS (or GATEWAY_CASE_KEYS_FILE) is not set" in str(refused.value)
    assert "\n  - GATEWAY_CASE_INDEX_KEY (or GATEWAY_CASE_INDEX_KEY_FILE) is not set" in str(refused.value)
    assert not (tmp_path / "case-keys").exists()
    with pytest.raises(CaseKeyError, match="GATEWAY_CASE_KEYS"):  # nor is a key generated past the check
        load_keys(settings(tmp_path, env="production", case_keys=None))
    assert not (tmp_path / "case-keys").exists()


@pytest.mark.parametrize("command", [["gateway"], ["gateway.cli", "migrate"]])
def test_in_production_the_gateway_and_its_commands_stop_without_the_keys(tmp_path, command):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_CASE_")}
    ran = subprocess.run(
        [sys.executable, "-m", *command], env={**env, "GATEWAY_ENV": "production",
                                              "GATEWAY_CASE_INDEX_KEY": new_index_key(),
                                              "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"},
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert ran.returncode == 2
    assert ran.stderr.startswith("GATEWAY_ENV is production, and the gateway will not start:\n")
    assert "\n  - GATEWAY_CASE_KEYS (or GATEWAY_CASE_KEYS_FILE) is not set" in ran.stderr
    assert "GATEWAY_CASE_INDEX_KEY" not in ran.stderr and "\n  - DATABASE_URL (or DATABASE_URL_FILE) is SQLite" in ran.stderr
    assert "Traceback" not in ran.stderr
    assert not (tmp_path / "var").exists()


def test_a_document_keeps_its_shape_with_its_case_data_sealed():
    document = {
        "selected": [{"case_ref": "X.1", "unit": "N01"}, {"case_ref": "X.2", "unit": None}],
        "design": {"exclude": [{"column": "case_ref", "values": ["X.3"]}, {"column": "unit", "values": ["N02"]}]},
        "replaced_case_ref": "X.4",
        "cases": 3,
        "standards": [{"standard": "2.1", "cases": []}],
    }
    sealed = seal_document(document)  # "." is outside the tokens' alphabet: a reference can't appear by chance
    assert "X.1" not in repr(sealed) and "X.3" not in repr(sealed) and "X.4" not in repr(sealed)
    assert sealed["design"]["exclude"][1] == {"column": "unit", "values": ["N02"]}
    assert sealed["cases"] == 3 and sealed["standards"] == [{"standard": "2.1", "cases": []}]
    assert seal_document(sealed) == sealed
    assert open_document(sealed) == document
    assert holds_case_data(sealed) and holds_case_data(document)
    assert not holds_case_data({"standards": [{"standard": "2.1", "counts": {}}], "overrides": []})


async def test_a_sealed_reference_is_compared_by_its_blind_index_and_never_ordered_in_sql(db_session):
    found = select(SampledCase.id).where(SampledCase.case_ref == "X1")
    assert "case_ref_index" in str(found)
    with pytest.raises(TypeError):
        select(SampledCase.id).order_by(SampledCase.case_ref.asc())
    with pytest.raises(TypeError):
        select(SampledCase.id).where(SampledCase.case_ref > "X1")


@pytest.fixture
def keys_restored():
    held = case_keys()
    yield held
    use_case_keys(held)


async def test_rotation_seals_everything_under_the_newest_key_and_loses_nothing(
    gateway, db_connection, db_session, keys_restored
):
    run = await run_inspection(gateway)
    before = await read_back(gateway, run)
    stored_before = {(r.scope, r.key): r.response for r in await db_session.scalars(select(IdempotentRequest))}
    sessions = async_sessionmaker(bind=db_connection, join_transaction_mode="create_savepoint",
                                  expire_on_commit=False, info={SESSION_KEY: TEST_ACTOR})
    index = index_key(os.environ["GATEWAY_CASE_INDEX_KEY"])
    old = fernet_keys(os.environ["GATEWAY_CASE_KEYS"])
    new = Fernet.generate_key()
    both = CaseKeys([new, *old], index)
    use_case_keys(both)
    said: list[str] = []
    tables = list(Base.metadata.sorted_tables)

    # Stopped part way (only some tables done), then run again: it finishes, and a third run has nothing to do.
    part = await rotate_case_keys(sessions, [t for t in tables if t.name == "sampled_cases"], both, batch=7,
                                  say=said.append)
    assert part[0].rotated == part[0].rows > 40
    done = {f"{r.table}.{r.column}": r for r in await rotate_case_keys(sessions, tables, both, batch=7, say=said.append)}
    assert done["sampled_cases.case_ref"].rotated == 0 and done["sampled_cases.case_ref"].current > 40
    for column in ("caseload_frames.content", "samples.result", "samples.design", "substitutions.replaced_case_ref",
                   "case_assessments.case_ref", "rating_snapshots.request", "idempotent_requests.response"):
        assert done[column].rotated > 0, column
    again = await rotate_case_keys(sessions, tables, both, say=said.append)
    assert sum(r.rotated for r in again) == 0
    assert said[-1] == "rotate-case-key: every value is already under the newest key; nothing to do"
    assert any(re.match(r"caseload_frames\.content: [1-9]\d* sealed again under the newest key", line) for line in said)

    use_case_keys(CaseKeys([new], index))  # the old key is dropped: everything opens under the new one alone
    db_session.expunge_all()
    assert await read_back(gateway, run) == before
    assert {(r.scope, r.key): r.response for r in await db_session.scalars(select(IdempotentRequest))} == stored_before
    replayed = await gateway.post(f"{API}/inspections/{run.inspection_id}/rating-runs", json={},
                                  headers={"Idempotency-Key": run.keys["run"]})
    assert replayed.status_code == 201 and replayed.headers["idempotent-replayed"] == "true"
    raw = (await db_connection.execute(text("SELECT case_ref FROM sampled_cases"))).scalars().all()
    assert raw and all(Fernet(new).decrypt(token.encode()) for token in raw)


async def test_a_cursor_of_a_list_in_case_order_carries_no_case_reference(gateway, db_session):
    run = await run_inspection(gateway)
    sample_id = run.sample_ids["case_supervision"]
    page = (await gateway.get(f"{API}/samples/{sample_id}/cases", params={"limit": 5})).json()
    refs = [c["case_ref"] for c in page["items"]]
    assert refs == sorted(refs)
    cursor = page["next_cursor"]
    assert cursor.startswith("gAAAAA") and not any(ref in cursor for ref in refs)
    assessments = (await gateway.get(f"{API}/inspections/{run.inspection_id}/assessments", params={"limit": 5})).json()
    assert all(c["case_ref"] not in assessments["next_cursor"] for c in assessments["items"])
    forged = await gateway.get(f"{API}/samples/{sample_id}/cases", params={"cursor": "WyJRWjEwMDAwMCJd"})
    assert forged.status_code == 422
    assert forged.json()["errors"] == [{"field": "query.cursor", "message": "not a cursor from this list"}]


async def test_the_draw_sends_the_sampling_service_the_canonical_frame_byte_for_byte(gateway, db_session, monkeypatch):
    """Sealed at rest, the frame still reaches the sampling service exactly as canonicalised at upload: its
    SHA-256 is the frame's fingerprint, and the same design redrawn on those bytes gives the same sample."""
    sent: list[bytes] = []
    draw = SamplingClient.draw_sample_csv

    async def recording(self, frame_csv, design, **kwargs):
        sent.append(frame_csv)
        return await draw(self, frame_csv, design, **kwargs)

    monkeypatch.setattr(SamplingClient, "draw_sample_csv", recording)
    inspection = await make_inspection(db_session)
    upload = synthetic_frame(
        ["case_ref", "unit", "gender", "sentence_type", "rosh_level"], 300, seed=4,
        units=await frame_units(db_session, inspection),
    )
    frame = (await gateway.put(f"{API}/inspections/{inspection.id}/frames/case_supervision", content=upload,
                               headers={"Content-Type": "text/csv"})).json()
    drawn = (await gateway.post(f"{API}/inspections/{inspection.id}/samples",
                                json={"sample_type": "case_supervision", "size": 30, "seed": 9})).json()
    canonical = read_frame(upload.encode(), frame["columns"], "case_supervision")
    assert sent == [gzip.decompress(canonical.content)]
    assert hashlib.sha256(sent[0]).hexdigest() == frame["fingerprint"] == drawn["frame_fingerprint"]
    redrawn = await gateway_app_sampling(gateway).draw_sample_csv(sent[0], SampleDesign.model_validate(drawn["design"]))
    assert [c.case_ref for c in redrawn.selected] == [c["case_ref"] for c in drawn["selected"]]


def gateway_app_sampling(client) -> SamplingClient:
    return client._transport.app.state.sampling
