"""Static analysis of answer cells: does the student's code reach for the checks or the runtime?

A test cell earns its points when it runs without error, so an answer cell that disables the
checks (``m.check_x = lambda *a, **k: None``, ``np.allclose = lambda *a, **k: True``,
``checks = ...``) would earn them all. The grader looks at each answer cell's syntax tree
before running it; a cell with a finding is not run (the blank stub runs instead) and its
question earns no points. What is looked for:

- assigning to, or deleting, an attribute or item of an imported module (``np.allclose = f``,
  ``m.check_x = f``), also through a simple alias (``m = np``) or ``setattr``/``delattr``;
- the machinery that reaches around the language: ``sys.modules``, ``builtins``,
  ``__builtins__``, ``importlib``, ``reload``, ``exec``, ``eval``, ``compile``, ``__import__``,
  ``globals()``, ``vars()``, frames, and dunder attributes such as ``__dict__`` or ``__code__``;
- any use of ``lstm_course.checks`` or of the names the test cells call (``checks``,
  ``check_rnn_step_forward``, ...): answer cells implement, the test cells below check;
- IPython commands that run or load other code (``%run``, ``%%writefile``, ``%load_ext``, ...);
- the grader's own helpers in the kernel (names starting ``_lstm_course``).

This is a heuristic, not a sandbox. At run time the grader also re-imports
``lstm_course.checks`` before each test cell and puts back NumPy and ``lstm_course`` functions
that were replaced (``guard``), so a patch that slips past this analysis is undone anyway.
"""

import ast
from dataclasses import dataclass

CHECKS_PACKAGE = "lstm_course.checks"
FORBIDDEN_NAMES = {
    "__import__": "imports by name",
    "exec": "runs code from a string",
    "eval": "runs code from a string",
    "compile": "compiles code from a string",
    "globals": "rewrites the notebook's namespace",
    "vars": "rewrites a namespace",
    "builtins": "changes Python's built-in functions",
    "__builtins__": "changes Python's built-in functions",
    "importlib": "re-imports modules",
    "reload": "re-imports modules",
}
GRADER_PREFIX = "_lstm_course"  # what the grader itself defines in the kernel
FORBIDDEN_MODULES = {"builtins", "importlib", "imp", "ctypes", "gc"}
FORBIDDEN_SYS = {"modules", "_getframe", "settrace", "setprofile", "meta_path", "path_hooks"}
FORBIDDEN_DUNDERS = {
    "__dict__",
    "__globals__",
    "__builtins__",
    "__code__",
    "__closure__",
    "__subclasses__",
    "__setattr__",
    "__delattr__",
    "__import__",
    "__loader__",
    "__spec__",
}
FORBIDDEN_MAGICS = {
    "run",
    "load",
    "load_ext",
    "reload_ext",
    "autoreload",
    "aimport",
    "rerun",
    "recall",
    "macro",
    "writefile",
    "edit",
}
# What IPython turns `%magic` and `!cmd` into; anything else on get_ipython() is suspect.
IPYTHON_CALLS = {"run_line_magic", "run_cell_magic", "system", "getoutput"}


@dataclass(frozen=True)
class Finding:
    """One suspicious construct: where (line in the cell) and what."""

    line: int
    message: str

    def __str__(self):
        return f"line {self.line}: {self.message}"


def python_source(source):
    """The cell as plain Python: IPython magics become get_ipython() calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # an unparsable cell fails when it runs; that is feedback enough
        return source


def imported_names(source):
    """Names an import statement binds in source, e.g. {"np", "checks"} (set() if unparsable)."""
    tree = _parse(source)
    names = set()
    for node in ast.walk(tree) if tree else ():
        if isinstance(node, ast.Import):
            names.update(a.asname or a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names if a.name != "*")
    return names


def check_names(test_sources):
    """The names of the checks the test cells call: "checks", and every check_* they use.

    For ``from lstm_course.checks import rnn as checks; checks.check_rnn_step_forward(...)``
    that is {"checks", "check_rnn_step_forward", "CheckError"}. Helpers with everyday names
    (``compare``, ``rng``) are left out: a student may well call a variable ``rng``.
    """
    names = {"checks", "CheckError"}
    for source in test_sources:
        tree = _parse(source)
        if tree is None:
            continue
        bound = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and _is_checks_module(node.module or ""):
                bound.update(a.asname or a.name for a in node.names if a.name != "*")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if _is_checks_module(alias.name) and alias.asname:
                        bound.add(alias.asname)
        called = {
            node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and _root(node.func) in bound
        }
        names |= {n for n in bound | called if n.startswith("check")}
    return names


def find_tampering(source, module_names=(), protected_names=()):
    """Findings in one answer cell (an empty list when it is clean or does not parse).

    Args:
        source: the cell's text.
        module_names: names bound to imported modules anywhere in the notebook (e.g. "np").
        protected_names: names of the checks the test cells call (see check_names).
    """
    tree = _parse(source)
    if tree is None:
        return []
    modules = _ModuleNames(tree, set(module_names) | imported_names(source))
    protected = set(protected_names)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    shadowed = _shadowed(tree)
    findings = []
    for node in ast.walk(tree):
        message = (
            _module_write(node, modules)
            or _reflection(node, modules, shadowed)
            or _checks_reference(node, protected)
            or _ipython(node, parents)
        )
        if message:
            findings.append(Finding(getattr(node, "lineno", 1), message))
    unique = {(f.line, f.message): f for f in findings}
    return sorted(unique.values(), key=lambda f: (f.line, f.message))


class _ModuleNames:
    """Which names stand for an imported module at a given line of the cell.

    `data = {}` at the top of a cell makes `data` a dict from there on, not lstm_course.data;
    a name assigned a module anywhere (`m = np`) is a module everywhere.
    """

    def __init__(self, tree, names):
        self.names = names
        self.aliases = _aliases(tree, names)
        self.rebound = {}  # name -> line of its first top-level binding to something else
        for node in tree.body:
            bound = []
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                if not _module_valued(node.value, names):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    bound = [t.id for t in targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound = [node.name]
            for name in bound:
                self.rebound.setdefault(name, node.lineno)

    def at(self, name, line):
        if name in self.aliases:
            return True
        return name in self.names and self.rebound.get(name, line + 1) > line


def _shadowed(tree):
    """Names the cell assigns itself (`vars = [...]`), unless from a builtin (`eval = eval`)."""
    stored = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr) and node.value:
            if any(getattr(n, "id", None) in FORBIDDEN_NAMES for n in ast.walk(node.value)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                stored -= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return stored


def _parse(source):
    try:
        return ast.parse(python_source(source))
    except (SyntaxError, ValueError):
        return None


def _is_checks_module(name):
    return name == CHECKS_PACKAGE or name.startswith(CHECKS_PACKAGE + ".")


def _root(node):
    """The name at the root of a.b[c].d (None when the root is not a plain name)."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node):
    try:
        return ast.unparse(node)
    except Exception:  # unparse never fails on a parsed tree, but a message must not crash
        return "an attribute"


def _aliases(tree, modules):
    """Names assigned a module, an attribute of one, or getattr(module, ...): m = np.linalg."""
    aliases, grew = set(), True
    while grew:  # a = np; b = a ... until nothing new
        grew = False
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Assign) and _module_valued(node.value, modules | aliases)):
                continue
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id not in aliases:
                    aliases.add(target.id)
                    grew = True
    return aliases


def _module_valued(value, modules):
    if isinstance(value, ast.Name | ast.Attribute):
        return _root(value) in modules
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return value.func.id == "getattr" and bool(value.args) and _root(value.args[0]) in modules
    return False


def _targets(node):
    if isinstance(node, ast.Assign):
        return node.targets
    if isinstance(node, ast.AugAssign | ast.AnnAssign):
        return [node.target]
    if isinstance(node, ast.Delete):
        return node.targets
    if isinstance(node, ast.For | ast.AsyncFor):
        return [node.target]
    if isinstance(node, ast.withitem) and node.optional_vars is not None:
        return [node.optional_vars]
    return []


def _module_write(node, modules):
    line = getattr(node, "lineno", 0)
    for target in _targets(node):
        for part in ast.walk(target):
            if isinstance(part, ast.Attribute | ast.Subscript) and modules.at(_root(part), line):
                verb = "deletes" if isinstance(node, ast.Delete) else "assigns to"
                return f"{verb} {_dotted(part)}, part of the imported module {_root(part)}"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in ("setattr", "delattr") and node.args:
            target = node.args[0]
            if modules.at(_root(target), line) or isinstance(target, ast.Call):
                return f"{node.func.id}() on {_dotted(target)} changes a module"
    return None


def _reflection(node, modules, shadowed):
    if (
        isinstance(node, ast.Name)
        and isinstance(node.ctx, ast.Load)
        and node.id in FORBIDDEN_NAMES
        and node.id not in shadowed
    ):
        return f"uses {node.id}, which {FORBIDDEN_NAMES[node.id]}"
    own = getattr(node, "id", None) or getattr(node, "attr", None)
    if isinstance(own, str) and own.startswith(GRADER_PREFIX):
        return f"uses {own}, which belongs to the grader"
    if isinstance(node, ast.Import | ast.ImportFrom):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        names += [a.name for a in node.names]
        for name in names:
            if name.startswith(GRADER_PREFIX):
                return f"imports {name}, which belongs to the grader"
            if name.split(".")[0] in FORBIDDEN_MODULES or name in FORBIDDEN_NAMES:
                return f"imports {name}, which reaches around the checks"
            if isinstance(node, ast.ImportFrom) and node.module == "sys" and name in FORBIDDEN_SYS:
                return f"imports sys.{name}"
    if isinstance(node, ast.Attribute):
        if node.attr in FORBIDDEN_DUNDERS:
            return f"uses {node.attr}, which reaches into Python's internals"
        if node.attr in FORBIDDEN_SYS and isinstance(node.value, ast.Name):
            if node.value.id == "sys" or (
                modules.at(node.value.id, node.lineno) and node.attr == "modules"
            ):
                return f"uses {node.value.id}.{node.attr}"
        if node.attr in ("currentframe", "getouterframes", "stack") and _root(node) == "inspect":
            return f"uses inspect.{node.attr} to reach other frames"
    return None


def _checks_reference(node, protected):
    if isinstance(node, ast.Import | ast.ImportFrom):
        module = node.module or "" if isinstance(node, ast.ImportFrom) else ""
        names = [a.name for a in node.names]
        if _is_checks_module(module) or any(_is_checks_module(n) for n in names):
            return f"imports {CHECKS_PACKAGE}: answer cells implement, the test cells check"
        if module == "lstm_course" and "checks" in names:
            return f"imports {CHECKS_PACKAGE}: answer cells implement, the test cells check"
    name = None
    if isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Attribute):
        name = node.attr
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        name = node.name
    elif isinstance(node, ast.arg):
        name = node.arg
    if name in protected:
        return f"uses the name {name!r}, which the test cells use to check your answer"
    return None


def _ipython(node, parents):
    """get_ipython() is fine for what IPython writes for %magic and !cmd, and nothing else."""
    if isinstance(node, ast.Name) and node.id == "get_ipython":
        call, attribute = parents.get(node), None
        if isinstance(call, ast.Call) and call.func is node:
            attribute = parents.get(call)
        if not (isinstance(attribute, ast.Attribute) and attribute.attr in IPYTHON_CALLS):
            what = attribute.attr if isinstance(attribute, ast.Attribute) else None
            return f"uses get_ipython().{what}" if what else "uses get_ipython"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr.endswith("_magic") and node.args:
            magic = node.args[0]
            if isinstance(magic, ast.Constant) and magic.value in FORBIDDEN_MAGICS:
                return f"uses the IPython command %{magic.value}"
    return None
