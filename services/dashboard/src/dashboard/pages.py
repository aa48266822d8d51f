"""What every page shares: the templates, the signed-in person (`ViewerDep`), and the gateway's refusals
as pages.

Each page calls the gateway with the person's own access token, exchanged for a fresh one shortly before
it ends. A person whose sign-in the gateway no longer honours is sent to the sign-in page.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from dashboard.sessions import COOKIE, Session, SessionStore
from inspection_shared.clients.gateway import GatewayClient, GatewayError, GatewayUnavailable

RATING_LABELS = {
    "outstanding": "Outstanding",
    "good": "Good",
    "requires_improvement": "Requires improvement",
    "inadequate": "Inadequate",
    "not_rated": "Not rated",
}
RATINGS = ("outstanding", "good", "requires_improvement", "inadequate")
TAG_COLOURS = {"outstanding": "green", "good": "blue", "requires_improvement": "orange", "inadequate": "red"}
"""The four rating colours, as the charts draw them (inspection_shared.charts.BAND_COLOURS)."""
PHASE_LABELS = {
    "planned": "Planned", "pre_fieldwork": "Before fieldwork", "fieldwork": "Fieldwork", "rating": "Rating",
    "published": "Published", "withdrawn": "Withdrawn",
}

PAGE_POLICY = (
    "default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
"""Pages load only the dashboard's own files; the one inline script (GOV.UK's js-enabled flag) by nonce."""


def _day(value: str | date | None) -> str:
    if not value:
        return ""
    day = value if isinstance(value, date) else datetime.fromisoformat(str(value).replace("Z", "+00:00")).date()
    return f"{day.day} {day:%B %Y}"


def _percent(value: float | None, places: int = 1) -> str:
    return "" if value is None else f"{value:.{places}f}%"


TEMPLATES = jinja2.Environment(
    loader=jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        jinja2.PrefixLoader({"govuk_frontend_jinja": jinja2.PackageLoader("govuk_frontend_jinja")}),
    ]),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # the templates are part of the release: no file to look at again on every page
)
TEMPLATES.filters.update(
    rating=lambda code: RATING_LABELS.get(code or "", "Not rated"),
    tag_colour=lambda code: TAG_COLOURS.get(code or "", "grey"),
    phase=lambda code: PHASE_LABELS.get(code or "", code or ""),
    day=_day,
    percent=_percent,
    share=lambda value, places=1: "" if value is None else f"{100 * value:.{places}f}%",
    blank=lambda value: "" if value is None else value,
)
TEMPLATES.globals.update(RATINGS=RATINGS)
# The footer is the same on every page (its GOV.UK macro and crown logo are a fifth of a page's drawing).
TEMPLATES.globals.update(footer=Markup(TEMPLATES.get_template("footer.html").render()))


class SignInNeeded(Exception):
    """The page needs a person signed in; they are sent to sign in, and back here after."""


@dataclass
class Viewer:
    """The signed-in person, and the gateway as they see it."""

    session: Session
    gateway: GatewayClient
    store: SessionStore

    @property
    def id(self) -> str:
        assert self.session.person is not None
        return self.session.person.id

    def may(self, permission: str) -> bool:
        return self.session.person is not None and self.session.person.may(permission)

    async def token(self) -> str:
        """The person's access token, exchanged for a new one first if it is about to end. One exchange at
        a time per session: a refresh token used twice would revoke the whole sign-in."""
        session = self.session
        async with session.refreshing:
            if not session.access_fresh:
                try:
                    session.hold(await self.gateway.refresh(session.refresh_token))
                except GatewayError:
                    self.store.end(session)
                    raise SignInNeeded() from None
            return session.access_token


def session_of(request: Request) -> Session | None:
    return request.app.state.sessions.get(request.cookies.get(COOKIE))


async def _viewer(request: Request) -> Viewer:
    session = session_of(request)
    if session is None or session.person is None:
        raise SignInNeeded()
    return Viewer(session, request.app.state.gateway, request.app.state.sessions)


ViewerDep = Annotated[Viewer, Depends(_viewer)]


def set_session_cookie(request: Request, response: Response, session: Session) -> None:
    response.set_cookie(
        COOKIE, session.id, httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/",
    )


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page from `template`, with the person, the navigation and a CSRF token for its forms."""
    session = context.pop("session", None) or session_of(request)
    nonce = secrets.token_urlsafe(16)
    person = session.person if session else None
    page = TEMPLATES.get_template(template).render(
        request=request, person=person, csrf=session.csrf if session else "", nonce=nonce,
        staff=bool(person and person.may("drafts:read")), path=request.url.path, **context,
    )
    headers = {"Content-Security-Policy": PAGE_POLICY.format(nonce=nonce), "Cache-Control": "no-store"}
    return HTMLResponse(page, status_code=status_code, headers=headers)


def install_page_errors(app: FastAPI) -> None:
    """The gateway's refusals, and its absence, as pages."""

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, error: SignInNeeded) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(GatewayError)
    async def _refused(request: Request, error: GatewayError) -> Response:
        if error.status == 401:
            if session := session_of(request):
                request.app.state.sessions.end(session)
            return await _sign_in(request, SignInNeeded())
        status = error.status if error.status in (403, 404) else 502
        title = {403: "You cannot see this", 404: "Page not found"}.get(status, "The service could not answer")
        return render(request, "error.html", status, title=title, detail=error.problem.detail or error.problem.title)

    @app.exception_handler(GatewayUnavailable)
    async def _unavailable(request: Request, error: GatewayUnavailable) -> Response:
        detail = "The inspection service is not answering. Try again in a few minutes."
        return render(request, "error.html", 503, title="Sorry, there is a problem with the service", detail=detail)
