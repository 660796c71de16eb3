import sys

from xltool.cli import main

sys.exit(main())
