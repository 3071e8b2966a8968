"""The face in the studio, driven like a user: presets over the selected sign, marker
blocks dragged and resized on the timeline's face rows (live preview, one undo step,
Esc cancels), Delete, the mouthing word on the sign's properties page."""
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from engine.motion.markers import MarkerKind, Track


def marker_point(view, index: int, where: str = "body") -> QPoint:
    marker = view._document.project.markers[index]
    rect = view.face_rows.marker_rect(marker, view.pixels_per_frame)
    x = {"body": rect.center().x(), "start": rect.left() + 1, "end": rect.right() - 1}[where]
    return view.mapFromScene(QPointF(x, rect.center().y()))


def drag(qtbot, view, start: QPoint, frames: int, release: bool = True) -> None:
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    ppf = view.pixels_per_frame
    step = 1 if frames > 0 else -1
    for moved in range(1, abs(frames) + 1):
        qtbot.mouseMove(view.viewport(), pos=start + QPoint(round(step * moved * ppf), 0))
    if release:
        qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                           pos=start + QPoint(round(frames * ppf), 0))


def test_a_preset_covers_the_selected_sign_in_one_undo_step(generated):
    doc = generated.document
    doc.select_segment(2)
    sign = doc.project.segments[2]
    assert generated.face_actions.apply_preset("wh_question")
    markers = doc.project.markers
    assert {m.kind for m in markers} == {MarkerKind.BROWS_FURROW, MarkerKind.EYES_SQUINT,
                                         MarkerKind.HEAD_FORWARD}
    assert all((m.start, m.end) == (sign.start, sign.end) for m in markers)
    assert doc.undo_stack.undoText() == f"Wh-question over frames {sign.start}–{sign.end - 1}"
    doc.undo_stack.undo()
    assert doc.project.markers == ()


def test_dragging_a_marker_moves_it_with_a_preview_and_lands_once(generated, qtbot):
    doc, view = generated.document, generated.timeline
    doc.select_segment(1)
    assert generated.face_actions.add_marker(MarkerKind.BROWS_RAISE)
    before = doc.project.markers[0]
    depth = doc.undo_stack.count()
    drag(qtbot, view, marker_point(view, 0), 4, release=False)
    assert doc.in_preview and doc.project.markers[0].start == before.start + 4
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       pos=marker_point(view, 0))
    moved = doc.committed_project.markers[0]
    assert (moved.start, moved.end) == (before.start + 4, before.end + 4)
    assert doc.undo_stack.count() == depth + 1 and not doc.in_preview
    assert doc.selected_marker == 0
    doc.undo_stack.undo()
    assert doc.project.markers == (before,)


def test_resizing_an_end_and_escape(generated, qtbot):
    doc, view = generated.document, generated.timeline
    doc.select_segment(1)
    generated.face_actions.add_marker(MarkerKind.HEAD_SHAKE)
    before = doc.project.markers[0]
    drag(qtbot, view, marker_point(view, 0, "end"), 6)
    grown = doc.project.markers[0]
    assert (grown.start, grown.end) == (before.start, before.end + 6)
    assert grown.track is Track.HEAD
    drag(qtbot, view, marker_point(view, 0), 3, release=False)
    assert doc.in_preview
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert not doc.in_preview and doc.project.markers == (grown,)


def test_delete_removes_the_selected_marker_before_any_keyframe(generated):
    doc = generated.document
    doc.select_segment(0)
    generated.face_actions.add_marker(MarkerKind.CHEEKS_PUFF)
    keys = len(doc.project.keyframes)
    delete = next(a for m in generated.menuBar().actions() for a in m.menu().actions()
                  if a.text().startswith("&Delete keyframe or face marker"))
    delete.trigger()
    assert doc.project.markers == () and len(doc.project.keyframes) == keys
    assert doc.undo_stack.undoText() == "Delete Cheeks puff"


def test_the_properties_page_sets_a_signs_mouthing_word(generated, qtbot):
    doc, panel = generated.document, generated.properties
    doc.select_segment(0)
    panel.mouthing.setText("hello")
    panel.mouthing.editingFinished.emit()
    mouthing = doc.project.segments[0].mouthing
    assert mouthing.word == "hello" and mouthing.voice == "en-us" and mouthing.phonemes
    assert "/" in panel.mouthing_phonemes.text()
    assert doc.undo_stack.undoText() == f"Mouthing of '{doc.project.segments[0].gloss}': hello"
    generated.face_actions.toggle_mouthing()
    assert doc.project.mouthing is False
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.project.segments[0].mouthing is None and doc.project.mouthing


def test_a_blink_is_short_wherever_it_is_added(generated):
    doc = generated.document
    doc.select_segment(1)
    assert generated.face_actions.add_marker(MarkerKind.BLINK)
    blink = doc.project.markers[0]
    assert blink.start == doc.project.segments[1].start
    assert blink.end - blink.start == round(0.25 * doc.project.motion.fps)


def test_the_face_sliders_set_a_keys_expression_in_one_undo_step(generated):
    from engine.motion import FACE_BLENDSHAPE_INDEX, Channel

    doc, face = generated.document, generated.properties.face
    frame = doc.project.keyframes[2].frame
    doc.select_key(frame)
    face.region.setCurrentText("Mouth")
    depth = doc.undo_stack.count()
    face.sliders["mouthSmileLeft"].setValue(40)
    face.sliders["mouthSmileLeft"].setValue(60)       # merges with the step before
    key = doc.project.keyframe_at(frame)
    smile = FACE_BLENDSHAPE_INDEX["mouthSmileLeft"]
    assert key.pose.face_blendshapes[0, smile] == pytest.approx(0.6)
    assert Channel.FACE in key.channels
    assert doc.project.motion.face_blendshapes[frame, smile] == pytest.approx(0.6, abs=1e-3)
    assert doc.undo_stack.count() == depth + 1
    assert doc.undo_stack.undoText() == f"Face mouthSmileLeft at frame {frame}"
    doc.undo_stack.undo()
    assert doc.project.motion.face_blendshapes[frame, smile] == 0
    assert face.sliders["mouthSmileLeft"].value() == 0


def test_delete_acts_on_what_was_selected_last(generated):
    doc = generated.document
    doc.select_segment(0)
    generated.face_actions.add_marker(MarkerKind.CHEEKS_PUFF)   # the marker is selected
    frame = doc.project.keyframes[1].frame
    doc.select_key(frame)                                      # then a keyframe is clicked
    assert doc.selected_marker is None
    assert not generated.face_actions.delete_selected_marker()
    doc.select_marker(0)
    assert doc.selected_key is None                            # the marker was clicked last
    doc.select_segment(0)
    doc.select_marker(0)
    assert doc.selected_segment == 0                           # its sign stays selected


def test_the_generators_keys_are_drawn_lighter_than_the_users(generated):
    from engine.generate.key_edits import set_key_edit
    from engine.motion import Keyframe
    from studio.timeline.timeline_view import GENERATED_KEY_COLOUR, KEY_COLOUR

    doc, view = generated.document, generated.timeline
    assert all(k.generated for k in doc.project.keyframes)
    key = doc.project.keyframes[2]
    doc.apply_edit(set_key_edit(doc.committed_project,
                                Keyframe(key.frame, key.pose, key.channels)).op, "Own it")
    doc.select_key(None)
    fills = {}
    for item in view.scene().items():
        if hasattr(item, "polygon") and item.polygon().count() == 4:
            x = item.polygon().boundingRect().center().x()
            fills.setdefault(round(x), set()).add(item.brush().color().name())
    assert fills[round(view.x_of(key.frame))] == {KEY_COLOUR.name()}
    other = doc.project.keyframes[1].frame
    assert fills[round(view.x_of(other))] == {GENERATED_KEY_COLOUR.name()}


def test_a_keys_interpolation_is_chosen_on_its_page_and_shown_on_its_glyph(generated):
    doc, view, panel = generated.document, generated.timeline, generated.properties
    frame = doc.project.keyframes[2].frame
    doc.select_key(frame)
    depth = doc.undo_stack.count()
    panel.interpolation.setCurrentIndex(panel.interpolation.findData("hold"))
    assert doc.project.keyframe_at(frame).interpolation == "hold"
    assert doc.undo_stack.count() == depth + 1
    x = view.x_of(frame)
    glyphs = [item for item in view.scene().items() if hasattr(item, "polygon")
              and abs(item.polygon().boundingRect().center().x() - x) < 0.5]
    # a square: its corners share x and y pairwise (a diamond's do not)
    square = glyphs[0].polygon()
    assert {round(square.at(i).x(), 3) for i in range(4)} == {round(x - 0.8 * (6 + 1.5), 3),
                                                              round(x + 0.8 * (6 + 1.5), 3)}
    doc.undo_stack.undo()
    assert doc.project.keyframe_at(frame).interpolation == "auto"
