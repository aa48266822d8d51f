"""Run the gateway: `python -m gateway`."""

import sys

import uvicorn

from gateway.app import create_app
from gateway.casedata.keys import CaseKeyError
from gateway.settings import Settings
from inspection_shared.web import configure_logging, freeze_startup_objects


def main() -> None:
    settings = Settings()
    configure_logging("api", settings.log_level)
    try:
        app = create_app(settings)
    except CaseKeyError as error:
        sys.exit(f"gateway: {error}")
    freeze_startup_objects()
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
