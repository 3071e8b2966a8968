"""H-SiGML in and out: JASigning's XML for HamNoSys, read safely."""
import pytest

from engine.motion.errors import ProjectFileError
from engine.notation.dsgs import notation_entries
from engine.notation.hamnosys import NotationError, parse_sign
from engine.notation.sigml import MAX_SIGML_BYTES, NotatedSign, parse_sigml, read_sigml, write_sigml
from engine.notation.symbols import from_names


def parses(text: str) -> bool:
    try:
        parse_sign(text)
    except NotationError:
        return False
    return True


HAUS = from_names("symmlr flathand extfingeruo palml shoulders touch moved")


def test_data_signs_go_out_and_come_back_identical(tmp_path):
    signs = [NotatedSign(entry.glosses[0] if entry.glosses else entry.sign_id, text)
             for entry in notation_entries() for text in entry.hamnosys if parses(text)]
    assert len(signs) == 1397
    path = write_sigml(signs, tmp_path / "signs.sigml")
    assert read_sigml(path) == signs
    text = path.read_text()
    assert text.startswith("<?xml") and "<hns_sign gloss=" in text and "<hamflathand />" in text


def test_a_jasigning_style_file_is_read():
    text = """<?xml version="1.0" encoding="utf-8"?>
<sigml>
  <hns_sign gloss="HAUS">
    <hamnosys_nonmanual></hamnosys_nonmanual>
    <hamnosys_manual>
      <hamsymmlr/><hamflathand/><hamextfingeruo/><hampalml/>
      <hamshoulders/><hamtouch/><hammoved/>
    </hamnosys_manual>
  </hns_sign>
</sigml>"""
    assert parse_sigml(text) == [NotatedSign("HAUS", HAUS)]


@pytest.mark.parametrize("text, message", [
    ("<sigml><hns_sign gloss='A'><hamnosys_manual><hamfist/>", "not well-formed XML at line 1"),
    ("<sign/>", "root element <sign>: expected <sigml>"),
    ("<sigml/>", "no <hns_sign> in the document"),
    ("<sigml><hamgestural_sign/></sigml>", "sign 1: <hamgestural_sign>: expected <hns_sign>"),
    ("<sigml><hns_sign gloss='X'/></sigml>", "sign 1 ('X'): no <hamnosys_manual> element"),
    ("<sigml><hns_sign gloss='X'><hamnosys_manual><hamfist/><hamwobble/></hamnosys_manual>"
     "</hns_sign></sigml>", "sign 1 ('X'): <hamwobble> is not a HamNoSys 4 symbol"),
    ("<sigml><hns_sign gloss='X'><hamnosys_manual><hamfist/><hampalmd/></hamnosys_manual>"
     "</hns_sign></sigml>", "sign 1 ('X'): symbol 2 of <hamnosys_manual>: an extended-finger "
                            "direction"),
])
def test_bad_sigml_names_the_sign_and_what_was_expected(text, message):
    with pytest.raises(ProjectFileError) as error:
        parse_sigml(text, "in.sigml")
    assert message in str(error.value) and str(error.value).startswith("in.sigml: ")


def test_entity_expansion_and_external_entities_are_refused():
    laughs = ('<?xml version="1.0"?><!DOCTYPE sigml [<!ENTITY a "hahahahahahaha">'
              + "".join(f'<!ENTITY {chr(98 + i)} "&{chr(97 + i)};&{chr(97 + i)};&{chr(97 + i)};'
                        f'&{chr(97 + i)};&{chr(97 + i)};&{chr(97 + i)};&{chr(97 + i)};'
                        f'&{chr(97 + i)};&{chr(97 + i)};&{chr(97 + i)};">' for i in range(9))
              + ']><sigml><hns_sign gloss="&j;"/></sigml>')
    with pytest.raises(ProjectFileError, match="DTDs, entities and external references are "
                                               "never read"):
        parse_sigml(laughs)
    external = ('<?xml version="1.0"?><!DOCTYPE sigml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                '<sigml><hns_sign gloss="&x;"/></sigml>')
    with pytest.raises(ProjectFileError, match="never read"):
        parse_sigml(external)


def test_a_huge_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.sigml"
    with open(path, "wb") as handle:
        handle.truncate(MAX_SIGML_BYTES + 1)
    with pytest.raises(ProjectFileError, match="huge.sigml: 8,388,609 bytes; a SiGML file is "
                                               "read up to 8,388,608"):
        read_sigml(path)
