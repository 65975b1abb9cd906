"""``python -m nx5d`` runs the command line."""

import sys

from nx5d.app.cli import main

sys.exit(main())
