"""Run the rating engine: `python -m rating_engine`."""

import uvicorn

from inspection_shared.web import configure_logging, freeze_startup_objects
from rating_engine.app import create_app
from rating_engine.settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging("rating-engine", settings.log_level)
    app = create_app()
    freeze_startup_objects()
    uvicorn.run(app, host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
