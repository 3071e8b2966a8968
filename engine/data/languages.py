"""The sign languages by the names users know them: ISO 639-3 code -> (the language's own
abbreviation, its English name)."""
from __future__ import annotations

LANGUAGES: dict[str, tuple[str, str]] = {
    "ase": ("ASL", "American Sign Language"),
    "asq": ("ÖGS", "Austrian Sign Language"),
    "bzs": ("Libras", "Brazilian Sign Language"),
    "cse": ("ČZJ", "Czech Sign Language"),
    "csq": ("HZJ", "Croatian Sign Language"),
    "eso": ("EVK", "Estonian Sign Language"),
    "gsg": ("DGS", "German Sign Language"),
    "gss": ("GSL", "Greek Sign Language"),
    "ise": ("LIS", "Italian Sign Language"),
    "jos": ("LIU", "Jordanian Sign Language"),
    "lls": ("LGK", "Lithuanian Sign Language"),
    "mfs": ("LSM", "Mexican Sign Language"),
    "psr": ("LGP", "Portuguese Sign Language"),
    "sgg": ("DSGS", "Swiss German Sign Language"),
    "ssp": ("LSE", "Spanish Sign Language"),
    "svk": ("SPJ", "Slovak Sign Language"),
    "swl": ("STS", "Swedish Sign Language"),
    "tsm": ("TİD", "Turkish Sign Language"),
    "ukl": ("UKL", "Ukrainian Sign Language"),
}

#: The short name each language goes by ("ASL"), e.g. in handshape preset names.
LANGUAGE_NAMES: dict[str, str] = {code: short for code, (short, _) in LANGUAGES.items()}


def language_label(code: str) -> str:
    """'sgg' -> 'Swiss German Sign Language (sgg)': the name, and the code the CLI's
    --lang takes; unknown codes as they are."""
    return f"{LANGUAGES[code][1]} ({code})" if code in LANGUAGES else code
