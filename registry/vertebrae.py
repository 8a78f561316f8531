"""Vertebral levels, their regions and the spellings papers use (D7 = T7)."""

THORACIC = tuple(f"T{n}" for n in range(1, 13))
LUMBAR = tuple(f"L{n}" for n in range(1, 6))
LEVELS = THORACIC + LUMBAR
LEVEL_CHOICES = [(level, level) for level in LEVELS]
THORACOLUMBAR_JUNCTION = frozenset({"T11", "T12", "L1", "L2"})

REGION_THORACIC = "thoracic"
REGION_LUMBAR = "lumbar"


def normalise_level(text: str) -> str:
    """Return the canonical level for 'T7', 't7', 'D7' or 'Th7'; ValueError otherwise."""
    value = text.strip().upper()
    if value.startswith("TH"):
        value = "T" + value[2:]
    elif value.startswith("D"):
        value = "T" + value[1:]
    if value not in LEVELS:
        raise ValueError(f"{text!r} is not a vertebral level between T1 and L5")
    return value


def region_of(level: str) -> str:
    return REGION_THORACIC if level.startswith("T") else REGION_LUMBAR


def level_index(level: str) -> int:
    """Position from cranial (T1 = 0) to caudal (L5 = 16), for ordering and adjacency."""
    return LEVELS.index(level)
