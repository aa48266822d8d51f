"""Run the gateway: `python -m gateway`."""

import uvicorn

from gateway.app import create_app
from gateway.settings import Settings
from inspection_shared.web import configure_logging, freeze_startup_objects


def main() -> None:
    settings = Settings()
    configure_logging("api", settings.log_level)
    app = create_app(settings)
    freeze_startup_objects()
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
