"""Run the rating engine: `python -m rating_engine`."""

from inspection_shared.server import serve
from inspection_shared.settings import load_or_exit
from rating_engine.app import create_app
from rating_engine.settings import Settings


def main() -> None:
    settings = load_or_exit(Settings, "rating_engine")
    serve(lambda: create_app(settings), settings, service="rating-engine")


if __name__ == "__main__":
    main()
