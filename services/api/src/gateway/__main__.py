"""Run the gateway: `python -m gateway`."""

import sys

from gateway.app import create_app
from gateway.casedata.keys import CaseKeyError
from gateway.identity.keys import KeyConfigurationError, refuse_defaults_in_production
from gateway.settings import Settings
from inspection_shared.server import serve


def main() -> None:
    settings = Settings()
    try:
        refuse_defaults_in_production(settings)
    except KeyConfigurationError as refused:
        print(refused, file=sys.stderr)
        sys.exit(2)

    def build():
        try:
            return create_app(settings)
        except CaseKeyError as error:
            sys.exit(f"gateway: {error}")

    serve(build, settings, service="api")


if __name__ == "__main__":
    main()
