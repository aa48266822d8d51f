"""Run the gateway: `python -m gateway`."""

from gateway.app import create_app
from gateway.settings import Settings
from inspection_shared.server import serve


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings, service="api")


if __name__ == "__main__":
    main()
