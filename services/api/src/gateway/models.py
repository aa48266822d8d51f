"""Every table of the gateway, gathered for Alembic."""

from gateway.db import Base
from gateway.frameworks import models as frameworks  # noqa: F401

__all__ = ["Base"]
