#!/usr/bin/env python
"""Django's command-line utility; starts the embedded PostgreSQL on demand."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "searchsite.settings")
    from django.core.management import execute_from_command_line

    from searchsite.embedded_postgres import EmbeddedPostgresError, ensure_running

    try:
        ensure_running()
    except EmbeddedPostgresError as exc:
        sys.exit(f"embedded PostgreSQL: {exc}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
