"""ViewportWidget: the avatar at the Document's current frame, in a pyvistaqt view.

Has-a ``pyvistaqt.QtInteractor`` (orbit with the left mouse button, pan with the middle
or Shift+left, zoom with the wheel). The mesh is built once per body model
(``body_actor.BodyActor``); a frame change writes the new points and normals into the
existing VTK arrays.

How a frame reaches the screen, and why (measured on Xvfb + llvmpipe, where
rendering dominates):
- A change only asks Qt for a paint (``update()``). The pose is computed inside that
  paint, just before VTK renders, for whatever frame is current *then*. So changes
  that arrive faster than frames can be drawn (playback ticks, a scrub) cost one
  skinning and one render per painted frame: the frames in between are dropped, not
  queued, and playback keeps real time (``studio.playback`` follows the wall clock).
- One VTK render per paint. ``plotter.render()`` renders at once *and* makes the
  pyvistaqt widget repaint, which renders again (its paintGL always renders), so the
  old path rendered every frame twice. pyvistaqt's 5 Hz auto-render timer is off too:
  it re-rendered an unchanged scene (twice) five times a second.
- Two lights instead of pyvista's five-light kit, and a flat background instead of a
  gradient (a full-screen pass): both are per-pixel costs in software GL.
- No multisampling: 4x MSAA tripled the render time. In "high" quality a still frame
  is redrawn once with FXAA after ``REFINE_DELAY_MS`` without a change (and after an
  orbit ends); frames during playback, scrubbing and orbiting are drawn without it.

The body shown follows the project's avatar choice (``Project.avatar``): SMPL-X when the
user's model folder holds the licensed files, else the default avatar with a message
(``avatar_message``) saying why.
"""
from __future__ import annotations

import functools
import time

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QVBoxLayout, QWidget

from engine.body.smplx_model import SmplxBody, find_smplx_model_file
from engine.export.render import (
    CAMERA_PRESETS, VIEW_ANGLE_DEG, aim_frames_sample, camera_distance, camera_view,
)
from engine.export.video import signs_span
from engine.face.perform import performed_motion
from engine.motion.project import AvatarChoice
from studio.document import Document
from studio.viewport.body_actor import BodyActor
from studio.viewport.motion_guides import MotionGuides

#: Buttons shown over the view: label -> preset name in CAMERA_PRESETS.
CAMERA_BUTTONS = {"Front": "front", "3/4": "three_quarter", "Side": "side", "Hands": "hands",
                  "Face+hands": "face_hands", "Face": "face", "Full body": "full_body"}
QUALITIES = ("draft", "high")
BACKGROUND = "#f1f3f6"
#: A still frame is redrawn anti-aliased (FXAA, "high" quality) after this long unchanged.
REFINE_DELAY_MS = 400
_UNSET = object()


@functools.cache
def _interactor_class():
    """A QtInteractor that calls ``before_paint`` / ``after_paint`` around each paint.

    Built on first use so that importing this module does not import pyvista.
    """
    from pyvistaqt import QtInteractor

    class PaintHookInteractor(QtInteractor):
        before_paint = None
        after_paint = None

        def paintGL(self):
            if self.before_paint is not None:
                self.before_paint()
            super().paintGL()
            if self.after_paint is not None:
                self.after_paint()

    return PaintHookInteractor


class ViewportWidget(QWidget):
    frame_shown = Signal(int)      # a new frame was painted (emitted once Qt flushed it)
    avatar_message = Signal(str)   # which avatar is shown, or why SMPL-X is not
    body_changed = Signal(str)     # the body model shown changed (its name)

    def __init__(self, document: Document, body, multi_samples: int | None = None,
                 parent=None, *, quality: str | None = None, smplx_dir=None):
        """``body``: the default avatar (a BodyModel), shown unless the project asks for
        SMPL-X and the files are there. ``quality``: "draft" (never anti-aliased) or
        "high" (still frames anti-aliased). ``multi_samples`` is the older way to say
        it (0 = draft, more = high); MSAA itself is not used (see the module docstring).
        ``smplx_dir``: the SMPL-X model folder; None = $SIGNSTUDIO_SMPLX_DIR, then the
        saved settings (``engine.settings.resolve_smplx_dir``).
        """
        super().__init__(parent)
        import pyvista as pv  # with a display: VTK's default (X) window, not EGL

        if quality is None:
            quality = "draft" if multi_samples == 0 else "high"
        self._document = document
        self._default_body = body
        self.smplx_dir = smplx_dir
        self._smplx_cache: dict[tuple[str, int], SmplxBody] = {}
        self._avatar_choice = AvatarChoice.DEFAULT
        self.avatar_fallback = False   # True while SMPL-X is asked for but not shown

        self.plotter = _interactor_class()(self, multi_samples=0, auto_update=False)
        self.plotter.before_paint = self._before_paint
        self.plotter.after_paint = self._after_paint
        self.plotter.set_background(BACKGROUND)
        renderer = self.plotter.renderer
        renderer.remove_all_lights()
        # A key light above-left of the camera and a weaker headlight as fill: both
        # follow the camera, so every preset and orbit is lit from the front.
        renderer.add_light(pv.Light(position=(-0.5, 0.8, 1.0), focal_point=(0, 0, 0),
                                    light_type="camera light", intensity=0.7))
        renderer.add_light(pv.Light(light_type="headlight", intensity=0.35))
        self.plotter.add_axes(interactive=False)
        self.actor = BodyActor(self.plotter, body)
        self.guides = MotionGuides(self.plotter)
        #: () -> (first, last) frames the trails cover (the timeline's visible frames);
        #: None: the whole motion.
        self.visible_frames = None

        self._shown: tuple[object, object, int] | None = None  # (actor, motion, frame)
        self._dirty = True
        self._unpainted_frame: int | None = None   # posed, not painted yet
        self._paint_started = 0.0
        self._joints: np.ndarray | None = None
        self._aimed = False
        self.camera_preset = "front"
        self.frames_rendered = 0       # paints that showed a new pose
        self.paints = 0                # all paints (orbit, expose, refine included)
        self.last_pose_ms = 0.0        # skinning + VTK update of the last new frame
        self.last_paint_ms = 0.0       # the last paint (pose + VTK render + blit)

        self._refine = QTimer(self)
        self._refine.setSingleShot(True)
        self._refine.setInterval(REFINE_DELAY_MS)
        self._refine.timeout.connect(self._refine_still_frame)
        self.quality = "high"
        self.set_quality(quality)
        style = self.plotter.iren.interactor.GetInteractorStyle()
        if style is not None:
            style.AddObserver("StartInteractionEvent", lambda *_: self._set_fxaa(False))
            style.AddObserver("EndInteractionEvent", lambda *_: self._start_refine())

        self._announce = QTimer(self)   # frame_shown once Qt has flushed the paint
        self._announce.setSingleShot(True)
        self._announce.setInterval(0)
        self._announce.timeout.connect(self._emit_frame_shown)
        self._announced_frame = 0
        self._pending = QTimer(self)    # hidden widget: pose without painting
        self._pending.setSingleShot(True)
        self._pending.setInterval(0)
        self._pending.timeout.connect(self._pose_if_dirty)
        self._avatar_sync = QTimer(self)
        self._avatar_sync.setSingleShot(True)
        self._avatar_sync.setInterval(0)
        self._avatar_sync.timeout.connect(self._follow_project_avatar)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(4, 2, 4, 2)
        for label, preset in CAMERA_BUTTONS.items():
            button = QToolButton(text=label, toolTip=f"Camera: {label.lower()}")
            button.clicked.connect(lambda _=False, p=preset: self.set_camera(p))
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(buttons)
        layout.addWidget(self.plotter.interactor, 1)

        document.project_changed.connect(self._on_project_changed)
        document.frame_changed.connect(self._schedule)
        self._on_project_changed()

    # ------------------------------------------------------------ properties
    @property
    def body(self):
        """The BodyModel shown now."""
        return self.actor.body

    @property
    def mesh(self):
        """The pyvista PolyData drawn (points updated in place each frame)."""
        return self.actor.mesh

    # ------------------------------------------------------------ frames
    def _on_project_changed(self) -> None:
        if AvatarChoice(self._document.project.avatar) is not self._avatar_choice:
            # Deferred: loading SMPL-X takes a while, and whoever built this widget may
            # still be connecting avatar_message.
            self._avatar_sync.start()
        self._schedule()
        if self.guides.trails_on or self.guides.onion_on:
            self.refresh_guides()   # new keys move the onion skin even on the same frame

    def _schedule(self, *_: object) -> None:
        self._dirty = True
        if self.plotter.isVisible():
            self.plotter.update()   # Qt coalesces: one paint for any number of changes
        elif not self._pending.isActive():
            self._pending.start()

    def show_frame(self) -> None:
        """Pose the mesh at the current frame now and ask for one paint."""
        self._dirty = True
        self._pose_if_dirty()
        self.plotter.update()

    def _pose_if_dirty(self) -> int | None:
        """Skin the current frame into the mesh if it is not the one shown; the frame
        posed, or None if nothing changed."""
        if not self._dirty:
            return None
        self._dirty = False
        motion = performed_motion(self._document.project)  # the face's layers on top
        frame = min(self._document.frame, motion.num_frames - 1)
        shown = self._shown
        if shown is not None and shown[0] is self.actor and shown[1] is motion \
                and shown[2] == frame:
            return None
        start = time.perf_counter()
        try:
            output = self._forward_frame(motion, frame)
            self.actor.pose(output.vertices[0])
        except Exception as error:
            self._pose_failed(error)
            return None
        self._joints = np.asarray(output.joints[0])
        self._update_guides(motion, frame)
        if not self._aimed:
            self._aimed = True
            self._aim(self.camera_preset)
        self.plotter.renderer.ResetCameraClippingRange()
        # Holding the motion itself (not its id) so a new motion can never pass for it.
        self._shown = (self.actor, motion, frame)
        self.last_pose_ms = (time.perf_counter() - start) * 1000
        self._unpainted_frame = frame
        self._set_fxaa(False)
        self._start_refine()
        return frame

    def _forward_frame(self, motion, frame: int):
        body = self.actor.body
        frames = np.array([frame])
        if isinstance(body, SmplxBody):
            # One frame is too little work to share: with the 2 cores busy (a job, the
            # software renderer) torch's second thread made a 10 ms forward 50-70 ms.
            import torch

            threads = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return body.forward(motion, frames=frames)
            finally:
                torch.set_num_threads(threads)
        return body.forward(motion, frames=frames)

    # ------------------------------------------------------------ motion guides
    def set_guides(self, *, trails: bool | None = None, onion: bool | None = None) -> None:
        """Switch the wrist and fingertip trails and the onion skin of the neighbouring
        keys on or off (None: as they are)."""
        if trails is not None:
            self.guides.trails_on = bool(trails)
        if onion is not None:
            self.guides.onion_on = bool(onion)
        self.refresh_guides()

    def refresh_guides(self) -> None:
        """Redraw the guides for the project and range as they are now (the timeline
        scrolled or zoomed, say)."""
        motion = performed_motion(self._document.project)
        if self._update_guides(motion, min(self._document.frame, motion.num_frames - 1)):
            self.plotter.update()

    def _update_guides(self, motion, frame: int) -> bool:
        visible = self.visible_frames() if self.visible_frames is not None else (
            0, motion.num_frames - 1)
        keys = [key.frame for key in self._document.project.keyframes]
        try:
            return self.guides.update(self.actor.body, motion, frame, visible, keys)
        except Exception as error:  # a guide is an aid: its failure never stops the view
            self.avatar_message.emit(f"Could not draw the motion guides: {error}")
            return False

    def _pose_failed(self, error: Exception) -> None:
        name = getattr(self.actor.body, "name", "the avatar")
        if self.actor.body is not self._default_body:
            message = (f"Could not pose {name} ({error}); showing the default avatar")
            self.avatar_fallback = True
            QTimer.singleShot(0, lambda: self.set_body_model(self._default_body))
        else:
            message = f"Could not pose {name} at this frame: {error}"
        self.avatar_message.emit(message)

    def _before_paint(self) -> None:
        self._paint_started = time.perf_counter()
        self._pose_if_dirty()

    def _after_paint(self) -> None:
        self.paints += 1
        self.last_paint_ms = (time.perf_counter() - self._paint_started) * 1000
        if self._unpainted_frame is not None:
            self.frames_rendered += 1
            self._announced_frame = self._unpainted_frame
            self._unpainted_frame = None
            self._announce.start()

    def _emit_frame_shown(self) -> None:
        self.frame_shown.emit(self._announced_frame)

    # ------------------------------------------------------------ quality
    def set_quality(self, quality: str) -> None:
        """"draft": never anti-aliased; "high": still frames redrawn with FXAA."""
        if quality not in QUALITIES:
            raise ValueError(f"render quality: expected one of {QUALITIES}, got {quality!r}")
        self.quality = quality
        self._set_fxaa(False)
        self._start_refine()
        self.plotter.update()

    def _set_fxaa(self, on: bool) -> None:
        if not on:
            self._refine.stop()
        self.plotter.renderer.SetUseFXAA(bool(on))

    def _start_refine(self) -> None:
        if self.quality == "high":
            self._refine.start()

    def _refine_still_frame(self) -> None:
        self._set_fxaa(True)
        self.plotter.update()

    @property
    def antialiased(self) -> bool:
        """Whether the next paint is anti-aliased (a refined still frame)."""
        return bool(self.plotter.renderer.GetUseFXAA())

    # ------------------------------------------------------------ body models
    def set_body_model(self, body) -> None:
        """Show ``body`` (a BodyModel, e.g. the default avatar or ``SmplxBody``) posed at
        the current frame; its mesh replaces the old one (the camera stays)."""
        if body is self.actor.body:
            return
        self.actor.remove()
        self.actor = BodyActor(self.plotter, body)
        self._shown = None
        self.body_changed.emit(getattr(body, "name", type(body).__name__))
        self._schedule()

    def recolour(self) -> None:
        """Colour the mesh again from the saved settings (the clothing colours)."""
        self.actor.recolour()
        self.plotter.update()

    def use_avatar(self, choice: AvatarChoice | str | None = None, smplx_dir=_UNSET) -> str:
        """Show the avatar ``choice`` ("default" or "smplx"; None = the project's).

        SMPL-X comes from ``smplx_dir`` if given (kept for later switches), else from
        ``self.smplx_dir``, $SIGNSTUDIO_SMPLX_DIR, then the saved settings. When its
        files are missing or unusable the default avatar is shown instead. Returns the
        message (also emitted as ``avatar_message``) saying which avatar is shown, or
        why SMPL-X is not.
        """
        if smplx_dir is not _UNSET:
            self.smplx_dir = smplx_dir
        choice = AvatarChoice(self._document.project.avatar if choice is None else choice)
        self._avatar_choice = choice
        self.avatar_fallback = False
        if choice is AvatarChoice.SMPLX:
            try:
                body = self._smplx_body()
            except (OSError, ValueError, KeyError, ImportError, RuntimeError) as error:
                self.avatar_fallback = True
                self.set_body_model(self._default_body)
                message = (f"SMPL-X not shown: {error}. Showing the default avatar; set the "
                           "SMPL-X model folder in Settings.")
            else:
                self.set_body_model(body)
                message = f"Avatar: {body.name} from {body.model_file}"
        else:
            self.set_body_model(self._default_body)
            message = f"Avatar: {getattr(self._default_body, 'name', 'default avatar')}"
        self.avatar_message.emit(message)
        return message

    def _smplx_body(self) -> SmplxBody:
        """The SMPL-X model of the configured folder, loaded once per file version.

        Raises SmplxModelNotFound (an OSError) with the folders it looked in."""
        from engine.settings import resolve_smplx_dir

        folder = resolve_smplx_dir(self.smplx_dir)
        path = find_smplx_model_file(folder)
        key = (str(path.resolve()), path.stat().st_mtime_ns)
        if key not in self._smplx_cache:
            self._smplx_cache = {key: SmplxBody(path.parent)}
        return self._smplx_cache[key]

    def _follow_project_avatar(self) -> None:
        if AvatarChoice(self._document.project.avatar) is not self._avatar_choice:
            self.use_avatar()

    # ------------------------------------------------------------ camera
    def set_camera(self, preset: str) -> None:
        """Aim a preset of ``engine.export.render.CAMERA_PRESETS`` at the current pose."""
        if preset not in CAMERA_PRESETS:
            raise ValueError(f"camera preset: expected one of {sorted(CAMERA_PRESETS)}, "
                             f"got {preset!r}")
        self.camera_preset = preset
        if self._joints is None:
            self._aimed = False
            return
        self._aim(preset)
        self._set_fxaa(False)
        self._start_refine()
        self.plotter.update()

    def _aim(self, preset: str) -> None:
        size = self.plotter.window_size
        focus, direction, height = camera_view(preset, self._aim_joints(preset),
                                               size[0] / max(size[1], 1))
        camera = self.plotter.camera
        camera.view_angle = VIEW_ANGLE_DEG
        distance = camera_distance(height)
        camera.position = tuple(focus + distance * direction)
        camera.focal_point = tuple(np.asarray(focus, np.float64))
        camera.up = (0.0, 1.0, 0.0)
        self.plotter.renderer.ResetCameraClippingRange()

    def _aim_joints(self, preset: str) -> np.ndarray:
        """The joints a preset is aimed at: a close-up frames the whole utterance's
        signing (its signs' frames, as video export does), so it does not show the
        hips at frame 0 or lose a hand that travels; other presets the current pose."""
        if CAMERA_PRESETS[preset].focus not in ("hands", "face_hands", "face"):
            return self._joints
        project = self._document.project
        sample = aim_frames_sample(project.motion.num_frames, signs_span(project.segments))
        try:
            return self.actor.body.forward(project.motion, frames=sample).joints
        except Exception:  # the pose itself is reported by _pose_failed; keep the view
            return self._joints

    # ------------------------------------------------------------ output
    def screenshot(self) -> np.ndarray:
        """(H, W, 3) uint8 of the current frame as the view draws it now."""
        self._pose_if_dirty()
        # pyvista reads the last rendered image; a paint may still be pending.
        self.plotter.render()
        return np.asarray(self.plotter.screenshot(return_img=True))[..., :3].copy()

    def close_view(self) -> None:
        for timer in (self._refine, self._announce, self._pending, self._avatar_sync):
            timer.stop()
        self.plotter.before_paint = self.plotter.after_paint = None
        self.plotter.close()
