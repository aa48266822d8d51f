"""Run the gateway: `python -m gateway`."""

import uvicorn
from inspection_shared.web import configure_logging

from gateway.settings import Settings


def main() -> None:
    settings = Settings()
    configure_logging("api", settings.log_level)
    uvicorn.run("gateway.app:create_app", factory=True, host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
