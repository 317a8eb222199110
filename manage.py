#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mecfs_kb.settings")
    # manage.py is the developers' tool (makemigrations, shell, load_seed), so it
    # defaults to development settings, as the Makefile does. What serves readers,
    # gunicorn through mecfs_kb.wsgi, keeps the strict default (DEBUG off, a real
    # SECRET_KEY required); production runs its manage.py commands with DEBUG=0.
    os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
