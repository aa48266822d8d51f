"""Webhooks: subscriptions made, read and deleted by their owners; deliveries signed as the Standard
Webhooks specification describes, retried with backoff against a receiver that fails, each attempt
logged; never to a private address unless allowed, never following a redirect, never an event the
owner may not see."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from sqlalchemy import LargeBinary, select, type_coerce
from standardwebhooks.webhooks import Webhook

from gateway.audit.models import AuditEntry
from gateway.casedata.sealing import case_keys
from gateway.events import signing
from gateway.events.delivery import DeliveryPolicy, DeliveryWorker, owners_from
from gateway.events.models import WebhookSubscription
from gateway.identity.models import ApiKey
from gateway.permissions import Permission, Role
from tests.gateway.factories import make_inspection
from tests.gateway.test_events import publish_rated
from tests.gateway.test_ratings import youth_inspection
from tests.gateway.test_scoping import holding
from tests.support.receiver import receiver

API = "/api/v1"
WEBHOOKS = f"{API}/webhooks"
LOOPBACK = frozenset({"127.0.0.1"})

# The specification's own test vector.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


# --- signing ------------------------------------------------------------------------------------------


def test_the_signature_is_the_specifications_own_test_vector():
    assert signing.signature(signing.key_of(SPEC_SECRET), SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_a_made_secret_signs_what_the_specifications_library_verifies():
    key = signing.new_key()
    body = b'{"type":"inspection.published"}'
    now = int(time.time())
    verified = Webhook(signing.secret_of(key)).verify(body, signing.headers(key, "msg_1", now, body))
    assert verified == {"type": "inspection.published"}
    assert signing.key_of(signing.secret_of(key)) == key and len(key) == 32


@pytest.mark.parametrize("secret, fault", [
    ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must start with whsec_"),
    ("whsec_not base64!", "must be base64 after whsec_"),
    ("whsec_c2hvcnQ=", "must hold 24 to 64 bytes, not 5"),
])
def test_a_secret_given_must_be_one_the_specification_allows(secret, fault):
    with pytest.raises(ValueError, match=fault):
        signing.key_of(secret)


# --- subscriptions -----------------------------------------------------------------------------------


@pytest.fixture
def loopback_allowed(gateway_app):
    gateway_app.state.webhook_hosts = LOOPBACK
    yield
    gateway_app.state.webhook_hosts = frozenset()


async def subscribe(gateway, url: str, types=("inspection.published",), **fields) -> dict:
    made = await gateway.post(WEBHOOKS, json={"url": url, "event_types": list(types), **fields})
    assert made.status_code == 201, made.text
    return made.json()


async def test_a_subscription_shows_its_secret_once_and_keeps_it_sealed_and_out_of_the_audit_log(
    gateway, db_session, loopback_allowed
):
    made = await gateway.post(WEBHOOKS, json={"url": "http://127.0.0.1:9/hooks",
                                              "event_types": ["panel.decided", "inspection.published"]})
    assert made.status_code == 201
    body = made.json()
    assert made.headers["location"] == f"{WEBHOOKS}/{body['id']}"
    assert made.headers["cache-control"] == "no-store"
    assert body["secret"].startswith("whsec_") and len(signing.key_of(body["secret"])) == 32
    assert (body["url"], body["event_types"]) == ("http://127.0.0.1:9/hooks", ["inspection.published", "panel.decided"])

    listed = (await gateway.get(WEBHOOKS)).json()["items"]
    assert [(w["id"], "secret" in w) for w in listed] == [(body["id"], False)]
    assert "secret" not in (await gateway.get(f"{WEBHOOKS}/{body['id']}")).json()

    column = WebhookSubscription.__table__.c.signing_key
    where = WebhookSubscription.id == uuid.UUID(body["id"])
    assert await db_session.scalar(select(column).where(where)) == signing.key_of(body["secret"])  # opened as read
    sealed = await db_session.scalar(select(type_coerce(column, LargeBinary)).where(where))
    assert signing.key_of(body["secret"]) not in sealed
    assert case_keys().open(sealed) == signing.key_of(body["secret"])
    entry = await db_session.scalar(select(AuditEntry).where(AuditEntry.entity == "webhook_subscriptions",
                                                             AuditEntry.entity_id == body["id"],
                                                             AuditEntry.action == "insert"))
    assert entry.after["signing_key"] == "[masked]"
    assert entry.after["event_types"] == ["inspection.published", "panel.decided"]


async def test_a_secret_given_is_used(gateway, loopback_allowed):
    made = await subscribe(gateway, "http://127.0.0.1:9/hooks", secret=SPEC_SECRET)
    assert made["secret"] == SPEC_SECRET


@pytest.mark.parametrize("url, says", [
    ("http://127.0.0.1:8080/hooks", "resolves to 127.0.0.1"),
    ("http://localhost/hooks", "resolves to"),
    ("http://10.1.2.3/hooks", "resolves to 10.1.2.3"),
    ("http://192.168.0.7/hooks", "resolves to 192.168.0.7"),
    ("http://169.254.169.254/latest/meta-data", "resolves to 169.254.169.254"),
    ("http://[::1]:8000/hooks", "resolves to ::1"),
    ("http://[::ffff:10.0.0.1]/hooks", "resolves to ::ffff:10.0.0.1"),
    ("ftp://example.org/hooks", "must be an http or https URL"),
    ("https://user:pass@example.org/hooks", "may not carry credentials"),
    ("https://no-such-host.invalid/hooks", "cannot be resolved"),
])
async def test_a_private_or_odd_target_is_a_422_naming_url(gateway, db_session, url, says):
    refused = await gateway.post(WEBHOOKS, json={"url": url, "event_types": ["inspection.published"]})
    assert refused.status_code == 422, refused.text
    errors = refused.json()["errors"]
    assert [e["field"] for e in errors] == ["body.url"]
    assert says in errors[0]["message"]
    assert (await db_session.scalars(select(WebhookSubscription))).all() == []


async def test_a_bad_secret_and_types_are_422s_naming_them(gateway, loopback_allowed):
    refused = await gateway.post(WEBHOOKS, json={"url": "http://127.0.0.1/h", "event_types": ["panel.decided"],
                                                 "secret": "whsec_c2hvcnQ="})
    assert [e["field"] for e in refused.json()["errors"]] == ["body.secret"]
    refused = await gateway.post(WEBHOOKS, json={"url": "http://127.0.0.1/h", "event_types": ["inspection.lost"]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"].startswith("body.event_types")


async def test_a_subscription_is_its_owners_and_the_administrators(gateway, acting_as, loopback_allowed):
    mine = await subscribe(gateway, "http://127.0.0.1:9/mine")
    other = holding(Role.ADMIN)
    someone = type(other)(id="key:someone", name="A report generator", kind="key",
                          grants=(type(other.grants[0])(frozenset({Permission.WEBHOOKS_MANAGE}), None),))
    with acting_as(someone):
        theirs = await subscribe(gateway, "http://127.0.0.1:9/theirs")
        assert [w["id"] for w in (await gateway.get(WEBHOOKS)).json()["items"]] == [theirs["id"]]
        for path in (f"{WEBHOOKS}/{mine['id']}", f"{WEBHOOKS}/{mine['id']}/deliveries"):
            hidden = await gateway.get(path)
            assert (hidden.status_code, hidden.json()["detail"]) == (404, f"No webhook {mine['id']}")
        assert (await gateway.delete(f"{WEBHOOKS}/{mine['id']}")).status_code == 404
    # The administrator sees every subscription, and deletes any.
    assert {w["id"] for w in (await gateway.get(WEBHOOKS)).json()["items"]} == {mine["id"], theirs["id"]}
    assert (await gateway.get(f"{WEBHOOKS}/{theirs['id']}")).json()["created_by"] == "key:someone"
    assert (await gateway.delete(f"{WEBHOOKS}/{theirs['id']}")).status_code == 204
    assert (await gateway.get(f"{WEBHOOKS}/{theirs['id']}")).status_code == 404


# --- deliveries --------------------------------------------------------------------------------------


def worker_for(gateway_app, **policy) -> DeliveryWorker:
    sessions = gateway_app.state.sessionmaker
    settings = {"timeout": 2.0, "retry_first": 0.05, "retry_longest": 0.2, "retry_for": 60.0,
                "allowed_hosts": LOOPBACK, **policy}
    return DeliveryWorker(sessions, owners_from(gateway_app.state.identity.cache, sessions), DeliveryPolicy(**settings))


async def run_until(worker: DeliveryWorker, done, rounds: int = 100) -> None:
    for _ in range(rounds):
        await worker.run_once()
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the worker did not get there")


async def deliveries(gateway, subscription_id) -> list[dict]:
    listed = await gateway.get(f"{WEBHOOKS}/{subscription_id}/deliveries")
    assert listed.status_code == 200, listed.text
    return listed.json()["items"]


async def test_a_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt_each_logged(
    gateway, gateway_app, db_session, loopback_allowed
):
    inspection = await youth_inspection(db_session)
    with receiver([500, 503, 500]) as hooks:
        made = await subscribe(gateway, hooks.url)
        await publish_rated(gateway, inspection.id)
        worker = worker_for(gateway_app)
        try:
            await run_until(worker, lambda: len(hooks.received) >= 4)
            await worker.run_once()  # nothing more is sent
        finally:
            await worker.aclose()
    assert len(hooks.received) == 4
    event = json.loads(hooks.received[0].body)
    assert (event["type"], event["inspection_id"], event["data"]["overall_rating"]) == (
        "inspection.published", str(inspection.id), "good")
    ids = {r.headers["webhook-id"] for r in hooks.received}
    assert len(ids) == 1  # the same message each time, for the receiver to know a repeat
    for request in hooks.received:
        assert request.body == hooks.received[0].body
        assert Webhook(made["secret"]).verify(request.body, request.headers) == event
        key = signing.key_of(made["secret"])
        assert request.headers["webhook-signature"] == signing.signature(
            key, request.headers["webhook-id"], int(request.headers["webhook-timestamp"]), request.body)

    [delivery] = await deliveries(gateway, made["id"])
    assert (delivery["event_type"], delivery["status"], delivery["next_attempt_at"]) == (
        "inspection.published", "delivered", None)
    assert ids.pop() == f"msg_{uuid.UUID(delivery['id']).hex}"
    attempts = delivery["attempts"]
    assert [(a["number"], a["status_code"], a["error"]) for a in attempts] == [
        (1, 500, None), (2, 503, None), (3, 500, None), (4, 204, None)]
    assert all(a["duration_ms"] >= 0 for a in attempts)
    times = [a["attempted_at"] for a in attempts]
    assert times == sorted(times)


async def test_only_the_types_subscribed_are_delivered(gateway, gateway_app, db_session, loopback_allowed):
    inspection = await youth_inspection(db_session)
    with receiver() as hooks:
        await subscribe(gateway, hooks.url, types=("rating_run.completed", "panel.decided"))
        await publish_rated(gateway, inspection.id)
        worker = worker_for(gateway_app)
        try:
            await run_until(worker, lambda: len(hooks.received) >= 2)
            await worker.run_once()
        finally:
            await worker.aclose()
    assert sorted(json.loads(r.body)["type"] for r in hooks.received) == ["panel.decided", "rating_run.completed"]


async def test_an_owner_who_may_not_see_a_draft_is_never_sent_its_events(
    gateway, gateway_app, db_session, acting_as, loopback_allowed
):
    draft = await youth_inspection(db_session)
    published = await youth_inspection(db_session)
    key = ApiKey(name="Report generator", prefix="ik_live_abcd", key_hash="0" * 64, created_by="test",
                 updated_by="test", scopes=["reports:read", "inspections:read", "events:read", "webhooks:manage"])
    db_session.add(key)
    await db_session.flush()
    owner = await gateway_app.state.identity.cache.acting(gateway_app.state.sessionmaker, f"key:{key.id}")
    assert owner is not None and owner.kind == "key"
    with receiver() as hooks:
        with acting_as(owner):
            await subscribe(gateway, hooks.url, types=("rating_run.completed", "panel.decided",
                                                       "inspection.phase_changed", "inspection.published"))
        assert (await gateway.post(f"{API}/inspections/{draft.id}/rating-runs")).status_code == 201
        await publish_rated(gateway, published.id)
        worker = worker_for(gateway_app)
        try:
            await run_until(worker, lambda: len(hooks.received) >= 2)
            for _ in range(3):
                await worker.run_once()
        finally:
            await worker.aclose()
    sent = sorted((json.loads(r.body)["type"], json.loads(r.body)["inspection_id"]) for r in hooks.received)
    assert sent == [("inspection.phase_changed", str(published.id)), ("inspection.published", str(published.id))]


async def test_a_redirect_is_not_followed(gateway, gateway_app, db_session, loopback_allowed):
    inspection = await youth_inspection(db_session)
    with receiver([302, 302, 302, 302]) as hooks:
        made = await subscribe(gateway, hooks.url)
        await publish_rated(gateway, inspection.id)
        worker = worker_for(gateway_app, retry_first=5.0)
        try:
            await run_until(worker, lambda: len(hooks.received) >= 1)
            await worker.run_once()
        finally:
            await worker.aclose()
    assert [r.path for r in hooks.received] == ["/hooks"]  # never /moved
    [delivery] = await deliveries(gateway, made["id"])
    assert delivery["status"] == "pending" and delivery["next_attempt_at"] is not None
    assert [(a["status_code"], a["error"]) for a in delivery["attempts"]] == [(302, None)]


async def test_a_target_refused_when_sent_is_an_attempt_with_the_reason(gateway, gateway_app, db_session,
                                                                          loopback_allowed):
    inspection = await youth_inspection(db_session)
    with receiver() as hooks:
        made = await subscribe(gateway, hooks.url)
        await publish_rated(gateway, inspection.id)
        worker = worker_for(gateway_app, allowed_hosts=frozenset(), retry_first=5.0)  # since the subscription
        try:
            await worker.run_once()
        finally:
            await worker.aclose()
    assert hooks.received == []
    [delivery] = await deliveries(gateway, made["id"])
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] is None and "resolves to 127.0.0.1" in attempt["error"]


async def test_a_delivery_is_given_up_after_its_retries(gateway, gateway_app, db_session, loopback_allowed):
    inspection = await youth_inspection(db_session)
    with receiver([500] * 50) as hooks:
        made = await subscribe(gateway, hooks.url)
        await publish_rated(gateway, inspection.id)
        worker = worker_for(gateway_app, retry_for=0.3)
        try:
            for _ in range(30):
                await worker.run_once()
                await asyncio.sleep(0.05)
        finally:
            await worker.aclose()
    [delivery] = await deliveries(gateway, made["id"])
    assert (delivery["status"], delivery["next_attempt_at"]) == ("failed", None)
    assert len(delivery["attempts"]) == len(hooks.received) >= 2
    assert all(a["status_code"] == 500 for a in delivery["attempts"])


async def test_a_deleted_subscription_is_sent_nothing_more(gateway, gateway_app, db_session, loopback_allowed):
    inspection = await youth_inspection(db_session)
    with receiver() as hooks:
        made = await subscribe(gateway, hooks.url)
        assert (await gateway.delete(f"{WEBHOOKS}/{made['id']}")).status_code == 204
        await publish_rated(gateway, inspection.id)
        worker = worker_for(gateway_app)
        try:
            await worker.run_once()
        finally:
            await worker.aclose()
    assert hooks.received == []


def test_backoff_doubles_from_the_first_wait_to_the_longest_with_jitter():
    policy = DeliveryPolicy(retry_first=10, retry_longest=100)
    for failures, ceiling in ((1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (40, 100)):
        waits = [policy.backoff(failures) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 100


async def test_events_before_a_subscription_are_not_sent(gateway, gateway_app, db_session, loopback_allowed):
    inspection = await make_inspection(db_session, status="planned")
    moved = await gateway.post(f"{API}/inspections/{inspection.id}/transitions", json={"to": "withdrawn", "note": "x"})
    assert moved.status_code == 200
    with receiver() as hooks:
        await subscribe(gateway, hooks.url, types=("inspection.phase_changed",))
        worker = worker_for(gateway_app)
        try:
            await worker.run_once()
        finally:
            await worker.aclose()
    assert hooks.received == []
