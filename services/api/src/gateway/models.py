"""Every table of the gateway, gathered for Alembic."""

from gateway.assessments import models as assessments  # noqa: F401
from gateway.audit import models as audit  # noqa: F401
from gateway.caseloads import models as caseloads  # noqa: F401
from gateway.consultations import models as consultations  # noqa: F401
from gateway.db import Base
from gateway.events import models as events  # noqa: F401
from gateway.frameworks import models as frameworks  # noqa: F401
from gateway.idempotency import models as idempotency  # noqa: F401
from gateway.identity import models as identity  # noqa: F401
from gateway.inspections import models as inspections  # noqa: F401
from gateway.programme import models as programme  # noqa: F401
from gateway.programme import plan_models as programme_plans  # noqa: F401
from gateway.ratings import models as ratings  # noqa: F401
from gateway.statistics import models as statistics  # noqa: F401
from gateway.units import models as units  # noqa: F401
from gateway.voice import models as voice  # noqa: F401

__all__ = ["Base"]
