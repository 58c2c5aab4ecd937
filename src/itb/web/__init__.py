"""The Django web shell: settings, URLs, WSGI, and the registry app. Only this package (and
the CLI commands that touch the database) import Django."""
