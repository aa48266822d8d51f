"""Run the dashboard: `python -m dashboard`."""

from dashboard.app import create_app
from dashboard.settings import Settings
from inspection_shared.server import serve
from inspection_shared.settings import load_or_exit


def main() -> None:
    settings = load_or_exit(Settings, "dashboard")
    serve(lambda: create_app(settings), settings, service="dashboard")


if __name__ == "__main__":
    main()
