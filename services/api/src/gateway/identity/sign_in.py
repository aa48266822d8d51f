"""Signing in and out: the OAuth 2.0 password and refresh-token grants, and revocation.

- A sign-in with the right password (and an active account, not held back by `throttles`) starts a
  family of refresh tokens and answers an access token with the family's first refresh token.
- A refresh token is exchanged once: the exchange marks it used and answers new tokens with the next of
  its family. A token used a second time was copied, by the client or by someone else, and nobody can
  tell which: the whole family is revoked, and both must sign in again.
- Signing out revokes the family of the refresh token given (or of the access token sent); signing out
  everywhere revokes every family of the person and ends their access tokens at once.

Refusals follow RFC 6749 (400, with `error` and `error_description`) inside the house's problem body. A
refusal that must be remembered (a family revoked) is committed before it is answered, since the request's
own transaction is rolled back on any error; a password sign-in is counted as a failed attempt, and
committed, before its password is checked (see `throttles`), which runs with no database connection held
(Argon2 is slow on purpose).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from gateway import audit
from gateway.actors import SESSION_KEY, Actor
from gateway.db import release, utcnow
from gateway.identity import passwords, repository, throttles
from gateway.identity.authentication import Identity
from gateway.identity.models import RefreshToken, User
from gateway.identity.schemas import TokenResponse
from gateway.identity.tokens import REFRESH_TOKEN_PREFIX, AccessClaims, new_secret, secret_hash
from gateway.permissions import not_signed_in
from gateway.writes import flush
from inspection_shared.problems import Problem

log = structlog.get_logger("sign-in")

SIGN_IN = Actor(id="sign-in", name="Sign-in", kind="system")
"""Writes for callers not known yet: the failures counted against an account or an address."""
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error(error: str, description: str) -> Problem:
    titles = {"invalid_grant": "Sign-in refused", "unsupported_grant_type": "Unsupported grant type",
              "invalid_request": "Invalid sign-in request"}
    return Problem(400, titles[error], description, slug=error.replace("_", "-"), headers=NO_STORE,
                   error=error, error_description=description)


def act_for(session: AsyncSession, actor: Actor) -> None:
    """From now on the request's session writes for `actor`: sign-in is where a request learns who it is
    for (its caller sent no credentials)."""
    session.info[SESSION_KEY] = actor


def as_person(account: User) -> Actor:
    return Actor(id=str(account.id), name=account.name, kind="person")


async def _issue(session: AsyncSession, identity: Identity, account: User, family: uuid.UUID, now: datetime) -> TokenResponse:
    refresh = new_secret(REFRESH_TOKEN_PREFIX)
    session.add(RefreshToken(
        family_id=family, user_id=account.id, token_hash=secret_hash(refresh), expires_at=now + identity.refresh_lifetime,
    ))
    await flush(session, clash="Signing in clashed with a change made at the same time; try again.")
    return TokenResponse(
        access_token=identity.tokens.issue(account.id, family, account.token_generation),
        expires_in=identity.tokens.lifetime_seconds,
        refresh_token=refresh,
    )


async def password_grant(
    session: AsyncSession, identity: Identity, username: str, password: str, address: str
) -> TokenResponse:
    email = username.strip().lower()
    act_for(session, SIGN_IN)
    await throttles.take_attempt(session, identity.throttle, email, address, utcnow())
    account = await repository.user_by_email(session, email)
    await release(session)  # counted for every process; and the password check is slow: nothing is held meanwhile
    matched, new_hash = await passwords.check(password, account.password_hash if account is not None else None)
    if account is not None and matched:
        account = await repository.user(session, account.id, fresh=True)  # it may have changed meanwhile
    if not matched or account is None or not account.active:
        why = "no such account" if account is None else "wrong password" if not matched else "account not active"
        await _refused(session, account.id if account is not None else None, why, address)
        raise oauth_error("invalid_grant", "The email address or password is wrong, or the account is not active.")
    act_for(session, as_person(account))
    if new_hash is not None:
        account.password_hash = new_hash  # made with weaker settings than today's
    await throttles.succeeded(session, email, address)
    answer = await _issue(session, identity, account, uuid.uuid4(), utcnow())
    await audit.record(session, "sign_in", "users", account.id, {"grant": "password", "address": address})
    log.info("signed in", user_id=str(account.id))
    return answer


async def _refused(session: AsyncSession, user_id: uuid.UUID | None, why: str, address: str | None = None) -> None:
    """Record a refused sign-in, and commit it (with whatever the refusal revoked): the request is then
    answered with an error, which would roll it back. What was typed as the user name is not kept (now and
    then it is a password); the account is named when there is one."""
    details = {"reason": why} | ({"address": address} if address is not None else {})
    await audit.record(session, "sign_in.refused", "users", user_id, details, actor=SIGN_IN)
    await session.commit()
    log.info("sign-in refused", user_id=str(user_id) if user_id is not None else None, reason=why)


async def refresh_grant(session: AsyncSession, identity: Identity, refresh_token: str) -> TokenResponse:
    now = utcnow()
    token_hash = secret_hash(refresh_token)
    act_for(session, SIGN_IN)
    used = await repository.use_refresh_token(session, token_hash, now)
    if used is None:
        held = await repository.refresh_token(session, token_hash)
        if held is not None and held.used_at is not None:
            revoked = await repository.revoke_families(session, now, family_id=held.family_id)
            await _refused(session, held.user_id, "refresh token used twice: its sign-in revoked")
            log.warning("refresh token used twice: its family is revoked", user_id=str(held.user_id),
                        family_id=str(held.family_id), revoked=revoked)
            raise oauth_error(
                "invalid_grant",
                "This refresh token has been used already, so it may have been copied: every token of this "
                "sign-in is revoked. Sign in again.",
            )
        raise oauth_error("invalid_grant", "The refresh token is not valid: unknown, expired or revoked. Sign in again.")
    user_id, family = used
    account = await repository.user(session, user_id)
    if account is None or not account.active:
        await repository.revoke_families(session, now, family_id=family)
        await _refused(session, user_id, "account not active")
        raise oauth_error("invalid_grant", "The account this refresh token was issued to is not active.")
    act_for(session, as_person(account))
    return await _issue(session, identity, account, family, now)


async def sign_out(
    session: AsyncSession, actor: Actor | None, claims: AccessClaims | None, refresh_token: str | None,
    everywhere: bool,
) -> None:
    now = utcnow()
    if everywhere:
        if actor is None or actor.kind != "person" or claims is None:
            raise not_signed_in()
        account = await repository.user(session, claims.user_id)
        if account is None:
            raise not_signed_in()
        account.token_generation += 1  # every access token issued before ends now, in every process
        await repository.revoke_families(session, now, user_id=account.id)
        await flush(session, clash="Signing out clashed with a change made at the same time; try again.",
                    changed="the account")
        await audit.record(session, "sign_out", "users", account.id, {"everywhere": True})
        log.info("signed out everywhere", user_id=str(account.id))
        return
    if refresh_token is not None:
        held = await repository.refresh_token(session, secret_hash(refresh_token))
        if held is None:
            return  # nothing to revoke: answered as a success all the same (RFC 7009)
        family, user_id = held.family_id, held.user_id
        if actor is None:
            owner = await repository.user(session, held.user_id)
            act_for(session, as_person(owner) if owner is not None else SIGN_IN)
    elif claims is not None:
        family, user_id = claims.session_id, claims.user_id
    else:
        raise oauth_error("invalid_request", "Send the refresh_token to revoke, or sign out with your access token.")
    if await repository.revoke_families(session, now, family_id=family):
        await audit.record(session, "sign_out", "users", user_id, {"everywhere": False, "sign_in": str(family)})
    log.info("signed out", family_id=str(family))
