"""Run the rating engine: `python -m rating_engine`."""

from inspection_shared.server import serve
from rating_engine.app import create_app
from rating_engine.settings import Settings


def main() -> None:
    settings = Settings()
    serve(lambda: create_app(settings), settings, service="rating-engine")


if __name__ == "__main__":
    main()
