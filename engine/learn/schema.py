"""The types model settings are declared with, so a checkpoint's manifest can be checked.

Each model's config dataclass annotates its fields with these; ``checkpoint.checked_config``
checks a manifest against them (pydantic, strict) before a module is built. The bounds
are generous for real models and far below what would exhaust memory or loop for long:
the largest shipped model is 160 wide and 4 layers deep.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field


def _odd(value: int) -> int:
    if value % 2 == 0:
        raise ValueError(f"expected an odd kernel size so frames stay centred, got {value}")
    return value


#: Unknown fields in a manifest are refused rather than dropped (a typo must not pass).
FORBID_UNKNOWN_FIELDS = {"extra": "forbid"}

Width = Annotated[int, Field(ge=1, le=4096)]
Depth = Annotated[int, Field(ge=1, le=48)]
Heads = Annotated[int, Field(ge=1, le=64)]
Kernel = Annotated[int, AfterValidator(_odd), Field(ge=1, le=63)]
Dropout = Annotated[float, Field(ge=0.0, lt=1.0)]
FrameCount = Annotated[int, Field(ge=0, le=1_000_000)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Names = Annotated[tuple[Name, ...], Field(max_length=10_000)]


def check_divisible(width: int, heads: int, what: str) -> None:
    """Attention splits ``width`` across ``heads``: refuse what torch would assert on."""
    if width % heads:
        raise ValueError(f"{what} {width} is not a multiple of heads {heads}")
