"""The HamNoSys 4 parser: the DSGS data, errors that name the position, generated strings."""
import collections
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.notation.dsgs import notation_entries
from engine.notation.hamnosys import Layout, NotationError, parse_sign, write_sign
from engine.notation.hamnosys_structure import parse_structure, write
from engine.notation.symbols import BY_NAME, SYMBOLS, Kind, from_names, to_names

DATA = [text for entry in notation_entries() for text in entry.hamnosys]


def test_the_data_is_what_the_notes_say():
    assert len(notation_entries()) == 1364 and len(DATA) == 1404
    used = {char for text in DATA for char in text}
    assert len(used) == 165 and used <= set(SYMBOLS)


def test_every_data_string_has_its_structure_or_a_named_reason():
    failures = collections.Counter()
    for text in DATA:
        try:
            parts = parse_structure(text)
        except NotationError as error:
            failures[(error.expected, text[error.position])] += 1
            continue
        assert BY_NAME["plus"].join(write(part) for part in parts) == text
    # Two strings of the data close a sequence that was never opened.
    assert failures == {("no closing bracket here (nothing is open)", BY_NAME["seqend"]): 2}


def test_every_data_string_types_and_writes_back_or_fails_for_a_named_reason():
    failures = collections.Counter()
    layouts = collections.Counter()
    for text in DATA:
        try:
            sign = parse_sign(text)
        except NotationError as error:
            failures[re.sub(r" \(U\+[0-9A-F]{4}\)$", "", str(error).split(": ", 1)[1])] += 1
            continue
        assert write_sign(sign) == text, to_names(text)
        layouts.update(part.layout for part in sign.parts)
    assert sum(failures.values()) == 7 and failures == {
        # "fist between extfingero": between joins two of a kind, not a shape and a direction
        "expected an extended-finger direction (extfingeru, ...), found between": 4,
        "expected no closing bracket here (nothing is open), found seqend": 2,
        "expected an extended-finger direction (extfingeru, ...), found etc": 1,
    }
    assert set(layouts) == set(Layout)  # every way of writing two hands occurs


def test_a_sign_is_typed():
    sign = parse_sign(from_names(
        "symmlr finger2 thumbacrossmod between finger23 extfingeruo extfingerol palmd "
        "between palmdl chest touch moveo smallmod repeatfromstart"))
    (part,) = sign.parts
    assert part.symmetry == ("symmlr",) and part.nondominant is None
    shape = part.dominant.handshape
    assert (shape.base, shape.thumb, shape.between.base) == ("finger2", ("thumbacrossmod",),
                                                             "finger23")
    orientation = part.dominant.orientation
    assert orientation.extended_finger == ("extfingeruo", "extfingerol")
    assert (orientation.palm, orientation.palm_between) == (("palmd",), ("palmdl",))
    assert to_names(write(part.rest)) == "chest touch moveo smallmod repeatfromstart"


def test_two_hands_each_written_way():
    pair = parse_sign(from_names("parbegin fist extfingeru palmd plus flathand extfingero "
                                 "palml parend chest")).parts[0]
    assert pair.layout is Layout.PAIR
    assert (pair.dominant.handshape.base, pair.nondominant.handshape.base) == ("fist", "flathand")
    shared = parse_sign(from_names("flathand parbegin extfingeru palmd plus extfingero palml "
                                   "parend")).parts[0]
    assert shared.layout is Layout.SHARED_HANDSHAPE
    assert shared.nondominant.orientation.palm == ("palml",)
    assert shared.nondominant.handshape == shared.dominant.handshape
    same = parse_sign(from_names("parbegin fist extfingeru palmd plus nondominant etc "
                                 "extfingero palml parend")).parts[0]
    assert same.nondominant.handshape is None and same.nondominant.same_shape == (
        "nondominant", "etc")


@pytest.mark.parametrize("names, position, expected", [
    ("fist extfingeru palmd moveo parend", 4, "no closing bracket here (nothing is open)"),
    ("fist extfingeru palmd parbegin moveo", 5, "parend to close parbegin at position 3"),
    ("fist extfingeru parbegin moveo seqend", 4, "parend to close parbegin at position 2"),
    ("extfingeru palmd", 0, "a handshape (fist, flathand, finger2, ...)"),
    ("fist palmd", 1, "an extended-finger direction (extfingeru, ...)"),
    ("fist extfingeru plus", 2, "a sign on both sides of plus"),
])
def test_invalid_strings_name_the_position_the_symbol_and_what_was_expected(
        names, position, expected):
    text = from_names(names)
    with pytest.raises(NotationError) as error:
        parse_sign(text)
    assert (error.value.position, error.value.expected) == (position, expected)
    assert f"position {position}: expected {expected}" in str(error.value)


def test_foreign_characters_deep_nesting_and_huge_strings_are_refused():
    with pytest.raises(NotationError, match=r"position 1: expected a HamNoSys 4 symbol, found "
                                            r"U\+0041, not a HamNoSys 4 symbol"):
        parse_sign(from_names("fist") + "A")
    deep = from_names("fist extfingeru") + BY_NAME["parbegin"] * 40 + BY_NAME["parend"] * 40
    with pytest.raises(NotationError, match="brackets nested at most 32 deep"):
        parse_sign(deep)
    with pytest.raises(NotationError, match="at most 2000 symbols"):
        parse_sign(BY_NAME["fist"] * 5000)
    with pytest.raises(NotationError, match="expected a sign"):
        parse_sign("")


def _names(kind):
    return sorted(s.name for s in SYMBOLS.values() if s.kind is kind)


handshapes = st.builds(
    lambda base, mods: [base, *mods], st.sampled_from(_names(Kind.HANDSHAPE)),
    st.lists(st.sampled_from(_names(Kind.THUMB) + _names(Kind.BEND)), max_size=3))


@st.composite
def signs(draw):
    shape = draw(handshapes)
    if draw(st.booleans()):
        shape += ["between"] + draw(handshapes)
    finger = [draw(st.sampled_from(_names(Kind.EXTENDED_FINGER)))]
    palm = [draw(st.sampled_from(_names(Kind.PALM)))] if draw(st.booleans()) else []
    configuration = shape + finger + palm
    layout = draw(st.sampled_from(["one", "pair"]))
    if layout == "pair":
        other = draw(handshapes) + [draw(st.sampled_from(_names(Kind.EXTENDED_FINGER)))]
        configuration = ["parbegin", *configuration, "plus", *other, "parend"]
    symmetry = draw(st.sampled_from([[], ["symmlr"], ["symmpar"], ["symmlr", "alternatingmotion"]]))
    rest = draw(st.lists(st.sampled_from(_names(Kind.BODY_SITE) + _names(Kind.CONTACT)
                                         + _names(Kind.STRAIGHT_MOVE) + _names(Kind.SIZE)
                                         + _names(Kind.REPETITION)), max_size=6))
    if rest and draw(st.booleans()):
        rest = ["parbegin", *rest, "parend"]
    return symmetry, shape, finger, palm, layout, " ".join(symmetry + configuration + rest)


@settings(max_examples=300, deadline=None)
@given(signs())
def test_generated_signs_parse_into_what_generated_them_and_write_back(generated):
    symmetry, shape, finger, palm, layout, names = generated
    text = from_names(names)
    sign = parse_sign(text)
    assert write_sign(sign) == text
    (part,) = sign.parts
    assert part.symmetry == tuple(symmetry)
    assert part.layout is (Layout.PAIR if layout == "pair" else Layout.ONE)
    written = part.dominant.handshape
    assert written.base == shape[0]
    assert part.dominant.orientation.extended_finger == tuple(finger)
    assert part.dominant.orientation.palm == (tuple(palm) or None)


def test_locations_and_actions_are_typed():
    from engine.notation.hamnosys import ActionGroup, LocationPair, Movement
    part = parse_sign(from_names(
        "finger2 extfingeru palml shoulders lrat between chest touch moved smallmod arcr "
        "parbegin moveu plus replace flathand parend repeatfromstart")).parts[0]
    assert part.location.sites == ("shoulders", "chest")
    assert (part.location.laterality, part.location.contact) == (("lrat",), ("touch",))
    first, group, repeat = part.actions
    assert isinstance(first, Movement) and first.head == "moved"
    assert first.names == ("moved", "smallmod", "arcr")
    assert isinstance(group, ActionGroup) and group.kind == "parallel"
    assert [[a.names for a in branch] for branch in group.branches] == [
        [("moveu",)], [("replace", "flathand")]]
    assert repeat.kind is Kind.REPETITION
    pair = parse_sign(from_names("fist extfingeru palmd parbegin thumbside plus handback "
                                 "parend close moveo")).parts[0]
    assert isinstance(pair.location, LocationPair)
    assert (pair.location.dominant.sites, pair.location.nondominant.sites,
            pair.location.after.contact) == (("thumbside",), ("handback",), ("close",))
    assert [a.head for a in pair.actions] == ["moveo"]
