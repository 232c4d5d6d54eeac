"""``python -m cssblog``."""

from cssblog.cli import main

main()
