"""`python -m ruta_local`: same as the `ruta-local` command."""

import sys

from ruta_local.cli import main

sys.exit(main())
