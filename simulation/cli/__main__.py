"""``python -m simulation.cli``: the same as the ``outsidein`` command."""

import sys

from simulation.cli import main

sys.exit(main())
