"""Parser of the indicator expression language (no ``eval``): text to a small AST.

Grammar, lowest precedence first::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | cmp
    cmp     := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
    sum     := prod (("+" | "-") prod)*
    prod    := unary (("*" | "/") unary)*
    unary   := "-" unary | "+" unary | atom
    atom    := NUMBER | NAME | NAME "(" [arg ("," arg)*] ")" | "(" expr ")"
    arg     := expr | NAME "=" expr

Errors raise :class:`ExprError`, whose message shows the text with a caret under the position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Binary", "Call", "ExprError", "Name", "Node", "Num", "Unary", "parse"]


class ExprError(ValueError):
    """A syntax or name error at character ``pos`` (0-based) of ``text``."""

    def __init__(self, message: str, text: str, pos: int) -> None:
        self.message = message
        self.text = text
        self.pos = pos
        super().__init__(f"{message} at position {pos + 1}\n  {text}\n  {' ' * pos}^")


@dataclass(frozen=True, slots=True)
class Num:
    value: float
    pos: int


@dataclass(frozen=True, slots=True)
class Name:
    id: str
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    fn: str
    args: tuple[Node, ...]
    kwargs: tuple[tuple[str, Node], ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    arg: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node
    pos: int


Node = Num | Name | Call | Unary | Binary

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op><=|>=|==|!=|[-+*/(),<>=]))"
)
_KEYWORDS = {"and", "or", "not"}


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    i = 0
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        m = _TOKEN.match(text, i)
        if m is None or m.end() == i:
            raise ExprError(f"unexpected character {text[i]!r}", text, i)
        kind = m.lastgroup or ""
        val = m.group(kind)
        pos = m.start(kind)
        if kind == "name" and val in _KEYWORDS:
            kind = "op"
        out.append((kind, val, pos))
        i = m.end()
    out.append(("end", "", n))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.i]

    def take(self) -> tuple[str, str, int]:
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, val: str) -> int:
        kind, v, pos = self.take()
        if kind != "op" or v != val:
            what = "end of text" if kind == "end" else repr(v)
            raise ExprError(f"expected {val!r}, found {what}", self.text, pos)
        return pos

    def parse(self) -> Node:
        if self.peek()[0] == "end":
            raise ExprError("empty expression", self.text, 0)
        node = self.or_()
        kind, v, pos = self.peek()
        if kind != "end":
            raise ExprError(f"unexpected {v!r}", self.text, pos)
        return node

    def _binary_level(self, ops: tuple[str, ...], sub: str) -> Node:
        left: Node = getattr(self, sub)()
        while True:
            kind, v, pos = self.peek()
            if kind == "op" and v in ops:
                self.take()
                left = Binary(v, left, getattr(self, sub)(), pos)
            else:
                return left

    def or_(self) -> Node:
        return self._binary_level(("or",), "and_")

    def and_(self) -> Node:
        return self._binary_level(("and",), "not_")

    def not_(self) -> Node:
        kind, v, pos = self.peek()
        if kind == "op" and v == "not":
            self.take()
            return Unary("not", self.not_(), pos)
        return self.cmp()

    def cmp(self) -> Node:
        left = self.sum()
        kind, v, pos = self.peek()
        if kind == "op" and v in ("<", "<=", ">", ">=", "==", "!="):
            self.take()
            return Binary(v, left, self.sum(), pos)
        return left

    def sum(self) -> Node:
        return self._binary_level(("+", "-"), "prod")

    def prod(self) -> Node:
        return self._binary_level(("*", "/"), "unary")

    def unary(self) -> Node:
        kind, v, pos = self.peek()
        if kind == "op" and v in ("-", "+"):
            self.take()
            arg = self.unary()
            if v == "+":
                return arg
            if isinstance(arg, Num):
                return Num(-arg.value, pos)
            return Unary("-", arg, pos)
        return self.atom()

    def atom(self) -> Node:
        kind, v, pos = self.take()
        if kind == "num":
            return Num(float(v), pos)
        if kind == "name":
            nk, nv, _ = self.peek()
            if nk == "op" and nv == "(":
                self.take()
                return self.call(v, pos)
            return Name(v, pos)
        if kind == "op" and v == "(":
            node = self.or_()
            self.expect(")")
            return node
        what = "end of text" if kind == "end" else repr(v)
        raise ExprError(f"expected a number, name or '(', found {what}", self.text, pos)

    def call(self, fn: str, pos: int) -> Call:
        args: list[Node] = []
        kwargs: list[tuple[str, Node]] = []
        if self.peek()[1] == ")" and self.peek()[0] == "op":
            self.take()
            return Call(fn, (), (), pos)
        while True:
            kind, v, p = self.peek()
            nxt = self.toks[self.i + 1]
            if kind == "name" and nxt[0] == "op" and nxt[1] == "=":
                self.take()
                self.take()
                kwargs.append((v, self.or_()))
            else:
                if kwargs:
                    raise ExprError("positional argument after a keyword argument", self.text, p)
                args.append(self.or_())
            kind, v, p = self.take()
            if kind == "op" and v == ")":
                return Call(fn, tuple(args), tuple(kwargs), pos)
            if not (kind == "op" and v == ","):
                what = "end of text" if kind == "end" else repr(v)
                raise ExprError(f"expected ',' or ')', found {what}", self.text, p)


def parse(text: str) -> Node:
    """Parse one expression; raise :class:`ExprError` pointing at the offending position."""
    return _Parser(text).parse()
