"""Identity: signing in and out, who I am, accounts and their roles, API keys, and the public signing keys."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from gateway.actors import CurrentActor
from gateway.db import SessionDep
from gateway.identity import api_keys, service, sign_in
from gateway.identity.authentication import Identity
from gateway.identity.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyListQuery,
    ApiKeyRead,
    GrantCreate,
    GrantRead,
    Me,
    TokenResponse,
    UserCreate,
    UserListQuery,
    UserRead,
    UserUpdate,
)
from gateway.permissions import PUBLIC, SIGNED_IN, Permission, declared_routes, requires
from inspection_shared.pagination import Page
from inspection_shared.problems import problem_responses

router = APIRouter(tags=["identity"])
well_known = APIRouter(tags=["identity"])
"""Outside /api/v1: where other systems look for the keys that verify our tokens."""

_ETAG_HEADER = {
    "ETag": {"description": "Version of the account; send it back in If-Match to change it.", "schema": {"type": "string"}}
}


def _identity(request: Request) -> Identity:
    return request.app.state.identity


def document_sign_in(app: FastAPI, token_url: str) -> None:
    """Say in the OpenAPI document how to sign in and which operations need it, so that the docs pages
    can sign in (OAuth 2.0 password flow) or take a token or API key, and clients know what to send."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = {
                "signIn": {"type": "oauth2", "flows": {"password": {"tokenUrl": token_url, "scopes": {}}}},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "An access token from sign-in, or an API key (ik_live_...)."},
            }
            for route in declared_routes(app, "/"):
                declared = route.declarations[0] if route.declarations else None
                if declared is None or (declared.permission is None and not declared.signed_in):
                    continue
                for method in route.methods:
                    operation = schema["paths"].get(route.path, {}).get(method.lower())
                    if operation is not None:
                        operation["security"] = [{"signIn": []}, {"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# --- signing in and out --------------------------------------------------------------------------------


@router.post(
    "/auth/token",
    summary="Sign in: exchange a password, or a refresh token, for an access token",
    description=(
        "The OAuth 2.0 token endpoint (RFC 6749), form-encoded. `grant_type=password` (the default) with "
        "`username` (the email address) and `password`; or `grant_type=refresh_token` with `refresh_token`. "
        "The answer's `access_token` goes in `Authorization: Bearer` for `expires_in` seconds; its "
        "`refresh_token` is exchanged once for the next pair (a refresh token used twice revokes every token "
        "of that sign-in). Refusals are 400 problems carrying OAuth's `error`; repeated failed sign-ins to an "
        "account or from an address are refused for a while with 429 and Retry-After."
    ),
    response_model=TokenResponse,
    responses=problem_responses(400, 422, 429),
    dependencies=[PUBLIC],
)
async def issue_token(
    request: Request,
    session: SessionDep,
    grant_type: Annotated[str, Form(description="password (the default) or refresh_token")] = "password",
    username: Annotated[str | None, Form(max_length=320, description="The email address.")] = None,
    password: Annotated[str | None, Form(max_length=4096)] = None,
    refresh_token: Annotated[str | None, Form(max_length=200)] = None,
    scope: Annotated[str | None, Form(description="Ignored: a token holds the account's grants.")] = None,
) -> JSONResponse:
    identity = _identity(request)
    if grant_type == "password":
        if not username or password is None:
            raise sign_in.oauth_error("invalid_request", "A password sign-in sends username and password.")
        address = request.client.host if request.client is not None else "unknown"
        answer = await sign_in.password_grant(session, identity, username, password, address)
    elif grant_type == "refresh_token":
        if not refresh_token:
            raise sign_in.oauth_error("invalid_request", "A refresh sends refresh_token.")
        answer = await sign_in.refresh_grant(session, identity, refresh_token)
    else:
        raise sign_in.oauth_error("unsupported_grant_type", "grant_type is password or refresh_token.")
    return JSONResponse(answer.model_dump(), headers=sign_in.NO_STORE)


@router.post(
    "/auth/logout",
    summary="Sign out: revoke a sign-in, or every sign-in of mine",
    description=(
        "Form-encoded. With `refresh_token`: revoke every token of that sign-in. Without it, signed in "
        "(Authorization: Bearer): revoke the sign-in the access token was issued in. With `everywhere=true`, "
        "signed in: revoke every sign-in of mine and end every access token I hold, in every gateway process."
    ),
    status_code=204,
    responses=problem_responses(400, 401, 422),
    dependencies=[PUBLIC],
)
async def sign_out(
    request: Request,
    session: SessionDep,
    actor: CurrentActor,
    refresh_token: Annotated[str | None, Form(max_length=200)] = None,
    everywhere: Annotated[bool, Form()] = False,
) -> Response:
    claims = getattr(request.state, "access_claims", None)
    await sign_in.sign_out(session, actor, claims, refresh_token, everywhere)
    return Response(status_code=204, headers=sign_in.NO_STORE)


@router.get(
    "/me",
    summary="Who I am: my account, my grants and what they allow on which units",
    responses=problem_responses(401),
    dependencies=[SIGNED_IN],
)
async def get_me(actor: CurrentActor, session: SessionDep) -> Me:
    return await service.me(session, actor)  # type: ignore[arg-type]


@well_known.get(
    "/.well-known/jwks.json",
    summary="The public keys that verify the gateway's access tokens (JSON Web Key Set)",
    dependencies=[PUBLIC],
)
async def get_jwks(request: Request) -> JSONResponse:
    return JSONResponse(_identity(request).tokens.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})


# --- accounts ------------------------------------------------------------------------------------------


@router.post(
    "/users",
    summary="Make an account for a person",
    status_code=201,
    responses={201: {"headers": {**_ETAG_HEADER, "Location": {"schema": {"type": "string"}}}},
               **problem_responses(409, 422)},
    dependencies=[requires(Permission.USERS_ADMIN)],
)
async def create_user(data: UserCreate, request: Request, response: Response, session: SessionDep) -> UserRead:
    user = await service.create_user(session, data)
    response.headers["Location"] = request.app.url_path_for("identity.get_user", user_id=str(user.id))
    response.headers["ETag"] = service.etag(user)
    return await service.user_read(session, user)


@router.get(
    "/users",
    summary="Accounts, in email order",
    responses=problem_responses(422),
    dependencies=[requires(Permission.USERS_ADMIN)],
)
async def list_users(query: Annotated[UserListQuery, Query()], session: SessionDep) -> Page[UserRead]:
    return await service.list_users(session, query)


@router.get(
    "/users/{user_id}",
    name="identity.get_user",
    summary="One account with its grants",
    responses={200: {"headers": _ETAG_HEADER}, **problem_responses(404)},
    dependencies=[requires(Permission.USERS_ADMIN)],
)
async def get_user(user_id: uuid.UUID, response: Response, session: SessionDep) -> UserRead:
    user = await service.get_user(session, user_id)
    response.headers["ETag"] = service.etag(user)
    return await service.user_read(session, user)


@router.patch(
    "/users/{user_id}",
    summary="Rename, deactivate or reactivate an account, or set its password",
    description=(
        "Deactivating (`active: false`) or a new password ends the person's sessions at once, in every "
        "gateway process. Send If-Match with the ETag of your last read: 428 without it, 412 if the account "
        "has changed since."
    ),
    responses={200: {"headers": _ETAG_HEADER}, **problem_responses(404, 409, 412, 422, 428)},
    dependencies=[requires(Permission.USERS_ADMIN)],
)
async def update_user(
    user_id: uuid.UUID,
    changes: UserUpdate,
    response: Response,
    session: SessionDep,
    if_match: Annotated[str | None, Header(description="The ETag of your last read of the account.")] = None,
) -> UserRead:
    user = await service.update_user(session, user_id, changes, if_match)
    response.headers["ETag"] = service.etag(user)
    return await service.user_read(session, user)


@router.post(
    "/users/{user_id}/grants",
    summary="Give a person a role on a unit (and the units below it), or the admin role",
    status_code=201,
    responses=problem_responses(404, 409, 422),
    dependencies=[requires(Permission.USERS_ADMIN)],
)
async def create_grant(user_id: uuid.UUID, data: GrantCreate, session: SessionDep) -> GrantRead:
    return await service.add_grant(session, user_id, data)


@router.delete(
    "/users/{user_id}/grants/{grant_id}",
    summary="Take a role away from a person",
    status_code=204,
    responses=problem_responses(404, 409),
    dependencies=[requires(Permission.USERS_ADMIN)],
)
async def delete_grant(user_id: uuid.UUID, grant_id: uuid.UUID, session: SessionDep) -> Response:
    await service.remove_grant(session, user_id, grant_id)
    return Response(status_code=204)


# --- API keys ------------------------------------------------------------------------------------------


@router.post(
    "/api-keys",
    summary="Make an API key for a system; the key is in the answer, this once only",
    status_code=201,
    responses=problem_responses(422),
    dependencies=[requires(Permission.KEYS_ADMIN)],
)
async def create_api_key(data: ApiKeyCreate, response: Response, session: SessionDep) -> ApiKeyCreated:
    response.headers["Cache-Control"] = "no-store"
    return await api_keys.create_key(session, data)


@router.get(
    "/api-keys",
    summary="API keys, newest first, without the keys themselves",
    responses=problem_responses(422),
    dependencies=[requires(Permission.KEYS_ADMIN)],
)
async def list_api_keys(query: Annotated[ApiKeyListQuery, Query()], session: SessionDep) -> Page[ApiKeyRead]:
    return await api_keys.list_keys(session, query)


@router.get(
    "/api-keys/{key_id}",
    summary="One API key, without the key itself",
    responses=problem_responses(404),
    dependencies=[requires(Permission.KEYS_ADMIN)],
)
async def get_api_key(key_id: uuid.UUID, session: SessionDep) -> ApiKeyRead:
    return await api_keys.get_key(session, key_id)


@router.delete(
    "/api-keys/{key_id}",
    summary="Revoke an API key, at once in every gateway process",
    status_code=204,
    responses=problem_responses(404),
    dependencies=[requires(Permission.KEYS_ADMIN)],
)
async def revoke_api_key(key_id: uuid.UUID, session: SessionDep) -> Response:
    await api_keys.revoke_key(session, key_id)
    return Response(status_code=204)
