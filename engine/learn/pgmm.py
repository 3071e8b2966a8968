"""PGMM: a pose-guided model that draws a recorded signer in any pose (seed paper 002).

From one frame of the signer (the *source*) and the keypoints of the pose wanted (the
*driving* keypoints), it draws the signer in that pose, 128 x 128 by default:

- **Encoder**: a 7 x 7 convolution, then down-sampling blocks (3 x 3 convolution,
  instance norm, ReLU, 2 x 2 average pooling): the source's features at every scale.
- **Motion**: the paper uses TPSMM's learned keypoints; ours are MediaPipe's (body,
  both hands), which the user's recording already has. Each keypoint proposes a
  translation taking the driving frame's neighbourhood back to the source's, the
  background proposes none; a small U-Net reads the driving keypoints' heatmaps
  against the source's, with the source image, into *motion features*.
- **Generator**, from the coarsest scale up, at each scale:
  - *Coarse Motion Module (CMM)*: a 7 x 7 convolution with a softmax over the motion
    features chooses, per pixel, among the proposed translations (the flow); the
    source features are warped by it, and a 3 x 3 convolution with a sigmoid gives the
    occlusion mask O, which keeps the warped features where they are seen;
  - *Pose Fusion Module (PFM)*: cross-attention, queries from the image features,
    keys and values from the driving pose's features (each a 3 x 3 convolution,
    instance norm, ReLU), added back to the image features. Attention over every pixel
    is quadratic, so at the finer scales (above ``attention_max_size``: 16 by default,
    which keeps a training step at 0.7 s on 2 cores; 32 made it 1.2 s) the pose
    features are added through a convolution instead;
  - a convolution module (two residual blocks) and an up-sampling module (2x
    interpolation, 3 x 3 convolution, instance norm, ReLU); a sigmoid at the end.
- **Pose head**: a small network that reads keypoint heatmaps from an image, trained
  with the model on the real frames. The paper's pose-distance loss compares a
  pretrained HRNet's reading of the drawn frame with the driving pose; HRNet's weights
  cannot be had offline, so this head, trained from scratch, stands in for it.

``signer_source`` (the source frame, its keypoints, the crop) travels in the state dict
as buffers, so a checkpoint alone can draw (``engine.export.photoreal``).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from engine.learn.pgmm_data import NUM_KEYPOINTS

KIND = "pgmm"


@dataclass(frozen=True)
class PgmmConfig:
    """``size``: frame side in pixels (a power of two, 16 or more); ``channels``:
    features at full size (doubling per scale, at most ``max_channels``); ``keypoints``:
    heatmap channels (``engine.learn.pgmm_data.NUM_KEYPOINTS``); ``scales``: down-sampling
    blocks; ``attention_max_size``: the largest feature map (pixels a side) the PFM
    attends over; ``sigma``: a keypoint heatmap's width in image widths."""

    size: int = 128
    channels: int = 16
    max_channels: int = 128
    keypoints: int = 57
    scales: int = 3
    attention_max_size: int = 16
    sigma: float = 0.03

    def __post_init__(self):
        if self.size < 16 or self.size & (self.size - 1):
            raise ValueError(f"model.size: expected a power of two >= 16, got {self.size}")
        if not 1 <= self.scales <= 5 or self.size >> self.scales < 4:
            raise ValueError(f"model.scales: expected 1 to 5 leaving 4 pixels or more, got "
                             f"{self.scales}")
        for name in ("channels", "max_channels", "attention_max_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"model.{name}: expected >= 1, got {getattr(self, name)}")
        if self.keypoints != NUM_KEYPOINTS:
            raise ValueError(f"model.keypoints: expected {NUM_KEYPOINTS} (the points "
                             f"engine.learn.pgmm_data reads), got {self.keypoints}")
        if not 0 < self.sigma < 0.5:
            raise ValueError(f"model.sigma: expected between 0 and 0.5, got {self.sigma}")

    def width(self, scale: int) -> int:
        """Channels at ``scale`` (0: full size)."""
        return min(self.channels * 2 ** scale, self.max_channels)


def heatmaps(points: torch.Tensor, seen: torch.Tensor, size: int, sigma: float) -> torch.Tensor:
    """(B, K, size, size) Gaussian heatmaps of ``points`` (B, K, 2) in [-1, 1] (x right,
    y down, as ``grid_sample``), zero where ``seen`` (B, K) is 0."""
    axis = torch.linspace(-1.0, 1.0, size, device=points.device)
    dx = axis[None, None, None, :] - points[..., 0, None, None]
    dy = axis[None, None, :, None] - points[..., 1, None, None]
    scale = 2 * (2 * sigma) ** 2  # sigma in image widths; the axis spans 2
    return torch.exp(-(dx ** 2 + dy ** 2) / scale) * seen[..., None, None]


def identity_grid(batch: int, size: int, device=None) -> torch.Tensor:
    """(B, size, size, 2) sampling grid that leaves an image where it is."""
    axis = torch.linspace(-1.0, 1.0, size, device=device)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([x, y], -1)[None].expand(batch, -1, -1, -1)


def proposed_grids(source: torch.Tensor, driving: torch.Tensor, seen: torch.Tensor,
                   size: int) -> torch.Tensor:
    """(B, K + 1, size, size, 2): per keypoint, the grid that takes each driving pixel
    back by the keypoint's move (source - driving); last, the identity (background). A
    keypoint not seen in both proposes no move."""
    grid = identity_grid(source.shape[0], size, source.device)
    move = (source - driving) * seen[..., None]                       # (B, K, 2)
    moved = grid[:, None] + move[:, :, None, None, :]
    return torch.cat([moved, grid[:, None]], 1)


def _block(inputs: int, outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(inputs, outputs, 3, padding=1),
                         nn.InstanceNorm2d(outputs, affine=True), nn.ReLU())


class ResBlock(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(nn.InstanceNorm2d(channels, affine=True), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 3, padding=1),
                                  nn.InstanceNorm2d(channels, affine=True), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Pyramid(nn.Module):
    """A 7 x 7 stem, then ``scales`` down blocks: features at every scale, finest first."""

    def __init__(self, inputs: int, config: PgmmConfig):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(inputs, config.width(0), 7, padding=3),
                                  nn.InstanceNorm2d(config.width(0), affine=True), nn.ReLU())
        self.down = nn.ModuleList(
            nn.Sequential(_block(config.width(s), config.width(s + 1)), nn.AvgPool2d(2))
            for s in range(config.scales))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = [self.stem(x)]
        for block in self.down:
            features.append(block(features[-1]))
        return features


class MotionNet(nn.Module):
    """Motion features at every scale from the heatmaps' difference and the source."""

    def __init__(self, config: PgmmConfig):
        super().__init__()
        self.pyramid = Pyramid(2 * config.keypoints + 3, config)
        self.up = nn.ModuleList(
            _block(config.width(s + 1) + config.width(s), config.width(s))
            for s in range(config.scales))

    def forward(self, driving_maps: torch.Tensor, source_maps: torch.Tensor,
                source: torch.Tensor) -> list[torch.Tensor]:
        features = self.pyramid(torch.cat([driving_maps, driving_maps - source_maps, source], 1))
        out = [features[-1]]
        for s in reversed(range(len(self.up))):
            up = F.interpolate(out[0], scale_factor=2.0, mode="bilinear", align_corners=False)
            out.insert(0, self.up[s](torch.cat([up, features[s]], 1)))
        return out  # finest first, like the encoder's


class CoarseMotion(nn.Module):
    """CMM at one scale: the flow chosen from the proposals, the source features warped
    by it, and the occlusion mask."""

    def __init__(self, channels: int, proposals: int):
        super().__init__()
        self.flow = nn.Conv2d(channels, proposals, 7, padding=3)
        self.mask = nn.Conv2d(channels, 1, 3, padding=1)

    def forward(self, source_features: torch.Tensor, motion: torch.Tensor,
                grids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(warped features * O, flow (B, H, W, 2), O (B, 1, H, W))."""
        choice = torch.softmax(self.flow(motion), 1)                       # (B, K+1, H, W)
        flow = (choice[..., None] * grids).sum(1)                          # (B, H, W, 2)
        warped = F.grid_sample(source_features, flow, align_corners=True,
                               padding_mode="border")
        seen = torch.sigmoid(self.mask(motion))
        return warped * seen, flow, seen


class PoseFusion(nn.Module):
    """PFM at one scale: cross-attention from the image features to the pose's."""

    def __init__(self, channels: int, attend: bool):
        super().__init__()
        self.attend = attend
        inner = max(channels // 2, 8)
        if attend:
            self.query, self.key, self.value = (_block(channels, inner), _block(channels, inner),
                                                _block(channels, channels))
            self.scale = inner ** -0.5
        else:
            self.mix = _block(2 * channels, channels)

    def forward(self, image: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        if not self.attend:
            return image + self.mix(torch.cat([image, pose], 1))
        b, c, h, w = image.shape
        q = self.query(image).flatten(2).transpose(1, 2)                   # (B, HW, C')
        k = self.key(pose).flatten(2)                                      # (B, C', HW)
        v = self.value(pose).flatten(2).transpose(1, 2)                    # (B, HW, C)
        attended = torch.softmax(q @ k * self.scale, -1) @ v
        return image + attended.transpose(1, 2).reshape(b, c, h, w)


class Pgmm(nn.Module):
    """The whole model (see the module docstring). ``forward(source, source_points,
    driving_points, seen)`` -> dict with ``image`` (B, 3, S, S) in [0, 1], ``flow``
    (B, S, S, 2) at full size and ``occlusion`` (B, 1, S, S)."""

    def __init__(self, config: PgmmConfig, use_pose_fusion: bool = True):
        super().__init__()
        self.config = config
        self.use_pose_fusion = use_pose_fusion
        scales = range(config.scales + 1)
        self.encoder = Pyramid(3, config)
        self.motion = MotionNet(config)
        self.pose = Pyramid(config.keypoints, config)
        self.cmm = nn.ModuleList(CoarseMotion(config.width(s), config.keypoints + 1) for s in scales)
        self.join = nn.ModuleList(
            nn.Conv2d((1 if s == config.scales else 2) * config.width(s), config.width(s), 1)
            for s in scales)
        self.pfm = nn.ModuleList(
            PoseFusion(config.width(s), config.size >> s <= config.attention_max_size)
            for s in scales)
        self.convs = nn.ModuleList(nn.Sequential(ResBlock(config.width(s)), ResBlock(config.width(s)))
                                   for s in scales)
        self.up = nn.ModuleList(_block(config.width(s + 1), config.width(s))
                                for s in range(config.scales))
        self.out = nn.Conv2d(config.width(0), 3, 7, padding=3)
        self.pose_head = nn.Sequential(_block(3, config.width(0)), nn.AvgPool2d(2),
                                       _block(config.width(0), config.width(1)),
                                       ResBlock(config.width(1)),
                                       nn.Conv2d(config.width(1), config.keypoints, 3, padding=1))
        # The signer to draw: set by the trainer (``set_source``), saved with the weights.
        self.register_buffer("source_image", torch.zeros(3, config.size, config.size))
        self.register_buffer("source_points", torch.zeros(config.keypoints, 2))
        self.register_buffer("source_seen", torch.zeros(config.keypoints))
        #: The framing the model learned, as ``pgmm_data.Framing.as_array`` gives it.
        self.register_buffer("framing", torch.zeros(8))

    def set_source(self, image: torch.Tensor, points: torch.Tensor, seen: torch.Tensor,
                   framing: torch.Tensor) -> None:
        with torch.no_grad():
            self.source_image.copy_(image)
            self.source_points.copy_(points)
            self.source_seen.copy_(seen)
            self.framing.copy_(framing)

    def maps(self, points: torch.Tensor, seen: torch.Tensor, size: int | None = None) -> torch.Tensor:
        return heatmaps(points, seen, size or self.config.size, self.config.sigma)

    def forward(self, source: torch.Tensor, source_points: torch.Tensor,
                driving_points: torch.Tensor, seen: torch.Tensor) -> dict[str, torch.Tensor]:
        config = self.config
        batch = source.shape[0]
        driving_maps = self.maps(driving_points, seen)
        source_maps = self.maps(source_points, seen)
        appearance = self.encoder(source)
        motion = self.motion(driving_maps, source_maps, source)
        pose = self.pose(driving_maps)
        x = flow = occlusion = None
        for s in reversed(range(config.scales + 1)):
            grids = proposed_grids(source_points, driving_points, seen, config.size >> s)
            warped, flow, occlusion = self.cmm[s](appearance[s], motion[s], grids)
            x = self.join[s](warped if x is None else torch.cat([x, warped], 1))
            if self.use_pose_fusion:
                x = self.pfm[s](x, pose[s])
            x = self.convs[s](x)
            if s > 0:
                x = self.up[s - 1](F.interpolate(x, scale_factor=2.0, mode="bilinear",
                                                 align_corners=False))
        image = torch.sigmoid(self.out(x))
        assert image.shape == (batch, 3, config.size, config.size)
        return {"image": image, "flow": flow, "occlusion": occlusion}

    def read_pose(self, image: torch.Tensor) -> torch.Tensor:
        """(B, K, S/2, S/2) heatmaps the pose head reads from ``image`` (B, 3, S, S)."""
        return self.pose_head(image)


def keypoint_flow_warp(source: torch.Tensor, source_points: torch.Tensor,
                       driving_points: torch.Tensor, seen: torch.Tensor,
                       sigma: float = 0.08) -> torch.Tensor:
    """The untrained baseline: each pixel moves with its nearest keypoints' moves
    (Gaussian weights, ``sigma`` in image widths; far from every keypoint, it stays) and
    the source image is warped by that flow. (B, 3, S, S)."""
    size = source.shape[-1]
    grids = proposed_grids(source_points, driving_points, seen, size)      # (B, K+1, S, S, 2)
    weights = heatmaps(driving_points, seen, size, sigma)
    weights = torch.cat([weights, torch.full_like(weights[:, :1], 0.05)], 1)
    weights = weights / weights.sum(1, keepdim=True)
    flow = (weights[..., None] * grids).sum(1)
    return F.grid_sample(source, flow, align_corners=True, padding_mode="border")
