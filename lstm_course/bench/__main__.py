"""python -m lstm_course.bench: see lstm_course/bench/__init__.py."""

from lstm_course.bench import main

raise SystemExit(main())
