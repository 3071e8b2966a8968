"""PropertiesPanel: the selected keyframe (channels, per-joint rotation, handshape
presets) or the selected segment (its hold).

Every change is an undoable edit on the Document. A pose change regenerates the span
between the key's neighbours with KF2P (``engine.generate.key_edits.set_key_edit``) so
the avatar follows at once; slider-like nudges of one joint share a ``merge_key`` and
fold into one undo step.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QSizePolicy, QSpinBox, QStackedWidget, QVBoxLayout, QWidget,
)
from scipy.spatial.transform import Rotation

from engine.body import shown_body
from engine.body.reference_poses import mirror_hand_pose
from engine.body.skeleton import JOINT_NAMES
from engine.generate.key_edits import (
    interpolation_edit, release_backend, set_key_edit, stretch_edit, with_handshape,
)
from engine.generate.retime import set_segment_hold
from engine.motion.curves import EULER_ORDER, joint_channel
from engine.motion.edits import ReplaceProject
from engine.motion.errors import MotionError
from engine.motion.face import FACE_BLENDSHAPE_INDEX
from engine.motion.motion import Channel
from engine.motion.project import Keyframe
from engine.workflows.face import set_mouthing
from studio.document import Document
from studio.panels.face_panel import FacePanel
from studio.panels.notation_panel import NotationPanel

CHANNEL_LABELS = {Channel.ROOT: "Root", Channel.BODY: "Body", Channel.LEFT_HAND: "Left hand",
                  Channel.RIGHT_HAND: "Right hand", Channel.FACE: "Face"}


def _pretty(name: str) -> str:
    return name.replace("_smplhf", "").replace("_", " ")


#: The interpolations a key offers (``engine.motion.project.INTERPOLATIONS``) and what
#: each does, shown as the choice's tooltip.
INTERPOLATION_TIPS = {
    "auto": "whichever in-betweener the edit uses (the default)",
    "hold": "keep this key's pose until the next key, then cut to it",
    "linear": "turn each joint at a constant speed (slerp)",
    "spline": "a smooth curve through the keys (C2 spline)",
    "learned": "the learned in-betweener (flow matching), when shipped",
}


class PropertiesPanel(QWidget):
    error_raised = Signal(str)  # an edit was refused (shown in the status bar)

    def __init__(self, document: Document, parent=None):
        super().__init__(parent)
        self._document = document
        self._presets: dict[str, np.ndarray] = {}
        self.stack = QStackedWidget()
        self.empty = QLabel("Select a keyframe (a diamond on the timeline) or a sign "
                            "to edit it here.")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self._build_key_page())
        self.stack.addWidget(self._build_segment_page())
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Properties</b>"))
        layout.addWidget(self.stack, 0)
        layout.addStretch(1)
        self.stack.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        document.selection_changed.connect(self.refresh)
        document.project_changed.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------ pages
    def _build_key_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        self.key_title = QLabel()
        layout.addWidget(self.key_title)
        channels = QGroupBox("Pinned channels")
        row = QHBoxLayout(channels)
        self.channel_boxes: dict[Channel, QCheckBox] = {}
        for channel, label in CHANNEL_LABELS.items():
            box = QCheckBox(label)
            box.setToolTip(f"Pin the {label.lower()} to this key's pose; unpinned channels "
                           "are free for the in-between motion")
            box.toggled.connect(self._on_channels)
            self.channel_boxes[channel] = box
            row.addWidget(box)
        layout.addWidget(channels)
        self.interpolation = QComboBox()
        for mode, tip in INTERPOLATION_TIPS.items():
            self.interpolation.addItem(mode, mode)
            self.interpolation.setItemData(self.interpolation.count() - 1, tip,
                                           Qt.ItemDataRole.ToolTipRole)
        self.interpolation.setToolTip("How the motion goes from this key to the next one; "
                                      "changing it regenerates only that span")
        self.interpolation.currentIndexChanged.connect(self._on_interpolation)
        row = QFormLayout()
        row.addRow("To the next key", self.interpolation)
        layout.addLayout(row)

        rotation = QGroupBox("Joint rotation (degrees, XYZ)")
        form = QFormLayout(rotation)
        self.joint = QComboBox()
        for index, name in enumerate(JOINT_NAMES):
            self.joint.addItem(_pretty(name), index)
        self.joint.setCurrentIndex(JOINT_NAMES.index("right_wrist"))
        self.joint.setToolTip("The joint whose rotation the three boxes below edit")
        self.joint.currentIndexChanged.connect(self.refresh)
        form.addRow("Joint", self.joint)
        self.angles: list[QDoubleSpinBox] = []
        for axis in "XYZ":
            box = QDoubleSpinBox()
            box.setRange(-180.0, 180.0)
            box.setDecimals(2)
            box.setSingleStep(2.0)
            box.setWrapping(True)
            box.setKeyboardTracking(False)
            box.setToolTip(f"Rotation about the joint's {axis} axis, in degrees; the motion "
                           "around the key is regenerated")
            box.valueChanged.connect(self._on_angle)
            self.angles.append(box)
            form.addRow(axis, box)
        layout.addWidget(rotation)

        self.face = FacePanel()
        self.face.weight_edited.connect(self.set_face_weight)
        layout.addWidget(self.face)

        shapes = QGroupBox("Handshape preset (from the lexicon)")
        grid = QFormLayout(shapes)
        self.preset = QComboBox()
        self.preset_hand = QComboBox()
        self.preset_hand.addItems(["Right hand", "Left hand (mirrored)"])
        self.preset_hand.currentIndexChanged.connect(lambda _: self.refresh())
        self.preset.setToolTip("Handshapes of the language's letters, from the lexicon")
        self.preset_hand.setToolTip("The hand the shape is put on (the left one mirrored)")
        self.apply_preset = QPushButton("Apply handshape")
        self.apply_preset.setToolTip("Give this key's hand the chosen shape (one undo step)")
        self.apply_preset.clicked.connect(self._on_preset)
        self.preset_match = QLabel()
        self.preset_match.setWordWrap(True)
        grid.addRow("Shape", self.preset)
        grid.addRow("Hand", self.preset_hand)
        grid.addRow(self.preset_match)
        grid.addRow(self.apply_preset)
        layout.addWidget(shapes)
        return page

    def _build_segment_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.segment_title = QLabel()
        self.segment_span = QLabel()
        self.hold = QSpinBox()
        self.hold.setRange(0, 10_000)
        self.hold.setSuffix(" frames")
        self.hold.setToolTip("How long the sign stays still at its end before the next one")
        self.hold.setKeyboardTracking(False)
        self.hold.valueChanged.connect(self._on_hold)
        self.movement = QSpinBox()
        self.movement.setRange(2, 10_000)
        self.movement.setSuffix(" frames")
        self.movement.setToolTip("How long the sign's movement takes: fewer frames sign it "
                                 "faster, more slower (its transitions are regenerated)")
        self.movement.setKeyboardTracking(False)
        self.movement.valueChanged.connect(self._on_movement)
        form.addRow(self.segment_title)
        form.addRow("Frames", self.segment_span)
        form.addRow("Movement", self.movement)
        form.addRow("Hold", self.hold)
        self.mouthing = QLineEdit()
        self.mouthing.setPlaceholderText("not mouthed")
        self.mouthing.setToolTip("The spoken word the sign is mouthed with (its phonemes "
                                 "shape the mouth over the sign's movement); empty: none")
        self.mouthing.editingFinished.connect(self._on_mouthing)
        self.mouthing_phonemes = QLabel()
        form.addRow("Mouthing", self.mouthing)
        form.addRow(self.mouthing_phonemes)
        tip = QLabel("<small>On the timeline, drag the sign's left edge to stretch its "
                     "movement in time (slower or faster), its right edge to change the "
                     "hold.</small>")
        tip.setWordWrap(True)
        form.addRow(tip)
        self.notation = NotationPanel()
        form.addRow(self.notation)
        return page

    # ------------------------------------------------------------ state
    def set_handshape_presets(self, presets: dict[str, np.ndarray]) -> None:
        """Name -> (15, 3) right-hand axis-angle (radians)."""
        self._presets = dict(presets)
        self.preset.clear()
        self.preset.addItems(sorted(self._presets))
        self.apply_preset.setEnabled(bool(self._presets))
        self.refresh()  # a selected key's nearest preset

    def _key(self) -> Keyframe | None:
        frame = self._document.selected_key
        return None if frame is None else self._document.project.keyframe_at(frame)

    def refresh(self) -> None:
        key = self._key()
        project = self._document.project
        widgets = [*self.channel_boxes.values(), *self.angles, self.hold, self.movement]
        for widget in widgets:
            widget.blockSignals(True)
        self.interpolation.blockSignals(True)
        try:
            if key is not None:
                self.stack.setCurrentIndex(1)
                fps = project.motion.fps
                self.key_title.setText(f"<b>Keyframe</b> at frame {key.frame} "
                                       f"({key.frame / fps:.2f} s)")
                for channel, box in self.channel_boxes.items():
                    box.setChecked(channel in key.channels)
                joint = self.joint.currentData()
                rotvec = key.pose.full_pose()[0, joint].astype(np.float64)
                euler = Rotation.from_rotvec(rotvec).as_euler(EULER_ORDER, degrees=True)
                for box, value in zip(self.angles, euler):
                    box.setValue(float(value))
                self._show_closest_preset(key)
                self.face.show_weights(key.pose.face_blendshapes[0])
                self.interpolation.setCurrentIndex(self.interpolation.findData(key.interpolation))
            elif self._document.selected_segment is not None:
                self.stack.setCurrentIndex(2)
                segment = project.segments[self._document.selected_segment]
                self.segment_title.setText(
                    f"<b>{segment.gloss}</b> ({segment.kind.value}, {segment.language})")
                self.segment_span.setText(
                    f"{segment.start}–{segment.end - 1} ({segment.num_frames - segment.hold} "
                    f"movement + {segment.hold} hold, "
                    f"{segment.num_frames / project.motion.fps:.2f} s)")
                self.hold.setValue(segment.hold)
                self.movement.setValue(segment.num_frames - segment.hold)
                said = segment.mouthing
                self.mouthing.setText(said.word if said else "")
                self.mouthing_phonemes.setText(
                    f"<small>/{' '.join(said.phonemes)}/ ({said.voice})"
                    f"{'' if project.mouthing else ', mouthing is off for this project'}"
                    "</small>" if said else "")
                from engine.notation.dsgs import signwriting_for

                self.notation.show_segment(self._document.selected_segment, segment.notation,
                                           signwriting_for(segment.notation)
                                           if segment.notation else "")
            else:
                self.stack.setCurrentIndex(0)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self.interpolation.blockSignals(False)

    def _show_closest_preset(self, key: Keyframe) -> None:
        """Select the preset nearest the key's hand and say how near it is, so the box
        tells what the hand is rather than the first letter of the list."""
        left = self.preset_hand.currentIndex() == 1
        if not self._presets:
            self.preset_match.setText("")
            return
        hand = key.pose.left_hand_pose[0] if left else key.pose.right_hand_pose[0]
        name, degrees = closest_handshape(hand, self._presets, mirrored=left)
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex(self.preset.findText(name))
        self.preset.blockSignals(False)
        self.preset_match.setText(f"<small>This key's {'left' if left else 'right'} hand is "
                                  f"{'' if degrees < 10 else 'nearest to '}{name} "
                                  f"({degrees:.0f}° per joint on average)</small>")

    # ------------------------------------------------------------ edits
    def _apply(self, op, text: str, merge_key: str = "") -> None:
        try:
            self._document.apply_edit(op, text, merge_key)
        except MotionError as error:
            self.error_raised.emit(str(error))
            self.refresh()

    def _set_key(self, keyframe: Keyframe, text: str, merge_key: str = "") -> None:
        """Set ``keyframe`` and regenerate around it, one undo step; a refused edit (a
        locked track, say) is reported and changes nothing."""
        try:
            edit = set_key_edit(self._document.committed_project, keyframe)
        except MotionError as error:
            self.error_raised.emit(str(error))
            self.refresh()
            return
        self._apply(edit.op, text, merge_key)

    def _on_channels(self) -> None:
        key = self._key()
        if key is None:
            return
        channels = frozenset(c for c, box in self.channel_boxes.items() if box.isChecked())
        if not channels:
            self.error_raised.emit("a keyframe pins at least one channel")
            self.refresh()
            return
        # Regenerated like a pose edit: a newly pinned channel must be met at the key,
        # a freed one is re-interpolated from its neighbours.
        self._set_key(Keyframe(key.frame, key.pose, channels),
                      f"Pinned channels at frame {key.frame}")

    def set_joint_rotation(self, joint: int, rotvec: np.ndarray, merge: bool = True) -> None:
        """Set one joint of the selected keyframe (axis-angle radians, (3,)) and
        regenerate around it; the joint's channel becomes pinned."""
        key = self._key()
        if key is None:
            return
        full = key.pose.full_pose().copy()
        full[0, joint] = rotvec
        pose = key.pose.with_full_pose(full)
        edited = Keyframe(key.frame, pose, key.channels | {joint_channel(joint)})
        name = _pretty(JOINT_NAMES[joint])
        self._set_key(edited, f"Rotate {name} at frame {key.frame}",
                      f"pose@{key.frame}:{joint}" if merge else "")

    def _on_interpolation(self) -> None:
        key = self._key()
        mode = self.interpolation.currentData()
        if key is None or mode == key.interpolation:
            return
        try:
            edit = interpolation_edit(self._document.committed_project, key.frame, mode)
        except MotionError as error:
            self.error_raised.emit(str(error))
            self.refresh()
            return
        self._apply(edit.op, f"Interpolation {mode} after frame {key.frame}")

    def set_face_weight(self, name: str, weight: float) -> None:
        """Set one ARKit weight (0..1) of the selected keyframe's face and regenerate
        around it; the face channel becomes pinned. Slider steps on one shape merge
        into one undo step."""
        key = self._key()
        if key is None:
            return
        face = key.pose.face_blendshapes.copy()
        face[0, FACE_BLENDSHAPE_INDEX[name]] = weight
        edited = Keyframe(key.frame, key.pose.replace(face_blendshapes=face),
                          key.channels | {Channel.FACE})
        self._set_key(edited, f"Face {name} at frame {key.frame}", f"face@{key.frame}:{name}")

    def _on_angle(self) -> None:
        euler = [box.value() for box in self.angles]
        rotvec = Rotation.from_euler(EULER_ORDER, euler, degrees=True).as_rotvec()
        self.set_joint_rotation(self.joint.currentData(), rotvec)

    def apply_handshape(self, name: str, left: bool = False) -> None:
        key = self._key()
        if key is None or name not in self._presets:
            return
        project = self._document.project
        edited = with_handshape(key, self._presets[name], left,
                                project.motion.frame(key.frame), shown_body(project.avatar))
        self._set_key(edited, f"Handshape {name} at frame {key.frame}")

    def _on_preset(self) -> None:
        self.apply_handshape(self.preset.currentText(), self.preset_hand.currentIndex() == 1)

    def _on_movement(self, value: int) -> None:
        index = self._document.selected_segment
        if index is None:
            return
        try:
            edit = stretch_edit(self._document.committed_project, index, value,
                                release_backend())
        except MotionError as error:
            self.error_raised.emit(str(error))
            self.refresh()
            return
        gloss = self._document.project.segments[index].gloss
        self._apply(edit.op, f"Duration of '{gloss}'", f"stretch@{index}")

    def _on_mouthing(self) -> None:
        index = self._document.selected_segment
        if index is None:
            return
        segment = self._document.committed_project.segments[index]
        word = self.mouthing.text().strip()
        if word == (segment.mouthing.word if segment.mouthing else ""):
            return
        try:
            project, unknown = set_mouthing(self._document.committed_project, index, word)
        except ValueError as error:  # no voice for the language, a word too long
            self.error_raised.emit(str(error))
            return
        if unknown:
            self.error_raised.emit(f"No mouth shape for {', '.join(unknown)}: shown neutral")
        self._apply(ReplaceProject(project), f"Mouthing of '{segment.gloss}': "
                                             f"{word or 'none'}", "")

    def _on_hold(self, value: int) -> None:
        index = self._document.selected_segment
        if index is None:
            return
        try:
            project = set_segment_hold(self._document.committed_project, index, value)
        except MotionError as error:
            self.error_raised.emit(str(error))
            return
        gloss = self._document.project.segments[index].gloss
        self._apply(ReplaceProject(project), f"Hold of '{gloss}'", f"hold@{index}")


def closest_handshape(hand: np.ndarray, presets: dict[str, np.ndarray],
                      mirrored: bool = False) -> tuple[str, float]:
    """(name, mean angle in degrees) of the preset nearest ``hand`` (15, 3) axis-angle:
    the mean over the 15 finger joints of the rotation between the two poses.
    ``mirrored``: ``hand`` is a left hand, compared with the presets mirrored."""
    best, best_degrees = "", float("inf")
    here = Rotation.from_rotvec(np.asarray(hand, np.float64).reshape(15, 3))
    for name, shape in presets.items():
        shape = mirror_hand_pose(shape) if mirrored else shape
        there = Rotation.from_rotvec(np.asarray(shape, np.float64).reshape(15, 3))
        degrees = float(np.degrees((here.inv() * there).magnitude()).mean())
        if degrees < best_degrees:
            best, best_degrees = name, degrees
    return best, best_degrees

