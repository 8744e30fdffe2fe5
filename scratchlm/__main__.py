"""``python -m scratchlm`` runs the command line, like the ``scratchlm`` script."""
import sys

from scratchlm.cli import main

sys.exit(main())
