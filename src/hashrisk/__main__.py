"""``python -m hashrisk``: the same as the ``hashrisk`` command."""

from hashrisk.cli.main import app

app(prog_name="hashrisk")
