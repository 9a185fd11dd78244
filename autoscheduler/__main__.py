"""`python -m autoscheduler FILE.py:NAME -o schedule.py`: see autoscheduler.cli."""
from autoscheduler.cli import main

raise SystemExit(main())
