from django.core.management.commands.migrate import Command as MigrateCommand

from catalog.management.autodetector import Autodetector


class Command(MigrateCommand):
    autodetector = Autodetector
