"""lstm-course: the helper package behind the course notebooks.

Importing it has no side effects: seeding, plotting styles and device choice are explicit
calls (``set_seed``, ``device``). The NumPy reference implementations live in
``lstm_course.scratch``.
"""

from lstm_course.runtime import device, set_seed

__all__ = ["device", "set_seed", "__version__"]
__version__ = "0.1.0"
