from django.core.management.commands.makemigrations import Command as MakeMigrationsCommand

from catalog.management.autodetector import Autodetector


class Command(MakeMigrationsCommand):
    autodetector = Autodetector
