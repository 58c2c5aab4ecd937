"""Start Django from the command line for a given data directory (or DATABASE_URL)."""

from __future__ import annotations

import os
from pathlib import Path


def setup(data_dir: Path | None = None) -> None:
    """Configure and start Django; ``data_dir`` wins over ITB_DATA_DIR."""
    if data_dir is not None:
        os.environ["ITB_DATA_DIR"] = str(data_dir.resolve())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itb.web.settings")
    import django

    django.setup()


def migrate(verbosity: int = 0) -> None:
    """Bring the database schema up to date (idempotent)."""
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)
    # The cache's table (settings.CACHES) is not a model's: made here, if missing.
    call_command("createcachetable", verbosity=verbosity)
