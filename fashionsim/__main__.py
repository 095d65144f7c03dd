"""``python -m fashionsim`` runs the command line."""

import sys

from fashionsim.cli import main

sys.exit(main())
