"""Runtime guard: functions of NumPy and lstm_course that a student's code replaced, put back.

The static analysis (``tamper``) catches ``np.isclose = ...``, but not every disguise
(``m = [np][0]; m.isclose = ...``, or a patch made inside the student's function while a check
calls it). So the grader installs a small module in the kernel before any student code runs.
It remembers every function and class of the watched modules (NumPy, ``math`` and
``lstm_course`` outside the checks, which are re-imported anyway) the first time it sees them;
each later ``check`` puts back whatever was replaced and reports it. The grader checks before
each answer and test cell, and after each test cell: a replacement made while a test cell ran
withholds that test's points.

Everything here is text the kernel runs; ``replaced`` reads the report back.
"""

import re

REPORT = "GuardReport"  # the exception the kernel raises to report replacements
MODULE = "_lstm_course_grader"

INSTALL = f'''\
def _lstm_course_install_guard():
    import sys, types
    import numpy  # remembered before any student code runs

    watched = ("numpy", "math", "lstm_course")
    originals = {{}}

    class {REPORT}(Exception):
        pass

    def _watched(name):
        return name.split(".")[0] in watched and not name.startswith("lstm_course.checks")

    def check():
        replaced = []
        for name, module in list(sys.modules.items()):
            if module is None or not _watched(name):
                continue
            namespace = getattr(module, "__dict__", {{}})
            seen = originals.setdefault(name, {{}})
            for attr, value in list(namespace.items()):
                if attr not in seen:
                    if callable(value):
                        seen[attr] = value
                elif value is not seen[attr]:
                    namespace[attr] = seen[attr]
                    replaced.append(name + "." + attr)
            for attr in [a for a in seen if a not in namespace]:
                namespace[attr] = seen[attr]
                replaced.append(name + "." + attr)
        if replaced:
            raise {REPORT}("replaced: " + ", ".join(sorted(replaced)))

    guard = types.ModuleType("{MODULE}")
    guard.check = check
    sys.modules["{MODULE}"] = guard
    check()

_lstm_course_install_guard()
del _lstm_course_install_guard
'''

CHECK = f'__import__("{MODULE}").check()\n'


def replaced(outcome):
    """The names a guard check reported as replaced (and restored): [] when none."""
    if outcome.ename != REPORT:
        return []
    match = re.match(r"replaced: (.*)", outcome.evalue)
    return match.group(1).split(", ") if match else []
