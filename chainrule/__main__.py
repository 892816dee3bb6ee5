"""`python -m chainrule train` runs the `chainrule` command."""

from .tools.cli import main

raise SystemExit(main())
