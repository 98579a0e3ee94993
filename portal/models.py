"""Import every model module so that ``metadata`` knows every table (Alembic, tests)."""

from __future__ import annotations

import vae.audit.models
import vae.jury.models
import vae.parcours.models
import vae.people.models
import vae.referentiel.models  # noqa: F401
from vae.orm import Base

metadata = Base.metadata
