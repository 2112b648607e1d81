"""`python -m app` is the same as the `carrel` command."""

from app.cli import main

raise SystemExit(main())
