"""Signing in with the person's own account at the gateway, and signing out (revoked there too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from dashboard.pages import render, session_of, set_session_cookie
from inspection_shared.clients.gateway import GatewayError

router = APIRouter(include_in_schema=False)

REFUSED = "Enter the email address and password of your account"
TOO_MANY = "Too many attempts to sign in. Wait a few minutes, then try again"
EXPIRED_FORM = "The form had expired. Sign in again"


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never another site's address."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _form(request: Request, target: str, status: int = 200, error: str | None = None, email: str = "") -> Response:
    session = session_of(request) or request.app.state.sessions.new()
    page = render(request, "sign_in.html", status, session=session, next=target, error=error, email=email)
    set_session_cookie(request, page, session)
    return page


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    return _form(request, _safe_next(next))


@router.post("/sign-in")
async def sign_in(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=4096)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    target = _safe_next(next)
    before = session_of(request)
    if before is None or not before.csrf_matches(csrf):
        return _form(request, target, 400, EXPIRED_FORM, email)
    if not email.strip() or not password:
        return _form(request, target, 400, REFUSED, email)
    gateway = request.app.state.gateway
    try:
        tokens = await gateway.sign_in(email.strip(), password)
        person = await gateway.me(tokens.access_token)
    except GatewayError as error:
        if error.status >= 500:
            raise
        return _form(request, target, error.status, TOO_MANY if error.status == 429 else REFUSED, email)
    session = request.app.state.sessions.signed_in(before, person, tokens)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, session)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    session = session_of(request)
    if session is None or session.person is None:
        return RedirectResponse("/sign-in", status_code=303)
    if not session.csrf_matches(csrf):
        return render(request, "error.html", 400, title="The form had expired",
                      detail="Go back, reload the page, and sign out again.")
    request.app.state.sessions.end(session)
    try:
        await request.app.state.gateway.sign_out(session.refresh_token)
    except GatewayError:
        pass  # already ended at the gateway: signed out all the same
    response = RedirectResponse("/sign-in?signed_out=1", status_code=303)
    response.delete_cookie("dashboard_session", path="/")
    return response
