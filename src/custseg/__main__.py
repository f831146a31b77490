"""``python -m custseg`` runs the command line."""

from .cli import run

run()
