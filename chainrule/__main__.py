"""`python -m chainrule train` runs the `chainrule` command."""

from .cli import main

raise SystemExit(main())
