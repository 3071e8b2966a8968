"""The names users know the sign languages by (ISO 639-3 code -> common abbreviation)."""
from __future__ import annotations

LANGUAGE_NAMES: dict[str, str] = {
    "ase": "ASL", "asq": "ÖGS", "bzs": "Libras", "cse": "ČZJ", "csq": "HZJ", "eso": "EVK",
    "gsg": "DGS", "gss": "GSL", "ise": "LIS", "jos": "LIU", "lls": "LGK", "mfs": "LSM",
    "psr": "LGP", "sgg": "DSGS", "ssp": "LSE", "svk": "SPJ", "swl": "STS", "tsm": "TİD",
    "ukl": "UKL",
}


def language_label(code: str) -> str:
    """'ase' -> 'ASL (ase)'; unknown codes are shown as they are."""
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else code
