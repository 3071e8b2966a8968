"""HamNoSys 4 strings -> their bracket structure, and back to the same string.

``parse_structure`` gives the symbols with their positions, brackets matched into
``Group`` nodes (sequence, parallel, fusion, alternatives) whose branches are split at
``plus`` (or ``metaalt`` in alternatives), and the whole string split at top-level
``plus`` into compound parts. Every valid string parses; ``write`` gives back exactly
the string it came from (each node keeps its symbols). ``engine.notation.hamnosys``
types these nodes into a sign.

Errors are ``NotationError`` naming the position (0-based, in characters), the symbol
found there and what was expected.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.notation.symbols import BRACKETS, BY_NAME, SYMBOLS, Kind, Symbol


class NotationError(ValueError):
    """A HamNoSys string that is not valid: ``position`` (0-based character index, or
    the string's length for "ended early"), the symbol there, and what was expected."""

    def __init__(self, text: str, position: int, expected: str):
        self.text = text
        self.position = position
        self.expected = expected
        found = (f"{SYMBOLS[text[position]]}" if position < len(text) and text[position] in SYMBOLS
                 else f"U+{ord(text[position]):04X}, not a HamNoSys 4 symbol"
                 if position < len(text) else "the end of the string")
        super().__init__(f"HamNoSys position {position}: expected {expected}, found {found}")


@dataclass(frozen=True)
class Token:
    """One symbol of the string at ``position``."""

    symbol: Symbol
    position: int

    @property
    def kind(self) -> Kind:
        return self.symbol.kind

    @property
    def name(self) -> str:
        return self.symbol.name


@dataclass(frozen=True)
class Group:
    """A bracketed group: ``kind`` is "sequence", "parallel", "fusion" or
    "alternatives"; ``branches`` are its contents split at its top-level separators
    (``plus``, or ``metaalt`` in alternatives), kept in ``separators``."""

    kind: str
    open: Token
    branches: tuple[tuple[Node, ...], ...]
    separators: tuple[Token, ...]
    close: Token


Node = Token | Group


def tokens_of(nodes: Iterable[Node]) -> list[Token]:
    """Every token of ``nodes`` in string order."""
    out: list[Token] = []
    for node in nodes:
        if isinstance(node, Token):
            out.append(node)
        else:
            out.append(node.open)
            for index, branch in enumerate(node.branches):
                if index:
                    out.append(node.separators[index - 1])
                out.extend(tokens_of(branch))
            out.append(node.close)
    return out


def write(nodes: Iterable[Node]) -> str:
    """The HamNoSys string of ``nodes`` (the inverse of parsing)."""
    return "".join(token.symbol.char for token in tokens_of(nodes))


#: Deepest bracket nesting accepted (the data nests 4 deep at most).
MAX_NESTING = 32
#: Longest string accepted (the data's longest is 108 symbols).
MAX_LENGTH = 2000


def parse_structure(text: str) -> tuple[tuple[Node, ...], ...]:
    """The compound parts of ``text`` (split at top-level ``plus``), each a tuple of
    nodes with brackets matched. Raises ``NotationError`` for an unknown character,
    an unmatched bracket, or nesting deeper than ``MAX_NESTING``."""
    if not isinstance(text, str):
        raise TypeError(f"HamNoSys: expected a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise NotationError(text, MAX_LENGTH, f"at most {MAX_LENGTH} symbols")
    for position, char in enumerate(text):
        if char not in SYMBOLS:
            raise NotationError(text, position, "a HamNoSys 4 symbol")
    if not text:
        raise NotationError(text, 0, "a sign")
    # Iterative, with an explicit stack: a hostile string cannot exhaust recursion.
    stack: list[tuple[Token | None, list[list[Node]], list[Token]]] = [(None, [[]], [])]
    for position, char in enumerate(text):
        token = Token(SYMBOLS[char], position)
        opener, branches, separators = stack[-1]
        if char in BRACKETS:
            if len(stack) > MAX_NESTING:
                raise NotationError(text, position, f"brackets nested at most {MAX_NESTING} deep")
            stack.append((token, [[]], []))
        elif token.kind is Kind.CLOSE:
            if opener is None or BRACKETS[opener.symbol.char][0] != char:
                wanted = (f"{SYMBOLS[BRACKETS[opener.symbol.char][0]].name} to close "
                          f"{opener.name} at position {opener.position}" if opener is not None
                          else "no closing bracket here (nothing is open)")
                raise NotationError(text, position, wanted)
            stack.pop()
            kind = BRACKETS[opener.symbol.char][1]
            group = Group(kind, opener, tuple(tuple(b) for b in branches), tuple(separators), token)
            stack[-1][1][-1].append(group)
        elif char == _SEPARATOR.get(opener.symbol.char if opener else None, BY_NAME["plus"]):
            separators.append(token)
            branches.append([])
        else:
            branches[-1].append(token)
    opener = stack[-1][0]
    if opener is not None:
        raise NotationError(text, len(text), f"{SYMBOLS[BRACKETS[opener.symbol.char][0]].name} "
                                             f"to close {opener.name} at position "
                                             f"{opener.position}")
    parts = stack[0][1]
    for index, part in enumerate(parts):
        if not part:
            where = stack[0][2][index - 1].position if index else 0
            raise NotationError(text, where, "a sign on both sides of plus")
    return tuple(tuple(part) for part in parts)


_SEPARATOR = {BY_NAME["altbegin"]: BY_NAME["metaalt"]}
