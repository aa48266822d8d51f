"""Run the gateway: `python -m gateway`."""

import sys

import uvicorn

from gateway.app import create_app
from gateway.identity.keys import KeyConfigurationError, refuse_defaults_in_production
from gateway.settings import Settings
from inspection_shared.web import configure_logging, freeze_startup_objects


def main() -> None:
    settings = Settings()
    configure_logging("api", settings.log_level)
    try:
        refuse_defaults_in_production(settings)
    except KeyConfigurationError as refused:
        print(refused, file=sys.stderr)
        sys.exit(2)
    app = create_app(settings)
    freeze_startup_objects()
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
