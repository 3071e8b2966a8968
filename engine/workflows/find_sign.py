"""Find a sign from a photo of a handshape: the lexicon entries whose hand looks most
like it, by MediaPipe hand landmarks and/or by CLIP image embeddings of each entry's
rendered hand. The CLI's ``find-sign`` and the studio's image drop both use
``SignFinder``, which keeps the (slow to build) indexes while the lexicon is unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from engine.jobs import CancelToken, Progress, no_progress
from engine.motion.errors import UsageError

#: "auto": MediaPipe, then CLIP too when CLIP weights are configured (the studio's way).
ROUTES = ("mediapipe", "clip", "both", "auto")


@dataclass(frozen=True)
class FindSignOptions:
    """``top``: matches per ranking. ``mirrored``: the photo is a selfie (front
    camera). ``clip_weights``/``clip_model``: override the configured CLIP files."""

    language: str
    top: int = 5
    route: str = "auto"
    mirrored: bool = False
    clip_weights: str | None = None
    clip_model: str | None = None

    def __post_init__(self):
        if self.route not in ROUTES:
            raise UsageError(f"route: expected one of {', '.join(ROUTES)}, got {self.route!r}")
        if not 1 <= self.top <= 1000:
            raise UsageError(f"top: expected 1 to 1000 matches, got {self.top!r}")


@dataclass
class FoundSigns:
    """``rankings``: route ("mediapipe", "clip") -> matches, best first, in the order
    they were run. ``notes``: route -> one line the user should see (e.g. MediaPipe
    found no hand, so only CLIP answered)."""

    rankings: dict[str, list] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    clip_model: str = ""   # the CLIP architecture that ranked, when CLIP did

    @property
    def matches(self) -> list:
        """Every ranking, one after the other (MediaPipe's first)."""
        return [match for ranking in self.rankings.values() for match in ranking]


class SignFinder:
    """Finds signs in one open ``LexiconStore``; use it from one thread (the store's)."""

    def __init__(self, store):
        self._store = store
        self._handshapes = self._handshapes_key = None
        self._clip_index = self._clip_key = None

    def find(self, image: str | Path, options: FindSignOptions, *,
             progress: Progress = no_progress, cancel: CancelToken | None = None) -> FoundSigns:
        """Rank the lexicon's entries of ``options.language`` against ``image``.

        Raises ``ImageQueryError`` for an unreadable image or (MediaPipe alone) a photo
        without a hand, ``ClipWeightsError`` for configured but unusable CLIP weights,
        and ``UsageError`` when CLIP is asked for but no weights are configured.
        """
        from engine.generate.image_match import ImageQueryError
        from engine.learn.encoders import configured_clip_encoder

        # CLIP only when asked (a MediaPipe search must not need, or load, CLIP weights).
        encoder = (None if options.route == "mediapipe"
                   else configured_clip_encoder(options.clip_weights, options.clip_model))
        if encoder is None and options.route in ("clip", "both"):
            raise UsageError("no CLIP weights configured; pass --clip-weights PATH, set "
                             "$SIGNSTUDIO_CLIP_WEIGHTS or run `signstudio-cli config set "
                             "clip_weights PATH`")
        routes = [route for route, wanted in (
            ("mediapipe", options.route != "clip"),
            ("clip", options.route in ("clip", "both") or encoder is not None
             and options.route == "auto")) if wanted]
        found = FoundSigns(clip_model=encoder.model_name if encoder is not None else "")
        for route in routes:
            if route == "mediapipe":
                try:
                    found.rankings[route] = self._by_landmarks(image, options)
                except ImageQueryError as error:
                    if len(routes) == 1 or "no hand found" not in error.problem:
                        raise
                    found.notes[route] = str(error)  # the CLIP ranking may still answer
            else:
                found.rankings[route] = self._by_clip(image, options, encoder, progress,
                                                      cancel, found.notes)
        return found

    def _by_landmarks(self, image, options: FindSignOptions) -> list:
        from engine.generate.image_match import HandshapeIndex, match_image

        key = (options.language, len(self._store))
        if self._handshapes_key != key:  # hand descriptors: built once per lexicon state
            self._handshapes = HandshapeIndex(self._store, options.language)
            self._handshapes_key = key
        return match_image(image, self._store, options.language, top=options.top,
                           mirrored=options.mirrored, index=self._handshapes)

    def _by_clip(self, image, options: FindSignOptions, encoder, progress, cancel,
                 notes: dict[str, str]) -> list:
        from engine.generate.clip_match import ClipIndex, match_image_clip
        from engine.generate.image_match import read_query_image

        query = read_query_image(image)  # a bad image fails before the index is built
        language = options.language
        # Entry ids change whenever an entry is added or replaced: rebuild then (the
        # embeddings cache beside the lexicon makes a rebuild cheap).
        key = (language, encoder.identity, tuple(e.id for e in self._store.list(language)))
        if self._clip_key != key:
            from engine.export.thumbnails import HandThumbnails

            with HandThumbnails() as thumbnails:
                self._clip_index = ClipIndex.build(self._store, language, encoder, thumbnails,
                                                   progress=progress, cancel=cancel)
            self._clip_key = key
            if self._clip_index.rendered:
                notes["clip"] = (f"embedded {self._clip_index.rendered} signs, cached in "
                                 f"{self._clip_index.cache_path}")
        return match_image_clip(query, language, self._store, encoder, None, options.top,
                                index=self._clip_index)


def candidate_thumbnails(store, entry_ids, size: int = 64, *, progress: Progress = no_progress,
                         cancel: CancelToken | None = None) -> dict[int, bytes]:
    """{entry id: PNG bytes} of each entry's right hand at its steadiest frame, a
    ``size`` pixels square close-up: what a list of find-sign's candidates shows beside
    each gloss, so a user sees the handshape, not only its name."""
    import io

    from PIL import Image

    from engine.body import default_avatar
    from engine.body.tips import hand_points
    from engine.export.thumbnails import HandThumbnails
    from engine.generate.image_match import steadiest_frame

    body = default_avatar()
    wanted = list(dict.fromkeys(entry_ids))
    pictures: dict[int, bytes] = {}
    with HandThumbnails(body, size=size) as render:
        for number, entry_id in enumerate(wanted, start=1):
            if cancel is not None:
                cancel.raise_if_cancelled()
            motion = store.get(entry_id).motion
            frame = steadiest_frame(hand_points(body, motion, "right"))
            buffer = io.BytesIO()
            Image.fromarray(render(motion, [frame])[0]).save(buffer, format="PNG")
            pictures[entry_id] = buffer.getvalue()
            progress(number, len(wanted), f"picture {number} of {len(wanted)}")
    return pictures
