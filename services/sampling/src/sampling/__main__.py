"""Run the sampling service: `python -m sampling`."""

import uvicorn

from inspection_shared.web import configure_logging
from sampling.settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging("sampling", settings.log_level)
    uvicorn.run("sampling.app:create_app", factory=True, host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
