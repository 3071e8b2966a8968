"""H-SiGML in and out: the XML form of HamNoSys that JASigning's tools read and write.

    <sigml>
      <hns_sign gloss="HAUS">
        <hamnosys_nonmanual/>
        <hamnosys_manual> <hamflathand/> <hamextfingeru/> ... </hamnosys_manual>
      </hns_sign>
    </sigml>

Each symbol is an empty element named ``ham`` + its HamNoSys name, in order. Reading
goes through defusedxml, which refuses DTDs, entity definitions and external
references (no entity expansion, no network); files over ``MAX_SIGML_BYTES`` are
refused before parsing. Every sign read is checked by the HamNoSys parser. Errors are
``ProjectFileError`` naming the file, the sign (its number and gloss) and what was
expected. Gestural SiGML (``hamgestural_sign``) and non-manual tiers are not read.
"""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

import defusedxml.ElementTree as SafeElementTree
from defusedxml import DefusedXmlException

from engine.atomic import atomic_output
from engine.motion.array_files import read_bounded
from engine.motion.errors import ProjectFileError
from engine.notation.hamnosys import NotationError, parse_sign
from engine.notation.symbols import BY_NAME, SYMBOLS

#: Largest SiGML file read: a sign is about 2 kB of XML, so this is thousands of signs.
MAX_SIGML_BYTES = 8 << 20
_BY_TAG = {f"ham{name}".lower(): char for name, char in BY_NAME.items()}


@dataclass(frozen=True)
class NotatedSign:
    """A sign as notation: its gloss and its HamNoSys string."""

    gloss: str
    hamnosys: str


def parse_sigml(text: str | bytes, source: str | Path = "<SiGML>") -> list[NotatedSign]:
    """The ``hns_sign`` elements of an H-SiGML document, each checked as HamNoSys."""
    try:
        root = SafeElementTree.fromstring(text, forbid_dtd=True)
    except DefusedXmlException as error:
        raise ProjectFileError(source, f"refused: the XML declares {type(error).__name__} "
                                       "(DTDs, entities and external references are never "
                                       "read)") from None
    except ElementTree.ParseError as error:
        line, column = error.position
        raise ProjectFileError(source, f"not well-formed XML at line {line}, column "
                                       f"{column + 1}") from None
    if root.tag != "sigml":
        raise ProjectFileError(source, f"root element <{root.tag}>: expected <sigml>")
    signs = []
    for number, element in enumerate(root, start=1):
        gloss = element.get("gloss", "")
        where = f"sign {number}" + (f" ('{gloss}')" if gloss else "")
        if element.tag != "hns_sign":
            raise ProjectFileError(source, f"{where}: <{element.tag}>: expected <hns_sign> "
                                           "(gestural SiGML is not read)")
        manual = element.find("hamnosys_manual")
        if manual is None:
            raise ProjectFileError(source, f"{where}: no <hamnosys_manual> element")
        characters = []
        for symbol in manual:
            char = _BY_TAG.get(symbol.tag.lower())
            if char is None:
                raise ProjectFileError(source, f"{where}: <{symbol.tag}> is not a HamNoSys 4 "
                                               "symbol (expected e.g. <hamflathand/>)")
            characters.append(char)
        hamnosys = "".join(characters)
        try:
            parse_sign(hamnosys)
        except NotationError as error:
            raise ProjectFileError(source, f"{where}: symbol {error.position + 1} of "
                                           f"<hamnosys_manual>: {error.expected} "
                                           f"expected") from None
        signs.append(NotatedSign(gloss, hamnosys))
    if not signs:
        raise ProjectFileError(source, "no <hns_sign> in the document")
    return signs


def read_sigml(path: str | Path) -> list[NotatedSign]:
    """``parse_sigml`` of a file, refused above ``MAX_SIGML_BYTES``."""
    return parse_sigml(read_bounded(path, MAX_SIGML_BYTES, "a SiGML file"), path)


def sigml_text(signs: list[NotatedSign]) -> str:
    """H-SiGML for ``signs`` (one ``hns_sign`` each, in order)."""
    root = ElementTree.Element("sigml")
    for sign in signs:
        parse_sign(sign.hamnosys)  # never write notation we could not read back
        element = ElementTree.SubElement(root, "hns_sign", gloss=sign.gloss)
        ElementTree.SubElement(element, "hamnosys_nonmanual")
        manual = ElementTree.SubElement(element, "hamnosys_manual")
        for char in sign.hamnosys:
            ElementTree.SubElement(manual, f"ham{SYMBOLS[char].name}")
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_sigml(signs: list[NotatedSign], path: str | Path) -> Path:
    """Write ``signs`` as H-SiGML to ``path`` atomically."""
    text = sigml_text(signs)
    path = Path(path)
    with atomic_output(path) as temp:
        temp.write_text(text, encoding="utf-8")
    return path
