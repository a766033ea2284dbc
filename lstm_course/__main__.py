"""``python -m lstm_course``: the same as the ``lstm-course`` command."""

from lstm_course.cli import main

raise SystemExit(main())
