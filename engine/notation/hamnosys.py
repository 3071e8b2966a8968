"""HamNoSys 4 strings -> an immutable description, and back to the same string.

Two levels, each usable on its own:

1. ``parse_structure`` (``engine.notation.hamnosys_structure``): the symbols with their
   positions, brackets matched into groups, the string split into compound parts;
   ``write`` gives back exactly the string it came from.
2. ``parse_sign`` (here): each compound part typed: the symmetry prefix; the initial hand
   configuration of one hand or of both (the four ways of writing two hands are a
   ``Layout``), each as a ``Handshape`` (base form, thumb and bending modifiers,
   finger selection and parts, a "between" shape, or ``etc`` for "as the other hand")
   and an ``Orientation`` (extended-finger direction and palm orientation, each one
   symbol or two combined, possibly "between" two, ``orirelative``); the initial
   ``Location`` (or a ``LocationPair``, one per hand); and the actions: each a
   ``Movement`` (a head symbol, such as a path, a local movement, a replacement or a
   repetition, with its modifiers in order; a run without a head is a leading modifier
   or a target location and contact) or an ``ActionGroup`` (a bracket with its
   branches). ``write_sign`` writes a sign back from these typed fields.

Errors are ``NotationError`` naming the position (0-based, in characters), the symbol
found there and what was expected.
"""
from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from engine.notation.hamnosys_structure import Group, Node, NotationError, Token, parse_structure, tokens_of
from engine.notation.symbols import BRACKETS, BY_NAME, SYMBOLS, Kind


@dataclass(frozen=True)
class Handshape:
    """A hand's shape: ``base`` (one of the 12 base forms) with its ``modifiers`` in
    order (thumb position, bending, selected fingers and finger parts), and the shape it
    is ``between`` when written as "base between other"."""

    base: str
    modifiers: tuple[str, ...] = ()
    between: Handshape | None = None

    @property
    def thumb(self) -> tuple[str, ...]:
        return tuple(m for m in self.modifiers if SYMBOLS[BY_NAME[m]].kind is Kind.THUMB)

    @property
    def bending(self) -> tuple[str, ...]:
        return tuple(m for m in self.modifiers if SYMBOLS[BY_NAME[m]].kind is Kind.BEND)

    @property
    def fingers(self) -> tuple[str, ...]:
        return tuple(m for m in self.modifiers
                     if SYMBOLS[BY_NAME[m]].kind in (Kind.FINGER, Kind.FINGER_PART))


#: A direction as written: one symbol, or two written together for the direction
#: between them in 3D (``extfingeruo extfingerol``: up-out and out-left combined).
Direction = tuple[str, ...]


@dataclass(frozen=True)
class Orientation:
    """Extended-finger direction and palm orientation (names such as ``extfingeru``,
    ``palmd``), each possibly "between" a second one; ``relative`` says where
    ``orirelative`` (palm given relative to the finger direction) was written: None,
    "before palm" or "after palm"."""

    extended_finger: Direction
    palm: Direction | None = None
    extended_finger_between: Direction | None = None
    palm_between: Direction | None = None
    relative: str | None = None


@dataclass(frozen=True)
class HandConfiguration:
    """A hand's shape and orientation. ``same_shape``: the handshape is written as
    ``etc`` ("as the other hand"), optionally after ``nondominant``: ``handshape`` is
    then None and ``same_shape`` holds those names."""

    handshape: Handshape | None
    orientation: Orientation
    same_shape: tuple[str, ...] = ()


class Layout(str, enum.Enum):
    """How a two-handed initial configuration was written."""

    ONE = "one configuration"                 # one hand, or both by symmetry
    PAIR = "a configuration per hand"         # parbegin config plus config parend
    SHARED_HANDSHAPE = "shared handshape"     # handshape parbegin ori plus ori parend
    SHARED_ORIENTATION = "shared orientation"  # parbegin shape plus shape parend ori


_LOCATION_KINDS = frozenset({Kind.BODY_SITE, Kind.LATERALITY, Kind.NEUTRAL_SPACE, Kind.ARM_SITE,
                             Kind.HAND_SITE, Kind.FINGER, Kind.FINGER_PART, Kind.WRIST_SITE,
                             Kind.COREFERENCE, Kind.CONTACT, Kind.BETWEEN})


@dataclass(frozen=True)
class Location:
    """Where a hand is, as written: ``names`` in order (sites, laterality, "between",
    contact), with views by kind."""

    names: tuple[str, ...]

    def _of(self, *kinds: Kind) -> tuple[str, ...]:
        return tuple(n for n in self.names if SYMBOLS[BY_NAME[n]].kind in kinds)

    @property
    def sites(self) -> tuple[str, ...]:
        return self._of(Kind.BODY_SITE, Kind.NEUTRAL_SPACE, Kind.ARM_SITE, Kind.HAND_SITE,
                        Kind.FINGER, Kind.FINGER_PART, Kind.WRIST_SITE)

    @property
    def laterality(self) -> tuple[str, ...]:
        return self._of(Kind.LATERALITY)

    @property
    def contact(self) -> tuple[str, ...]:
        return self._of(Kind.CONTACT)


@dataclass(frozen=True)
class LocationPair:
    """A location per hand (``parbegin loc plus loc parend``) and what follows the pair
    (usually the contact between the hands)."""

    dominant: Location
    nondominant: Location
    after: Location


#: Symbols that start a new action; every other symbol modifies the current one.
_ACTION_HEADS = frozenset({Kind.STRAIGHT_MOVE, Kind.CIRCLE, Kind.LOCAL_MOVE, Kind.REPLACE,
                           Kind.CROSS_MOVE, Kind.NO_MOTION, Kind.REPETITION, Kind.MIME})


@dataclass(frozen=True)
class Movement:
    """One action as written: a head symbol (a path, a local movement, a replacement,
    a repetition...) with the symbols that modify it, in order (``names``); names
    before any head (a leading modifier) form a movement with ``head`` None."""

    names: tuple[str, ...]

    @property
    def head(self) -> str | None:
        for name in self.names:
            if SYMBOLS[BY_NAME[name]].kind in _ACTION_HEADS:
                return name
        return None

    @property
    def kind(self) -> Kind | None:
        return SYMBOLS[BY_NAME[self.head]].kind if self.head else None


@dataclass(frozen=True)
class ActionGroup:
    """Actions in a bracket: "sequence", "parallel" (at once, or one per hand when
    split by plus), "fusion" or "alternatives"; ``branches`` split at plus/metaalt."""

    kind: str
    branches: tuple[tuple[Action, ...], ...]


Action = Movement | ActionGroup


@dataclass(frozen=True)
class SignPart:
    """One compound part of a sign: its ``symmetry`` prefix (operator and modifiers, as
    names), the initial configuration of the dominant hand and, when written, the
    non-dominant hand's own (``layout`` says how), and the ``rest`` (location and
    actions) as nodes."""

    symmetry: tuple[str, ...]
    dominant: HandConfiguration
    nondominant: HandConfiguration | None
    rest: tuple[Node, ...]
    layout: Layout = Layout.ONE
    #: Written for the non-dominant hand alone (``nondominant`` before the handshape).
    nondominant_only: bool = False

    @property
    def location(self) -> Location | LocationPair | None:
        return _split_rest(self.rest)[0]

    @property
    def actions(self) -> tuple[Action, ...]:
        return _split_rest(self.rest)[1]


@dataclass(frozen=True)
class Sign:
    """A parsed HamNoSys string: its ``text`` and its compound ``parts``."""

    text: str
    parts: tuple[SignPart, ...]


class _Cursor:
    """Reads a flat run of tokens left to right, for the typed grammar."""

    def __init__(self, text: str, nodes: Sequence[Node], end: int):
        self.text, self.nodes, self.index, self.end = text, list(nodes), 0, end

    def peek(self) -> Node | None:
        return self.nodes[self.index] if self.index < len(self.nodes) else None

    def following(self) -> Node | None:
        """The node after the next one (a one-symbol look-ahead past ``peek``)."""
        return self.nodes[self.index + 1] if self.index + 1 < len(self.nodes) else None

    def at(self, *kinds: Kind) -> bool:
        node = self.peek()
        return isinstance(node, Token) and node.kind in kinds

    def position(self) -> int:
        node = self.peek()
        if node is None:
            return self.end
        return node.position if isinstance(node, Token) else node.open.position

    def take(self, *kinds: Kind, expected: str) -> Token:
        if not self.at(*kinds):
            raise NotationError(self.text, self.position(), expected)
        node = self.nodes[self.index]
        self.index += 1
        return node  # type: ignore[return-value]

    def rest(self) -> tuple[Node, ...]:
        return tuple(self.nodes[self.index:])


_HANDSHAPE_MODIFIERS = (Kind.THUMB, Kind.BEND, Kind.FINGER, Kind.FINGER_PART)
_SYMMETRY_MODIFIERS = (Kind.BEND, Kind.SIZE, Kind.ALTERNATING, Kind.NONDOMINANT, Kind.MANNER,
                       Kind.NONIPSI)


def _handshape(cursor: _Cursor) -> Handshape:
    base = cursor.take(Kind.HANDSHAPE, expected="a handshape (fist, flathand, finger2, ...)")
    modifiers = []
    while cursor.at(*_HANDSHAPE_MODIFIERS):
        modifiers.append(cursor.take(*_HANDSHAPE_MODIFIERS, expected="").name)
    between = None
    following = cursor.following()
    if cursor.at(Kind.BETWEEN) and isinstance(following, Token) \
            and following.kind is Kind.HANDSHAPE:
        cursor.take(Kind.BETWEEN, expected="between")
        between = _handshape(cursor)
    return Handshape(base.name, tuple(modifiers), between)


def _one_direction(cursor: _Cursor, kind: Kind, expected: str) -> Direction:
    names = [cursor.take(kind, expected=expected).name]
    if cursor.at(kind):  # two written together: the direction between them in 3D
        names.append(cursor.take(kind, expected="").name)
    return tuple(names)


def _direction(cursor: _Cursor, kind: Kind, expected: str) -> tuple[Direction, Direction | None]:
    first = _one_direction(cursor, kind, expected)
    second = None
    following = cursor.following()
    if cursor.at(Kind.BETWEEN) and isinstance(following, Token) and following.kind is kind:
        cursor.take(Kind.BETWEEN, expected="between")
        second = _one_direction(cursor, kind, f"a second {kind.value} after between")
    return first, second


def _orientation(cursor: _Cursor) -> Orientation:
    finger, finger_between = _direction(cursor, Kind.EXTENDED_FINGER,
                                        "an extended-finger direction (extfingeru, ...)")
    relative = None
    if cursor.at(Kind.ORIRELATIVE):
        cursor.take(Kind.ORIRELATIVE, expected="orirelative")
        relative = "before palm"
    palm = palm_between = None
    if cursor.at(Kind.PALM):
        palm, palm_between = _direction(cursor, Kind.PALM, "a palm orientation")
        if relative is None and cursor.at(Kind.ORIRELATIVE):
            cursor.take(Kind.ORIRELATIVE, expected="orirelative")
            relative = "after palm"
    return Orientation(finger, palm, finger_between, palm_between, relative)


def _configuration(cursor: _Cursor) -> HandConfiguration:
    same = []
    if cursor.at(Kind.NONDOMINANT):
        same.append(cursor.take(Kind.NONDOMINANT, expected="").name)
    if cursor.at(Kind.ETC):
        same.append(cursor.take(Kind.ETC, expected="").name)
        return HandConfiguration(None, _orientation(cursor), tuple(same))
    if same:
        raise NotationError(cursor.text, cursor.position(), "etc (the other hand's shape) "
                                                            "after nondominant")
    return HandConfiguration(_handshape(cursor), _orientation(cursor))


def _branches(text: str, group: Group) -> list[_Cursor]:
    ends = [separator.position for separator in group.separators] + [group.close.position]
    return [_Cursor(text, branch, end) for branch, end in zip(group.branches, ends)]


def _finished(cursor: _Cursor, what: str) -> None:
    if cursor.peek() is not None:
        raise NotationError(cursor.text, cursor.position(), f"the end of {what} (plus or parend)")


def _is_pair(node: Node | None, *starts: Kind) -> bool:
    return (isinstance(node, Group) and node.kind == "parallel" and len(node.branches) == 2
            and bool(node.branches[0]) and isinstance(node.branches[0][0], Token)
            and node.branches[0][0].kind in starts)


def _sign_part(text: str, nodes: tuple[Node, ...], end: int) -> SignPart:
    cursor = _Cursor(text, nodes, end)
    symmetry = []
    if cursor.at(Kind.SYMMETRY):
        symmetry.append(cursor.take(Kind.SYMMETRY, expected="").name)
        while cursor.at(*_SYMMETRY_MODIFIERS):
            symmetry.append(cursor.take(*_SYMMETRY_MODIFIERS, expected="").name)
    following = cursor.following()
    nondominant_only = cursor.at(Kind.NONDOMINANT) and isinstance(following, Token) \
        and following.kind is Kind.HANDSHAPE
    if nondominant_only:
        cursor.take(Kind.NONDOMINANT, expected="")
        handshape = _handshape(cursor)
        return SignPart(tuple(symmetry), HandConfiguration(handshape, _orientation(cursor)),
                        None, cursor.rest(), nondominant_only=True)
    node = cursor.peek()
    if _is_pair(node, Kind.HANDSHAPE):
        oriented = any(isinstance(t, Token) and t.kind is Kind.EXTENDED_FINGER
                       for branch in node.branches for t in branch)
        if not oriented:  # shapes only: one orientation follows for both
            first, second = _branches(text, node)
            shapes = [_handshape(first), _handshape(second)]
            _finished(first, "the dominant hand's shape")
            _finished(second, "the non-dominant hand's shape")
            cursor.index += 1
            orientation = _orientation(cursor)
            return SignPart(tuple(symmetry), HandConfiguration(shapes[0], orientation),
                            HandConfiguration(shapes[1], orientation), cursor.rest(),
                            Layout.SHARED_ORIENTATION)
        first, second = _branches(text, node)
        dominant = _configuration(first)
        _finished(first, "the dominant hand's configuration")
        nondominant = _configuration(second)
        _finished(second, "the non-dominant hand's configuration")
        cursor.index += 1
        return SignPart(tuple(symmetry), dominant, nondominant, cursor.rest(), Layout.PAIR)
    handshape = _handshape(cursor)
    if _is_pair(cursor.peek(), Kind.EXTENDED_FINGER):
        group = cursor.peek()
        first, second = _branches(text, group)
        orientations = []
        for branch, hand in ((first, "dominant"), (second, "non-dominant")):
            orientations.append(_orientation(branch))
            _finished(branch, f"the {hand} hand's orientation")
        cursor.index += 1
        return SignPart(tuple(symmetry), HandConfiguration(handshape, orientations[0]),
                        HandConfiguration(handshape, orientations[1]), cursor.rest(),
                        Layout.SHARED_HANDSHAPE)
    return SignPart(tuple(symmetry), HandConfiguration(handshape, _orientation(cursor)), None,
                    cursor.rest())


def _is_location_token(node: Node) -> bool:
    return isinstance(node, Token) and node.kind in _LOCATION_KINDS


def _split_rest(rest: tuple[Node, ...]) -> tuple[Location | LocationPair | None,
                                                  tuple[Action, ...]]:
    """The initial location (a run of location symbols, or a parallel pair of them and
    what follows) and the actions after it."""
    index = 0
    location: Location | LocationPair | None = None
    first = rest[0] if rest else None
    if isinstance(first, Group) and first.kind == "parallel" and len(first.branches) == 2 \
            and all(branch and all(_is_location_token(n) for n in branch)
                    for branch in first.branches):
        index = 1
        while index < len(rest) and _is_location_token(rest[index]):
            index += 1
        location = LocationPair(*(Location(tuple(t.name for t in branch))
                                  for branch in first.branches),
                                Location(tuple(t.name for t in rest[1:index])))
    else:
        while index < len(rest) and _is_location_token(rest[index]):
            index += 1
        if index:
            location = Location(tuple(t.name for t in rest[:index]))
    return location, _actions(rest[index:])


def _actions(nodes: Sequence[Node]) -> tuple[Action, ...]:
    actions: list[Action] = []
    current: list[str] = []
    for node in nodes:
        if isinstance(node, Group):
            if current:
                actions.append(Movement(tuple(current)))
                current = []
            actions.append(ActionGroup(node.kind, tuple(_actions(b) for b in node.branches)))
        elif node.kind in _ACTION_HEADS and any(
                SYMBOLS[BY_NAME[name]].kind in _ACTION_HEADS for name in current):
            actions.append(Movement(tuple(current)))
            current = [node.name]
        else:
            current.append(node.name)
    if current:
        actions.append(Movement(tuple(current)))
    return tuple(actions)


def write_actions(actions: Iterable[Action]) -> str:
    """HamNoSys for actions (the inverse of their typing)."""
    out = []
    for action in actions:
        if isinstance(action, Movement):
            out.append(_chars(*action.names))
        else:
            opener = next(o for o, (_, kind) in BRACKETS.items() if kind == action.kind)
            closer, _ = BRACKETS[opener]
            separator = _chars("metaalt" if action.kind == "alternatives" else "plus")
            out.append(opener + separator.join(write_actions(b) for b in action.branches)
                       + closer)
    return "".join(out)


def write_location(location: Location | LocationPair | None) -> str:
    if location is None:
        return ""
    if isinstance(location, Location):
        return _chars(*location.names)
    return (_pair(_chars(*location.dominant.names), _chars(*location.nondominant.names))
            + _chars(*location.after.names))


def parse_sign(text: str) -> Sign:
    """``text`` typed as far as the grammar goes (module docstring); ``NotationError``
    names the position, the symbol and what was expected."""
    parts = parse_structure(text)
    typed = []
    for index, part in enumerate(parts):
        end = tokens_of(parts[index + 1])[0].position - 1 if index + 1 < len(parts) else len(text)
        typed.append(_sign_part(text, part, end))
    return Sign(text, tuple(typed))


def _chars(*names: str | None) -> str:
    return "".join(BY_NAME[name] for name in names if name is not None)


def _write_handshape(shape: Handshape) -> str:
    text = _chars(shape.base, *shape.modifiers)
    return text + (_chars("between") + _write_handshape(shape.between) if shape.between else "")


def _write_orientation(orientation: Orientation) -> str:
    text = _chars(*orientation.extended_finger)
    if orientation.extended_finger_between:
        text += _chars("between", *orientation.extended_finger_between)
    if orientation.relative == "before palm":
        text += _chars("orirelative")
    if orientation.palm:
        text += _chars(*orientation.palm)
    if orientation.palm_between:
        text += _chars("between", *orientation.palm_between)
    if orientation.relative == "after palm":
        text += _chars("orirelative")
    return text


def _write_configuration(configuration: HandConfiguration) -> str:
    shape = (_chars(*configuration.same_shape) if configuration.handshape is None
             else _write_handshape(configuration.handshape))
    return shape + _write_orientation(configuration.orientation)


def _pair(first: str, second: str) -> str:
    return _chars("parbegin") + first + _chars("plus") + second + _chars("parend")


def write_part(part: SignPart) -> str:
    """One compound part back to HamNoSys, from its typed fields."""
    dominant, other = part.dominant, part.nondominant
    if part.layout is Layout.PAIR:
        hands = _pair(_write_configuration(dominant), _write_configuration(other))
    elif part.layout is Layout.SHARED_HANDSHAPE:
        hands = _write_handshape(dominant.handshape) + _pair(
            _write_orientation(dominant.orientation), _write_orientation(other.orientation))
    elif part.layout is Layout.SHARED_ORIENTATION:
        hands = _pair(_write_handshape(dominant.handshape), _write_handshape(other.handshape)) \
            + _write_orientation(dominant.orientation)
    else:
        hands = _write_configuration(dominant)
    prefix = _chars("nondominant") if part.nondominant_only else ""
    return (_chars(*part.symmetry) + prefix + hands + write_location(part.location)
            + write_actions(part.actions))


def write_sign(sign: Sign) -> str:
    """The HamNoSys string of a sign, written from its typed parts (for every string
    of the DSGS data this is the string it was parsed from; tested)."""
    return _chars("plus").join(write_part(part) for part in sign.parts)
