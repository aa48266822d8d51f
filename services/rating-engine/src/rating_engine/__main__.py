"""Run the rating engine: `python -m rating_engine`."""

import uvicorn

from inspection_shared.web import configure_logging
from rating_engine.settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging("rating-engine", settings.log_level)
    uvicorn.run("rating_engine.app:create_app", factory=True, host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
