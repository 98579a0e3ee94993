"""Import every model module so that ``metadata`` knows every table (Alembic, tests)."""

from __future__ import annotations

import carnet.models  # noqa: F401
import portal.accounts.models  # noqa: F401
import portal.pdf.pack_models  # noqa: F401
import vae.audit.models  # noqa: F401
import vae.decision.models  # noqa: F401
import vae.jury.models  # noqa: F401
import vae.livret.models  # noqa: F401
import vae.parcours.models  # noqa: F401
import vae.people.models  # noqa: F401
import vae.referentiel.models  # noqa: F401
from vae.orm import Base

metadata = Base.metadata
