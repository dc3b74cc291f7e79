import sys

from braided.cli import main

sys.exit(main())
