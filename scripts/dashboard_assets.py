"""`make dashboard-assets`: copy the dashboard's front-end assets from services/dashboard/node_modules (as
`npm ci` installed them from package-lock.json) into services/dashboard/src/dashboard/static/.

The copies are committed, so running the dashboard needs no Node. GOV.UK Frontend's stylesheet is taken
as built, with two changes made here: its GDS Transport @font-face rules are removed (that typeface is
licensed for GOV.UK domains only, and its files are not copied) and every font-family naming it is given
the system font stack instead; and its asset URLs point under /static/.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / "services/dashboard"
MODULES = DASHBOARD / "node_modules"
STATIC = DASHBOARD / "src/dashboard/static"

SYSTEM_FONTS = 'system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif'
_FONT_FACE = re.compile(r"@font-face\{font-family:GDS Transport;[^}]*\}")
_GDS_FAMILY = re.compile(r"font-family:GDS Transport(,arial,sans-serif)?")

COPIES = {
    # source under node_modules: destination under static/
    "govuk-frontend/dist/govuk/govuk-frontend.min.js": "govuk/govuk-frontend.min.js",
    "govuk-frontend/dist/govuk/assets/images": "govuk/assets/images",
    "govuk-frontend/dist/govuk/assets/manifest.json": "govuk/assets/manifest.json",
    "@ministryofjustice/frontend/moj/moj-frontend.min.css": "moj/moj-frontend.min.css",
    "@ministryofjustice/frontend/moj/moj-frontend.min.js": "moj/moj-frontend.min.js",
    "@ministryofjustice/frontend/moj/assets/images": "moj/assets/images",
    "axe-core/axe.min.js": "axe/axe.min.js",
}


def system_fonts(css: str) -> str:
    """GOV.UK Frontend's stylesheet without GDS Transport: no @font-face, the system stack wherever it was named."""
    css = _FONT_FACE.sub("", css)
    return _GDS_FAMILY.sub("font-family:" + SYSTEM_FONTS, css)


def main() -> int:
    if not MODULES.is_dir():
        print("services/dashboard/node_modules is missing: run `npm ci` there first.", file=sys.stderr)
        return 1
    for folder in ("govuk", "moj", "axe"):  # the dashboard's own files beside them stay
        shutil.rmtree(STATIC / folder, ignore_errors=True)
    css = (MODULES / "govuk-frontend/dist/govuk/govuk-frontend.min.css").read_text()
    css = system_fonts(css).replace("url(/assets/", "url(/static/govuk/assets/")
    (STATIC / "govuk").mkdir(parents=True)
    (STATIC / "govuk/govuk-frontend.min.css").write_text(css)
    for source, destination in COPIES.items():
        target = STATIC / destination
        target.parent.mkdir(parents=True, exist_ok=True)
        if (MODULES / source).is_dir():
            shutil.copytree(MODULES / source, target)
        else:
            shutil.copyfile(MODULES / source, target)
    # The MoJ stylesheet's images are referenced relative to the site root as well.
    moj = STATIC / "moj/moj-frontend.min.css"
    moj.write_text(system_fonts(moj.read_text()).replace("url(/assets/", "url(/static/moj/assets/"))
    print(f"Assets copied into {STATIC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
