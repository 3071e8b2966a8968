"""Splicing a sign into a project (insert at the playhead, re-made from edited
notation): the new sign lands where asked, everything outside the spliced range stays
bit for bit, and the joins are generated, not cut."""
from __future__ import annotations

import numpy as np
import pytest

from engine.generate.from_notation import bad_name_span, error_span, project_from_notation, resynthesised
from engine.generate.splice import insert_sign, insertion_range, is_blank
from engine.motion.motion import Motion
from engine.motion.project import Project, SegmentKind
from engine.notation.hamnosys import NotationError
from engine.notation.symbols import from_names
from engine.notation.synthesis import synthesise

KIND = "flathand thumboutmod extfingero palmd chest lrat moved smallmod"
DU = "finger2 thumbacrossmod extfingero palmd chest moveo smallmod"
NEIN = "finger2 extfingeru palml shoulders movel repeatfromstart"


def two_signs() -> Project:
    project = project_from_notation(KIND, gloss="KIND")
    du = synthesise(from_names(DU))
    end = project.motion.num_frames
    return insert_sign(project, end, du.motion, gloss="DU", language="sgg",
                       kind=SegmentKind.NOTATION, notation=from_names(DU),
                       sign_keys=du.key_frames)


def test_inserting_after_a_sign_keeps_it_and_joins_smoothly():
    first = project_from_notation(KIND, gloss="KIND")
    both = two_signs()
    kind, du = both.segments
    assert (kind.gloss, du.gloss) == ("KIND", "DU") and du.notation == from_names(DU)
    # KIND's own frames are untouched up to where its articulation ends
    kept = kind.end
    assert np.array_equal(both.motion.body_pose[:kept], first.motion.body_pose[:kept])
    # the join is generated: no jump bigger than the signs' own fastest frame-to-frame step
    steps = np.abs(np.diff(both.motion.body_pose, axis=0)).max(axis=(1, 2))
    own = max(np.abs(np.diff(first.motion.body_pose, axis=0)).max(), 0.05)
    assert steps.max() <= own * 1.5
    # the sentence ends at rest, with DU's own drop
    assert np.allclose(both.motion.body_pose[-1], first.motion.body_pose[-1], atol=1e-5)
    assert all(k.frame < both.motion.num_frames for k in both.keyframes)


def test_insertion_point_is_the_gap_around_the_playhead():
    both = two_signs()
    kind, du = both.segments
    inside_kind = (kind.start + kind.end) // 2
    assert insertion_range(both, inside_kind) == (kind.end, du.start)
    assert insertion_range(both, 0) == (0, kind.start)  # before KIND: its rise from rest
    assert kind.start > 0


def test_inserting_into_a_blank_project_gives_the_sign_from_rest_to_rest():
    blank = Project(motion=Motion.zeros(30), title="Untitled")
    assert is_blank(blank)
    du = synthesise(from_names(DU))
    project = insert_sign(blank, 10, du.motion, gloss="DU", language="sgg",
                          sign_keys=du.key_frames)
    assert project.motion.num_frames == du.motion.num_frames
    assert np.array_equal(project.motion.body_pose, du.motion.body_pose)
    assert [s.gloss for s in project.segments] == ["DU"]


def test_re_making_a_sign_from_edited_notation_changes_only_that_sign():
    both = two_signs()
    kind, du = both.segments
    edited = resynthesised(both, 1, NEIN)
    new_kind, new_du = edited.segments
    assert new_du.notation == from_names(NEIN) and new_du.gloss == "DU"
    assert new_du.kind is SegmentKind.NOTATION
    # KIND and its frames up to the end of its articulation are kept bit for bit
    assert new_kind == kind
    assert np.array_equal(edited.motion.body_pose[:kind.end], both.motion.body_pose[:kind.end])
    # the new sign is NEIN's: the hand moves left (+X), DU's moved forward (+Z)
    from engine.body import default_avatar

    wrist = 21
    body = default_avatar()
    new = body.forward(edited.motion, np.arange(new_du.start, new_du.end)).joints[:, wrist]
    old = body.forward(both.motion, np.arange(du.start, du.end)).joints[:, wrist]
    assert np.ptp(new[:, 0]) > 0.05 and np.ptp(new[:, 2]) < np.ptp(new[:, 0])
    assert np.ptp(old[:, 2]) > np.ptp(old[:, 0])


def test_segments_never_hold_the_rise_or_the_drop():
    """A sign at the start (end) keeps its own rise (drop), outside its segment, so a
    sign inserted next replaces that drop instead of rising again after it."""
    single = project_from_notation(KIND, gloss="KIND")
    remade = resynthesised(single, 0, KIND)
    assert remade.segments[0].start > 0
    assert remade.segments[0].end < remade.motion.num_frames
    assert remade.segments[0] == single.segments[0]
    du = synthesise(from_names(DU))
    after = insert_sign(remade, remade.motion.num_frames - 1, du.motion, gloss="DU",
                        language="sgg", sign_keys=du.key_frames)
    kind, inserted = after.segments
    # after KIND's articulation: a transition (9 frames) into DU, then DU's own drop;
    # KIND's drop and DU's rise are both gone
    assert kind.end == remade.segments[0].end
    assert after.motion.num_frames < kind.end + 9 + du.motion.num_frames
    assert all(0 <= k.frame < after.motion.num_frames for k in after.keyframes)
    assert len({k.frame for k in after.keyframes}) == len(after.keyframes)


def test_bad_notation_raises_and_names_the_place():
    project = project_from_notation(KIND, gloss="KIND")
    with pytest.raises(NotationError) as caught:
        resynthesised(project, 0, "flathand palmd chest")
    assert caught.value.position == 1
    assert error_span("flathand palmd chest", 1) == (9, 14)  # "palmd"
    assert error_span(from_names("flathand palmd"), 1) == (1, 2)
    assert error_span("flathand", 3) == (8, 9)  # ended early: just past the end
    with pytest.raises(ValueError, match="not a HamNoSys 4 symbol name: 'chst'"):
        resynthesised(project, 0, "flathand extfingero palmd chst")
    assert bad_name_span("flathand extfingero palmd chst") == (26, 30)
