"""The web tests' fixtures, for the app's downloads and ``itb export --deidentified``."""

from tests.web.conftest import _fresh_cache, client_as, database_dir, world  # noqa: F401
