"""Run the rating engine: `python -m rating_engine`."""

from inspection_shared.server import serve
from rating_engine.app import create_app
from rating_engine.settings import Settings


def main() -> None:
    serve(create_app, Settings(), service="rating-engine")


if __name__ == "__main__":
    main()
