"""The actions of a sign in order: groups (sequence, alternatives, actions at once,
one branch per hand) and repetitions, each action a movement (``movements``) or a
change of configuration (``configuration_change``)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from engine.notation.configuration_change import replace_per_hand
from engine.notation.hamnosys import Action, ActionGroup, Movement
from engine.notation.mirroring import mirror_actions, mirror_anchor, mirror_state, mirror_track
from engine.notation.movements import run_movement
from engine.notation.phases import (
    Detour, HandState, InPlace, Phase, SynthesisContext, Track, UnsupportedNotation,
)
from engine.notation.sign_motion import sample_phase
from engine.notation.symbols import Kind


def run_actions(actions: Sequence[Action], states: dict[str, HandState],
                context: SynthesisContext) -> dict[str, HandState]:
    """``actions`` one after the other, their phases appended to ``context.phases`` (and
    the last action's kept in ``context.last`` for a repetition); returns the hands'
    states after them."""
    index = 0
    actions = list(actions)
    while index < len(actions):
        action = actions[index]
        if isinstance(action, Movement) and action.kind is Kind.REPETITION:
            before = len(context.phases)
            states = _repeat(action, context.last, states, context)
            context.last = context.phases[before:]
            index += 1
            continue
        if isinstance(action, Movement) and action.head == "replace" \
                and len(action.names) == 1 and index + 1 < len(actions) \
                and isinstance(actions[index + 1], ActionGroup):
            # replace parbegin config plus config parend: a new configuration per hand
            group = actions[index + 1]
            before = len(context.phases)
            states = replace_per_hand(group, states, context)
            context.last = context.phases[before:]
            index += 2
            continue
        before = len(context.phases)
        states = _action(action, states, context)
        if len(context.phases) > before:
            context.last = context.phases[before:]
        index += 1
    return states


def _action(action: Action, states: dict[str, HandState],
            context: SynthesisContext) -> dict[str, HandState]:
    if isinstance(action, ActionGroup):
        if action.kind == "alternatives":  # either is the sign: the first is made
            return run_actions(action.branches[0], states, context)
        if action.kind == "sequence":
            for branch in action.branches:
                states = run_actions(branch, states, context)
            return states
        # parallel, or fusion (read the same way: the actions at once, as one)
        if len(action.branches) > 2:
            raise UnsupportedNotation(f"a {action.kind} group of {len(action.branches)} branches")
        if len(action.branches) == 2:
            if "left" not in states:
                raise UnsupportedNotation("actions per hand in a one-handed sign")
            return _per_hand(action.branches, states, context)
        return _simultaneous(action.branches[0], states, context)
    return run_movement(action, states, context)


def _simultaneous(actions: Sequence[Action], states: dict[str, HandState],
                  context: SynthesisContext) -> dict[str, HandState]:
    """Actions at the same time (``parbegin moveo replace fist parend``): each action
    (with the repetitions written after it) is made from the same start, then they run
    together over the longest one's time: their displacements and paths add, the last
    change of shape or orientation is kept."""
    groups: list[list[Action]] = []
    for action in actions:
        if isinstance(action, Movement) and action.kind is Kind.REPETITION and groups:
            groups[-1].append(action)
        else:
            groups.append([action])
    tracks_list: list[dict[str, Track]] = []
    frames = 2
    for group in groups:
        scratch = context.scratch()
        run_actions(group, {s: st.copy() for s, st in states.items()}, scratch)
        if not scratch.phases:
            continue
        frames = max(frames, sum(p.frames for p in scratch.phases))
        tracks_list.append({side: _collapse(scratch.phases, side, states[side])
                            for side in states})
    combined_tracks: dict[str, Track] = {}
    for side, state in states.items():
        end = state.copy()
        offsets: list[Detour] = []
        locals_ = []
        for tracks in tracks_list:
            track = tracks[side]
            end.position = end.position + (track.end.position - track.start.position)
            if not np.allclose(track.end.rotation, track.start.rotation):
                end.rotation = track.end.rotation
            if not np.allclose(track.end.fingers, track.start.fingers):
                end.fingers, end.shape = track.end.fingers, track.end.shape
            if track.offset is not None:
                offsets.append(track.offset)
            if track.local is not None:
                locals_.append(track.local)
        offset = (lambda s, paths=tuple(offsets): sum(p(s) for p in paths)) if offsets else None
        combined_tracks[side] = Track(state, end, offset, _composed(locals_))
    context.phases.append(Phase(frames, combined_tracks, ease=False))
    return {side: track.end for side, track in combined_tracks.items()}


def _composed(changes: list) -> InPlace | None:
    """In-place changes applied one after the other (a nod while the fingers play)."""
    if not changes:
        return None
    if len(changes) == 1:
        return changes[0]

    def both(s: np.ndarray, rotations: np.ndarray, fingers: np.ndarray):
        for change in changes:
            rotations, fingers = change(s, rotations, fingers)
        return rotations, fingers
    return both


def _collapse(phases: list[Phase], side: str, start: HandState) -> Track:
    """Several phases of one hand as one track over their whole time (s from 0 to 1):
    the sampled path as an offset from the straight line, and the sampled rotations
    and fingers as an in-place change when they vary."""
    if any(phase.head is not None for phase in phases):
        raise UnsupportedNotation("a head movement inside a parallel group")
    if len(phases) == 1 and phases[0].ease is False:
        return phases[0].tracks.get(side, Track(start, start))
    samples = [(start.position[None], start.rotation[None], start.fingers[None])]
    current = start
    for phase in phases:
        samples.append(sample_phase(phase, side, current))
        if side in phase.tracks:
            current = phase.tracks[side].end
    positions = np.concatenate([p for p, _, _ in samples])
    rotations = np.concatenate([r for _, r, _ in samples])
    fingers = np.concatenate([f for _, _, f in samples])
    times = np.linspace(0.0, 1.0, len(positions))
    line = times[:, None] * (current.position - start.position) + start.position
    detour = positions - line

    def offset(s: np.ndarray) -> np.ndarray:
        return np.stack([np.interp(s, times, detour[:, k]) for k in range(3)], axis=1)

    # What the phases do beyond going evenly from the start to the end state: a turn
    # and a finger change per moment, applied on top of whatever else runs at once.
    line = Slerp([0.0, 1.0], Rotation.from_matrix(np.stack([start.rotation,
                                                             current.rotation])))(times)
    turns = Rotation.from_matrix(rotations) * line.inv()
    bends = fingers - ((1 - times)[:, None, None] * start.fingers
                       + times[:, None, None] * current.fingers)
    if np.allclose(turns.magnitude(), 0.0, atol=1e-6) and np.allclose(bends, 0.0, atol=1e-6):
        return Track(start, current, offset)
    turning = Slerp(times, turns)
    flat = bends.reshape(len(times), -1)

    def in_place(s: np.ndarray, rotations_now: np.ndarray, fingers_now: np.ndarray):
        extra = np.stack([np.interp(s, times, flat[:, k]) for k in range(flat.shape[1])],
                         axis=1).reshape(len(s), 15, 3)
        return turning(np.clip(s, 0, 1)).as_matrix() @ rotations_now, fingers_now + extra
    return Track(start, current, offset, in_place)


def _per_hand(branches, states: dict[str, HandState], context: SynthesisContext
              ) -> dict[str, HandState]:
    """parbegin actions plus actions parend: the dominant hand does the first branch,
    the other hand the second, at the same time. The other hand's branch is made as if
    it were the dominant hand's mirror image (names mirrored), then mirrored back."""
    right = context.scratch(symmetry=())
    right_end = run_actions(branches[0], {"right": states["right"].copy()}, right)["right"]
    left = context.scratch(symmetry=())
    left.initial_site = None if context.initial_site is None else mirror_anchor(
        context.initial_site)
    mirrored_end = run_actions(mirror_actions(branches[1]),
                               {"right": mirror_state(states["left"])}, left)["right"]
    if any(p.head is not None for p in right.phases + left.phases):
        raise UnsupportedNotation("a head movement inside a per-hand group")
    left_phases = [Phase(p.frames, {"left": mirror_track(p.tracks["right"])}, p.ease)
                   for p in left.phases]
    ends = {"right": right_end, "left": mirror_state(mirrored_end)}
    count = max(len(right.phases), len(left_phases))
    for index in range(count):
        tracks: dict[str, Track] = {}
        frames = 2
        for side, phases, end in (("right", right.phases, right_end),
                                  ("left", left_phases, ends["left"])):
            if index < len(phases):
                tracks[side] = phases[index].tracks[side]
                frames = max(frames, phases[index].frames)
            else:
                tracks[side] = Track(end, end)
        ease = (right.phases if index < len(right.phases) else left_phases)[index].ease
        context.phases.append(Phase(frames, tracks, ease))
    return ends


def _repeat(movement: Movement, last: list[Phase], states: dict[str, HandState],
            context: SynthesisContext) -> dict[str, HandState]:
    """A repetition of the phases of the action before it: from the start again (after
    returning there, head included), back the way it came, or on from where it ended;
    "several" makes it three times in all."""
    if not last:
        raise UnsupportedNotation("repetition with nothing before it")
    kind = movement.head
    times = 2 if "several" in kind else 1
    head_turns = [p.head for p in last if p.head is not None]
    for _ in range(times):
        if kind in ("repeatfromstart", "repeatfromstartseveral"):
            first = last[0].tracks
            back = {s: Track(states[s], first[s].start if s in first else states[s])
                    for s in states}
            head_back = (context.head.copy(), head_turns[0][0]) if head_turns else None
            context.phases.append(Phase(context.timing.frames(context.timing.repeat_return),
                                        back, head=head_back))
            context.phases.extend(last)
            states = {s: (last[-1].tracks[s].end if s in last[-1].tracks else states[s])
                      for s in states}
            if head_turns:
                context.head = head_turns[-1][1].copy()
        elif kind == "repeatreverse":
            for phase in reversed(last):
                tracks = {s: Track(t.end, t.start,
                                   (lambda x, f=t.offset: f(1 - x)) if t.offset else None,
                                   _reversed(t.local)) for s, t in phase.tracks.items()}
                turn = None if phase.head is None else (phase.head[1], phase.head[0])
                context.phases.append(Phase(phase.frames, tracks, phase.ease, turn))
            states = {s: (last[0].tracks[s].start if s in last[0].tracks else states[s])
                      for s in states}
            if head_turns:
                context.head = head_turns[0][0].copy()
        else:  # repeatcontinue(several): the same movement again from where it ended
            if head_turns:
                raise UnsupportedNotation("a head movement repeated onward (repeatcontinue)")
            for phase in last:
                tracks = {}
                for s, t in phase.tracks.items():
                    shift = states[s].position - t.start.position
                    end = t.end.copy()
                    end.position = t.end.position + shift
                    tracks[s] = Track(states[s], end, t.offset, t.local)
                context.phases.append(Phase(phase.frames, tracks, phase.ease))
                states = {s: tracks[s].end if s in tracks else states[s] for s in states}
    return states


def _reversed(change: InPlace | None) -> InPlace | None:
    """An in-place change played backwards."""
    if change is None:
        return None
    return lambda s, rotations, fingers: change(1.0 - s, rotations, fingers)
