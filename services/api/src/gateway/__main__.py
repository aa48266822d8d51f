"""Run the gateway: `python -m gateway`."""

import sys

from gateway import production
from gateway.app import create_app
from gateway.casedata.keys import CaseKeyError
from gateway.settings import Settings
from inspection_shared.server import serve
from inspection_shared.settings import load_or_exit


def main() -> None:
    settings = load_or_exit(Settings, "gateway")
    production.exit_if_refused(settings)

    def build():
        try:
            return create_app(settings)
        except CaseKeyError as error:  # a key given that is not one (a missing one is refused above)
            sys.exit(f"gateway: {error}")

    serve(build, settings, service="api")


if __name__ == "__main__":
    main()
