"""The API documentation page (`/docs`, Swagger UI), served whole by the service itself.

FastAPI's own page loads Swagger UI from a CDN, so it is blank on an offline or locked-down network (the
norm in a government department). Here the page, its script, its style sheet and the script that starts
it all come from the service: Swagger UI from the pinned `swagger-ui-bundle-v2` package (PyPI), the page
and its start-up script from this module. Nothing on the page is inline script, so its Content-Security-
Policy allows scripts from the service alone; styles may also be inline, as Swagger UI sets them on the
elements it draws. The password flow of the gateway's "Authorize" needs no OAuth redirect page.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"

DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
_ASSETS_CACHE = "public, max-age=86400"

_START = """window.ui = SwaggerUIBundle({
  url: new URL("../openapi.json", document.baseURI).href,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""


def _page(title: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API documentation</title>
<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="{ASSETS_PATH}/start.js"></script>
</body>
</html>
"""


def add_docs(app: FastAPI) -> None:
    """Serve the documentation page and its assets (create the app with `docs_url=None`)."""
    page = _page(app.title).encode()
    folder = Path(str(swagger_ui_path))

    @app.get(DOCS_PATH, include_in_schema=False)
    async def api_documentation() -> Response:
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_POLICY})

    @app.get(f"{ASSETS_PATH}/start.js", include_in_schema=False)
    async def api_documentation_start() -> Response:
        return Response(_START, media_type="text/javascript", headers={"Cache-Control": _ASSETS_CACHE})

    for name, media_type in _ASSETS.items():
        app.add_api_route(f"{ASSETS_PATH}/{name}", _asset(folder / name, media_type), methods=["GET"],
                          include_in_schema=False)


def _asset(path: Path, media_type: str):
    async def api_documentation_asset() -> Response:
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": _ASSETS_CACHE})

    return api_documentation_asset
