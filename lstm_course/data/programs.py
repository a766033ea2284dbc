"""Tiny Python-like programs and their output, for learning to execute (lecture 11).

Zaremba and Sutskever (2014) trained an LSTM to read the text of a short program, one
character at a time, and write what it prints. Their programs come from a grammar with two
difficulty knobs, and so do ours:

* **length** L: every integer literal has at most L digits (drawn from [0, 10**L));
* **nesting** n: how many operations are composed into the printed expression.

A program is built inside out. It starts from one literal (nesting 0); each of the n
operations then wraps the expression built so far, e:

    "+", "-"   (e+N), (N-e), ...                 an L-digit literal N on either side
    "*"        (e*k)                             k a small number in [2, max_small]
    "if"       (e if N1<N2 else N3)              a condition on two literals: e may be dead code
    "assign"   a new line  v=e,   then v         a fresh variable name v
    "for"      new lines  v=N  and  for x in range(k):v+=e   (or -=),   then v

and the last line prints the result, e.g. (L = 2, n = 3)

    d=(47-3)
    for x in range(4):f+=d         (preceded by f=12)
    print((f*3))

The target is the printed integer as text. ``run_program`` computes it with a small
interpreter for exactly this language (a tokenizer and a recursive-descent parser, no
``eval``/``exec``); the tests check it against Python itself.
"""

import re
from typing import NamedTuple

import numpy as np

from lstm_course.data._checks import check_int, check_seed

OPERATIONS = ("+", "-", "*", "if", "assign", "for")
# Every character a program can contain: digits, the variable names (no "x": it is the loop
# variable), keywords, operators, brackets, the newline and the space.
VARIABLES = "abcdefghijklmnopqrstuvwyz"
PROGRAM_CHARS = "".join(sorted(set("0123456789" + VARIABLES + "xforinageslpt+-*()=<>:\n ")))
OUTPUT_CHARS = "-0123456789"
MAX_RANGE = 100  # the interpreter refuses longer loops: programs here are meant to be tiny


class Program(NamedTuple):
    """One generated program.

    Attributes:
        text: the source, lines separated by "\\n", the last one ``print(...)``.
        output: what it prints, e.g. "25011" or "-73" (the seq2seq target).
        length, nesting: the difficulty it was drawn at.
        operations: the n operations applied, innermost first (each one of ``OPERATIONS``).
    """

    text: str
    output: str
    length: int
    nesting: int
    operations: tuple


def _check_operations(operations):
    if isinstance(operations, str) or not operations:
        raise ValueError(f"operations must be a non-empty tuple from {OPERATIONS}")
    bad = [op for op in operations if op not in OPERATIONS]
    if bad:
        raise ValueError(f"operations must be drawn from {OPERATIONS}, got {bad!r}")
    return tuple(operations)


def generate_program(rng, length, nesting, operations=OPERATIONS, max_small=9):
    """One random program of the given difficulty.

    Args:
        rng: a ``numpy.random.Generator`` (the only source of randomness).
        length: L >= 1, the most digits of any literal. nesting: n >= 1 operations.
        operations: the operations to draw from, uniformly.
        max_small: the largest multiplier and loop count (>= 2).
    Returns:
        a ``Program``; its ``output`` comes from ``run_program(text)``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    length = check_int("length", length, minimum=1, maximum=9)
    nesting = check_int("nesting", nesting, minimum=1, maximum=len(VARIABLES) // 2)
    max_small = check_int("max_small", max_small, minimum=2, maximum=MAX_RANGE)
    operations = _check_operations(operations)

    def literal():
        return str(int(rng.integers(0, 10**length)))

    def small():
        return str(int(rng.integers(2, max_small + 1)))

    names = iter(rng.permutation(list(VARIABLES)))  # fresh names: no variable is reused
    lines, expr, chosen = [], literal(), []
    for _ in range(nesting):
        op = operations[int(rng.integers(len(operations)))]
        chosen.append(op)
        if op in "+-":
            expr = f"({expr}{op}{literal()})" if rng.random() < 0.5 else f"({literal()}{op}{expr})"
        elif op == "*":
            expr = f"({expr}*{small()})"
        elif op == "if":
            sign = "<" if rng.random() < 0.5 else ">"
            expr = f"({expr} if {literal()}{sign}{literal()} else {literal()})"
        elif op == "assign":
            name = str(next(names))
            lines.append(f"{name}={_strip(expr)}")
            expr = name
        else:  # "for": a counter starts at a literal and adds (or subtracts) e k times
            name, update = str(next(names)), "+=" if rng.random() < 0.5 else "-="
            lines.append(f"{name}={literal()}")
            lines.append(f"for x in range({small()}):{name}{update}{_strip(expr)}")
            expr = name
    lines.append(f"print({expr})")
    text = "\n".join(lines)
    return Program(text, run_program(text), length, nesting, tuple(chosen))


def _strip(expr):
    """Outer brackets are not needed on the right of = (shorter programs, as people write)."""
    if expr.startswith("(") and expr.endswith(")") and _balanced(expr[1:-1]):
        return expr[1:-1]
    return expr


def _balanced(text):
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def generate_programs(n, length, nesting, seed=0, operations=OPERATIONS, max_small=9):
    """n ``Program``s of one difficulty, drawn from ``numpy.random.default_rng(seed)``."""
    n = check_int("n", n, minimum=1)
    rng = np.random.default_rng(check_seed(seed))
    return [generate_program(rng, length, nesting, operations, max_small) for _ in range(n)]


def program_pairs(programs):
    """(source, target) string pairs for ``PairDataset``: (text, output)."""
    return [(p.text, p.output) for p in programs]


# ----- the interpreter -----

_TOKEN = re.compile(r"\s*(?:(\d+)|([a-z_]+)|(\+=|-=|[-+*()=<>:]))")
_KEYWORDS = {"for", "in", "range", "if", "else", "print"}


def _tokens(line, number):
    """The tokens of one line: ("int", 12), ("name", "a"), ("kw", "for"), ("op", "+=")."""
    out, pos = [], 0
    line = line.rstrip()
    while pos < len(line):
        match = _TOKEN.match(line, pos)
        if match is None:
            raise ValueError(f"line {number}: cannot read {line[pos:]!r}")
        digits, word, op = match.groups()
        if digits is not None:
            out.append(("int", int(digits)))
        elif word is not None:
            out.append(("kw" if word in _KEYWORDS else "name", word))
        else:
            out.append(("op", op))
        pos = match.end()
    return out


class _Parser:
    """Recursive descent over one statement's tokens, evaluating as it goes.

    expr       := arith ["if" arith ("<" | ">") arith "else" expr]
    arith      := term (("+" | "-") term)*
    term       := atom ("*" atom)*
    atom       := INT | NAME | "(" expr ")"
    """

    def __init__(self, tokens, env, number):
        self.tokens, self.pos, self.env, self.number = tokens, 0, env, number

    def fail(self, what):
        got = self.tokens[self.pos][1] if self.pos < len(self.tokens) else "end of line"
        raise ValueError(f"line {self.number}: expected {what}, got {got!r}")

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self, kind, value=None):
        tok_kind, tok_value = self.peek()
        if tok_kind != kind or (value is not None and tok_value != value):
            self.fail(value or kind)
        self.pos += 1
        return tok_value

    def at(self, kind, value):
        return self.peek() == (kind, value)

    def done(self):
        if self.pos != len(self.tokens):
            self.fail("end of line")

    def expr(self):
        value = self.arith()
        if self.at("kw", "if"):
            self.pos += 1
            left = self.arith()
            sign = self.take("op")
            if sign not in "<>":
                raise ValueError(f"line {self.number}: expected < or >, got {sign!r}")
            right = self.arith()
            self.take("kw", "else")
            other = self.expr()
            return value if (left < right if sign == "<" else left > right) else other
        return value

    def arith(self):
        value = self.term()
        while self.at("op", "+") or self.at("op", "-"):
            sign = self.take("op")
            value = value + self.term() if sign == "+" else value - self.term()
        return value

    def term(self):
        value = self.atom()
        while self.at("op", "*"):
            self.pos += 1
            value *= self.atom()
        return value

    def atom(self):
        kind, value = self.peek()
        if kind == "int":
            self.pos += 1
            return value
        if kind == "name":
            self.pos += 1
            if value not in self.env:
                raise ValueError(f"line {self.number}: variable {value!r} is not defined")
            return self.env[value]
        if self.at("op", "("):
            self.pos += 1
            inner = self.expr()
            self.take("op", ")")
            return inner
        return self.fail("a number, a variable or '('")


def _statement(tokens, env, printed, number):
    """Run one simple statement: ``v=e``, ``v+=e``, ``v-=e`` or ``print(e)``."""
    p = _Parser(tokens, env, number)
    if p.at("kw", "print"):
        p.pos += 1
        p.take("op", "(")
        value = p.expr()
        p.take("op", ")")
        p.done()
        printed.append(str(value))
        return
    name = p.take("name")
    op = p.take("op")
    if op not in ("=", "+=", "-="):
        raise ValueError(f"line {number}: expected =, += or -=, got {op!r}")
    value = p.expr()
    p.done()
    if op != "=" and name not in env:
        raise ValueError(f"line {number}: variable {name!r} is not defined")
    env[name] = value if op == "=" else env[name] + value if op == "+=" else env[name] - value


def _loop_header(tokens, number):
    """``for x in range(k):`` -> (the loop variable, k, the tokens after the colon)."""
    p = _Parser(tokens, {}, number)
    p.take("kw", "for")
    var = p.take("name")
    p.take("kw", "in")
    p.take("kw", "range")
    p.take("op", "(")
    count = p.take("int")
    p.take("op", ")")
    p.take("op", ":")
    if count > MAX_RANGE:
        raise ValueError(f"line {number}: range({count}) is longer than MAX_RANGE = {MAX_RANGE}")
    return var, count, tokens[p.pos :]


def run_program(text):
    """Execute a program of the grammar above and return what it prints.

    Statements: ``v=e``, ``v+=e``, ``v-=e``, ``print(e)`` and ``for x in range(k):`` followed
    by one statement on the same line or by an indented block (the slides' layout). Integers
    are Python ints (exact, any size).

    Args:
        text: the program, lines separated by "\\n".
    Returns:
        str, the printed values joined by "\\n" (one value for generated programs).
    Raises:
        ValueError naming the line for anything outside the language.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    lines = [(k + 1, line) for k, line in enumerate(text.split("\n")) if line.strip()]
    env, printed, k = {}, [], 0
    while k < len(lines):
        number, line = lines[k]
        if line[0] in " \t":
            raise ValueError(f"line {number}: unexpected indentation")
        tokens = _tokens(line, number)
        k += 1
        if tokens[0] != ("kw", "for"):
            _statement(tokens, env, printed, number)
            continue
        var, count, rest = _loop_header(tokens, number)
        body = [(number, rest)] if rest else []
        while not rest and k < len(lines) and lines[k][1][0] in " \t":
            body.append((lines[k][0], _tokens(lines[k][1], lines[k][0])))
            k += 1
        if not body:
            raise ValueError(f"line {number}: the loop has no body")
        for i in range(count):
            env[var] = i
            for body_number, body_tokens in body:
                _statement(body_tokens, env, printed, body_number)
    return "\n".join(printed)


def literals(text):
    """Every integer literal of a program that the length knob governs: a list of str.

    That is every literal except loop counts (after ``range(``) and multipliers (after ``*``).
    """
    return [
        m.group()
        for m in re.finditer(r"\d+", text)
        if not text[: m.start()].endswith(("*", "range("))
    ]
