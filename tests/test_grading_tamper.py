"""Static analysis of answer cells: what counts as tampering with the grading, and what not."""

import pytest

from lstm_course.grading import tamper

MODULES = {"np", "math", "lstm_course", "data"}  # imported by the exercise's locked cells
TESTS = [
    "from lstm_course.checks import rnn as checks\n\n"
    "checks.check_rnn_step_forward(rnn_step_forward, B=3, D=4, H=5, seed=0)\n"
    "checks.rng(0)",
]
PROTECTED = tamper.check_names(TESTS)


def findings(source):
    return [str(f) for f in tamper.find_tampering(source, MODULES, PROTECTED)]


def test_the_names_of_the_checks_come_from_the_test_cells():
    assert PROTECTED == {"checks", "check_rnn_step_forward", "CheckError"}


@pytest.mark.parametrize(
    "source, expected",
    [
        (
            "import lstm_course.checks.rnn as m\nm.check_x = lambda *a, **k: None",
            "line 1: imports lstm_course.checks",
        ),
        (
            "import lstm_course.checks.rnn as m\nm.check_x = lambda *a, **k: None",
            "line 2: assigns to m.check_x, part of the imported module m",
        ),
        ("np.allclose = lambda *a, **k: True", "line 1: assigns to np.allclose"),
        ("import numpy\nnumpy.testing.assert_allclose = print", "assigns to numpy.testing"),
        ("del np.isclose", "line 1: deletes np.isclose"),
        ("x = np\nx.isclose = max", "line 2: assigns to x.isclose"),
        ("data.cache = None", "line 1: assigns to data.cache, part of the imported module data"),
        ("data.cache = None\ndata = {}", "line 1: assigns to data.cache"),
        ("def f():\n    np = 0\n\nnp.isclose = max", "line 4: assigns to np.isclose"),
        ("linalg = getattr(np, 'linalg')\nlinalg.norm = abs", "assigns to linalg.norm"),
        ("setattr(np, 'isclose', max)", "setattr() on np changes a module"),
        ("np.__dict__['isclose'] = max", "uses __dict__"),
        ("checks = None", "uses the name 'checks'"),
        (
            "def check_rnn_step_forward(*a, **k):\n    pass",
            "uses the name 'check_rnn_step_forward'",
        ),
        ("from lstm_course import checks", "imports lstm_course.checks"),
        ("lstm_course.checks.rnn.check_x = None", "uses the name 'checks'"),
        ("import sys\nsys.modules['numpy'] = None", "uses sys.modules"),
        ("import builtins\nbuiltins.abs = max", "imports builtins"),
        ("__builtins__['abs'] = max", "uses __builtins__"),
        ("import importlib\nimportlib.reload(np)", "imports importlib"),
        ("exec('np.isclose = max')", "uses exec, which runs code from a string"),
        ("eval('1')", "uses eval"),
        ("eval = eval\neval('1')", "uses eval"),
        ("run = exec\nrun('x = 1')", "uses exec"),
        ("__import__('numpy').isclose = max", "uses __import__"),
        ("globals()['checks'] = None", "uses globals"),
        ("def f():\n    f.__code__ = None", "uses __code__"),
        ("def rnn(x):\n    np.tanh = lambda z: z\n    return x", "line 2: assigns to np.tanh"),
        ("%run other.py", "uses the IPython command %run"),
        ("%%writefile lstm_course/checks/rnn.py\nx = 1", "uses the IPython command %writefile"),
        ("get_ipython().user_ns['checks'] = None", "uses get_ipython().user_ns"),
        ("import _lstm_course_grader as g\ng.check = print", "belongs to the grader"),
        ("_lstm_course_fresh_checks = print", "uses _lstm_course_fresh_checks"),
        ("shell = get_ipython()\nshell.user_ns['checks'] = None", "uses get_ipython"),
    ],
)
def test_tampering_is_found(source, expected):
    found = findings(source)
    assert any(expected in f for f in found), found


@pytest.mark.parametrize(
    "source",
    [
        # ordinary answers: NumPy, classes, methods that share names with the forbidden ones
        "def rnn_step_forward(x, h_prev, W_x, W_h, b):\n"
        "    a = x @ W_x + h_prev @ W_h + b  # (B, H)\n"
        "    h = np.tanh(a)\n"
        "    cache = (x, h_prev, W_x, W_h, h)\n"
        "    return h, cache",
        "out = np.zeros((3, 4))\nout[0] = 1.0\nout[1:] += np.ones(4)",
        "class Cell:\n    def __init__(self, n):\n        self.n = n\n"
        "        setattr(self, 'size', n)\n\n    def eval(self):\n        return self.n",
        "import re\npattern = re.compile(r'\\d+')",
        "model = object()\nrng = np.random.default_rng(0)\nx = rng.normal(size=3)",
        "import numpy as np\nfrom math import tanh as th\nvalue = th(0.5)",
        "%timeit np.zeros(3)\nresult = !echo hi",
        "def f(x):\n    return x\n\nf(np.pi)",
        "vars = ['x', 'h']\ncompile = len(vars)",  # shadowing a builtin calls nothing
        "data = {}\ndata['X'] = np.ones(3)\ndata.update(y=1)",  # not the module `data` any more
        "this is not python (",  # does not parse: it fails when run, no finding
    ],
)
def test_ordinary_answers_are_not_tampering(source):
    assert findings(source) == []


def test_imported_names_of_a_cell():
    source = "import numpy as np\nimport os.path\nfrom lstm_course.checks import rnn as checks"
    assert tamper.imported_names(source) == {"np", "os", "checks"}
    assert tamper.imported_names("not python (") == set()
