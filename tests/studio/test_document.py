"""Document, undoable commands and jobs: no widgets needed."""
import threading

import numpy as np
import pytest

from engine.motion import Keyframe, Motion, MotionError, Project, ProjectFileError
from engine.motion.edits import MoveKey, ReplaceProject, ReplaceRange, SetKey
from studio.document import Document
from studio.jobs import JobRunner
from tests.conftest import random_motion


@pytest.fixture
def document(rng):
    motion = random_motion(rng, num_frames=40)
    keys = (Keyframe.from_motion(motion, 5), Keyframe.from_motion(motion, 30))
    return Document(Project(motion=motion, keyframes=keys))


def test_edit_undo_redo_is_exact(document, qtbot):
    original = document.project
    with qtbot.waitSignal(document.project_changed):
        document.apply_edit(MoveKey(5, 12), "Move keyframe")
    assert [k.frame for k in document.project.keyframes] == [12, 30]
    assert document.dirty
    document.undo_stack.undo()
    assert document.project.equals(original) and not document.dirty
    document.undo_stack.redo()
    assert [k.frame for k in document.project.keyframes] == [12, 30]


def test_invalid_edit_changes_nothing(document):
    before = document.project
    with pytest.raises(MotionError, match="frame 30"):
        document.apply_edit(MoveKey(5, 30), "Move keyframe")
    assert document.project is before and document.undo_stack.count() == 0


def test_preview_has_no_history_and_commits_as_one_step(document, rng):
    committed = document.project
    for _ in range(3):  # a drag: several previews
        patch = random_motion(rng, num_frames=4, fps=committed.motion.fps)
        preview = committed.replace(motion=committed.motion.with_frames(10, patch))
        document.set_preview(preview)
        assert document.project is preview and document.undo_stack.count() == 0
    document.cancel_preview()  # Esc
    assert document.project is committed
    document.set_preview(preview)
    document.commit_preview(ReplaceRange(10, preview.motion.slice(10, 14)), "Drag")
    assert document.undo_stack.count() == 1 and not document.in_preview
    assert document.project.motion.equals(preview.motion)
    document.undo_stack.undo()
    assert document.project.equals(committed)


def test_nudges_merge_into_one_step(document):
    pose = document.project.keyframes[0].pose
    for value in (0.1, 0.2, 0.3):
        nudged = pose.replace(jaw_pose=np.array([[value, 0, 0]], np.float32))
        document.apply_edit(SetKey(Keyframe(5, nudged)), "Edit pose", merge_key="pose@5")
    assert document.undo_stack.count() == 1
    assert document.project.keyframe_at(5).pose.jaw_pose[0, 0] == pytest.approx(0.3)
    document.undo_stack.undo()
    assert document.project.keyframe_at(5).pose.equals(pose)


def test_save_reopen_and_clean_state(document, tmp_path, qtbot):
    document.apply_edit(MoveKey(5, 8), "Move")
    path = document.save(tmp_path / "p.signstudio")
    assert not document.dirty
    other = Document()
    other.open(path)
    assert other.project.equals(document.project) and not other.dirty


def test_failed_open_keeps_the_document(document, tmp_path):
    bad = tmp_path / "bad.signstudio"
    bad.write_bytes(b"junk")
    before = document.project
    with pytest.raises(ProjectFileError):
        document.open(bad)
    assert document.project is before


def test_a_second_writer_is_told_the_file_changed_since_it_was_opened(document, tmp_path):
    from engine.motion import load_project
    from engine.motion.edits import MoveKey
    from engine.motion.project_io import ProjectChangedOnDisk

    path = tmp_path / "shared.signstudio"
    document.save(path)
    first, second = Document(), Document()
    first.open(path)
    second.open(path)
    first.apply_edit(MoveKey(5, 12), "Move keyframe")
    first.save()
    second.apply_edit(MoveKey(30, 33), "Move keyframe")
    with pytest.raises(ProjectChangedOnDisk, match="shared.signstudio: the file changed on disk"):
        second.save()
    assert [k.frame for k in load_project(path).keyframes] == [12, 30]  # first's save kept
    assert second.dirty
    second.save(overwrite_changes=True)  # the user chose to overwrite
    assert [k.frame for k in load_project(path).keyframes] == [5, 33]
    second.apply_edit(MoveKey(5, 6), "Move keyframe")
    second.save()  # its own earlier save is not "someone else's change"
    with pytest.raises(ProjectChangedOnDisk):
        first.save()


def test_frame_is_clamped_when_the_motion_shrinks(document):
    document.set_frame(39)
    document.apply_edit(ReplaceProject(Project(motion=Motion.zeros(10))), "Generate")
    assert document.frame == 9
    document.undo_stack.undo()
    assert document.project.motion.num_frames == 40


def slow_job(steps, *, progress, cancel):
    for step in range(steps):
        cancel.raise_if_cancelled()
        progress(step + 1, steps, f"step {step + 1}")
        threading.Event().wait(0.01)
    return threading.current_thread().name


def test_job_reports_progress_and_result_on_the_gui_thread(qtbot):
    runner = JobRunner()
    handle = runner.submit("Count", slow_job, 5)
    seen = []
    handle.progressed.connect(lambda d, t, m: seen.append(d))
    with qtbot.waitSignal(handle.finished, timeout=5000) as blocker:
        pass
    assert blocker.args[0].startswith("signstudio-job")  # ran on the worker lane
    qtbot.waitUntil(lambda: not runner.busy)
    runner.shutdown()


def test_job_cancel_and_failure(qtbot):
    runner = JobRunner()
    handle = runner.submit("Long", slow_job, 10_000)
    with qtbot.waitSignal(handle.cancelled, timeout=5000):
        handle.cancel()

    def broken(*, progress, cancel):
        raise ValueError("bad input file")

    failing = runner.submit("Import", broken)
    with qtbot.waitSignal(failing.failed, timeout=5000) as blocker:
        pass
    assert blocker.args[0] == "Import failed: bad input file"
    assert "ValueError" in failing.error_details
    runner.shutdown()


def test_saving_after_the_file_was_deleted_just_writes_it(document, tmp_path):
    from engine.motion import load_project
    path = tmp_path / "gone.signstudio"
    document.save(path)
    path.unlink()  # moved to the bin by the user: nobody else's work to protect
    document.save()
    assert load_project(path).motion.num_frames == document.project.motion.num_frames


def test_recovered_work_checks_changes_made_after_recovery(document, tmp_path):
    from engine.motion import Motion, Project, save_project
    from engine.motion.project_io import ProjectChangedOnDisk
    path = tmp_path / "p.signstudio"
    document.save(path)
    recovered = Document()
    recovered.set_path(path)  # as the main window does on recovery
    save_project(Project(motion=Motion.zeros(5), title="elsewhere"), path)
    with pytest.raises(ProjectChangedOnDisk):
        recovered.save()
