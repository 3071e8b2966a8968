"""The default avatar can be read: eyes with an iris and pupil that follow the eye poses,
brows and lips that move with the face, plain clothing in the user's colours, the same
in renders and glTF."""
import json
import struct

import numpy as np
import pytest

from engine.body import default_avatar
from engine.body.appearance import Look, look_colours, parse_colour
from engine.body.skeleton import JOINT_INDEX
from engine.export.render import OffscreenRenderer, camera_view, pinhole_camera, vertex_colours
from engine.motion import FACE_BLENDSHAPE_INDEX, Motion
from engine.settings import Settings, clothing_colours, save_settings


@pytest.fixture(scope="module")
def looks():
    return default_avatar().look_regions


def test_every_part_is_found_and_the_hands_and_face_stay_skin(looks):
    avatar = default_avatar()
    counts = {look: int((looks == look).sum()) for look in Look}
    for look in (Look.IRIS, Look.PUPIL, Look.BROWS, Look.LIPS, Look.TOP, Look.TROUSERS,
                 Look.SHOES):
        assert counts[look] > 0, look
    dominant = avatar.skin_weights.argmax(axis=1)
    hands = np.isin(dominant, [JOINT_INDEX["left_wrist"], JOINT_INDEX["right_index2"]])
    assert np.all(looks[hands] == Look.SKIN)
    head = (dominant == JOINT_INDEX["head"]) & (avatar.vertex_region == 0)
    assert np.mean(looks[head] == Look.SKIN) > 0.9


def test_the_iris_follows_the_eyes_and_the_brows_the_face(looks):
    avatar = default_avatar()
    ahead = avatar.forward(Motion.zeros(1)).vertices[0]
    gaze = np.array([[0.0, 0.35, 0.0]], np.float32)  # to the signer's left
    turned = avatar.forward(Motion.zeros(1).replace(leye_pose=gaze, reye_pose=gaze)).vertices[0]
    iris = looks == Look.IRIS
    assert (turned[iris, 0] - ahead[iris, 0]).mean() > 0.002
    face = np.zeros((1, 52), np.float32)
    for name in ("browInnerUp", "browOuterUpLeft", "browOuterUpRight"):
        face[0, FACE_BLENDSHAPE_INDEX[name]] = 1.0
    raised = avatar.forward(Motion.zeros(1).replace(face_blendshapes=face)).vertices[0]
    brows = looks == Look.BROWS
    assert (raised[brows, 1] - ahead[brows, 1]).mean() > 0.002


def pixel_colour(image, camera, point):
    x, y = np.round(camera.project(point)).astype(int)
    return image[y, x].astype(int)


def test_a_render_shows_dark_clothes_skin_hands_and_dark_eyes(looks):
    avatar = default_avatar()
    from engine.body.reference_poses import signing_pose

    motion = signing_pose("flat")
    posed = avatar.forward(motion)
    with OffscreenRenderer(avatar, 480, 480, anti_aliasing="none") as renderer:
        focus, direction, height = camera_view("front", posed.joints, 1.0)
        renderer.look_at(focus, direction, height)
        image = renderer.render(posed.vertices[0])
    camera = pinhole_camera(focus, direction, height, 480, 480)
    chest = posed.joints[0, JOINT_INDEX["spine3"]] + [0.0, 0.0, 0.12]
    palm = posed.joints[0, JOINT_INDEX["right_middle1"]]
    assert pixel_colour(image, camera, chest).mean() < 90                 # dark top
    assert pixel_colour(image, camera, palm).mean() > 120                 # a skin hand
    left_pupil = (looks == Look.PUPIL) & (default_avatar().rest_vertices[:, 0] > 0)
    pupil = posed.vertices[0][left_pupil].mean(axis=0)
    assert pixel_colour(image, camera, pupil).mean() < 110                # not a blank eye


def test_clothing_colours_come_from_the_settings(looks, tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNSTUDIO_CONFIG_DIR", str(tmp_path))
    save_settings(Settings(top_colour="#c00000", trousers_colour="#0000c0"))
    colours = vertex_colours(default_avatar())
    assert tuple(colours[looks == Look.TOP][0]) == (192, 0, 0)
    assert tuple(colours[looks == Look.TROUSERS][0]) == (0, 0, 192)
    save_settings(Settings(top_colour="red"))
    with pytest.raises(ValueError, match="top_colour setting: colour: expected #rrggbb"):
        clothing_colours(Settings(top_colour="red"))
    default_top = tuple(look_colours()[Look.TOP])
    assert tuple(vertex_colours(default_avatar())[looks == Look.TOP][0]) == default_top
    assert parse_colour("#2e3440") == (46, 52, 64)


def test_gltf_carries_the_looks_as_materials(tmp_path):
    from engine.export.gltf import write_glb

    path = tmp_path / "a.glb"
    write_glb(Motion.zeros(2), path)
    data = path.read_bytes()
    length = struct.unpack_from("<I", data, 12)[0]
    document = json.loads(data[20:20 + length])
    names = {m["name"] for m in document["materials"]}
    assert {"skin", "iris", "pupil", "brows", "lips", "top", "trousers"} <= names
