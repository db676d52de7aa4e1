"""``python -m causal``: the single command-line entry point."""
from causal.cli import main

raise SystemExit(main())
