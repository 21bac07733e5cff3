"""Storage: SQLAlchemy 2 async models (one module per domain), the database handle, Alembic migrations."""

from bot.storage import models as _models  # noqa: F401  (every table joins the metadata)
from bot.storage.database import Database

__all__ = ["Database"]
