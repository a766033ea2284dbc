"""Graded exercises: student copies from the masters, and an offline autograder.

- ``authoring``: ``exercises/NAME.ipynb`` from ``solutions/NAME.ipynb`` with nbgrader's own
  preprocessors (``make exercises``, ``lstm-course exercises``);
- ``grader``: runs a submission against its master, cell by cell, with time limits, kernel
  restarts and fresh checks (``lstm-course grade``), built from ``markup`` (nbgrader's cell
  metadata), ``assemble`` (the notebook that runs), ``tamper`` (static analysis of answer
  cells), ``guard`` (replaced functions put back at run time) and ``kernel`` (one restartable
  kernel);
- ``report``: CSV and JSON grade reports.

Nothing is imported here: ``lstm-course --help`` stays fast.
"""
