"""Which TrueType font PDF reports are written in, read once at start-up.

fpdf2's built-in Helvetica covers Latin-1 only, so a category or account named
"Продукты", "Łódź" or "Café €" would print with question marks. A TrueType font
with wider coverage is embedded instead (fpdf2 subsets it: only the glyphs a
report uses go into the file):

    JOBMESH_PDF_FONT        a .ttf/.otf file; its bold face is JOBMESH_PDF_FONT_BOLD, else the
                            file beside it named <stem>-Bold<suffix>, else the regular face
                            again. "builtin" keeps Helvetica (Latin-1).
    (unset)                 DejaVu Sans where the system has it (Debian/Ubuntu fonts-dejavu-core,
                            Fedora, Arch, Alpine paths), else Helvetica.

A file named that is missing is a ConfigError: worker-financial stops with one
line naming the variable, rather than writing reports in another font.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from queue_system.settings import ConfigError, reader

BUILTIN: Final = "builtin"
# Where distributions put DejaVu Sans (regular; the bold face is beside it as DejaVuSans-Bold.ttf).
KNOWN_FONTS: Final = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),  # Debian, Ubuntu
    Path("/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf"),  # Fedora
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),  # older Fedora, Alpine
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),  # Arch
)
_SUFFIXES: Final = (".ttf", ".otf")


@dataclass(frozen=True, slots=True)
class PdfFont:
    """A TrueType font to embed: its regular and bold faces (the same file when it has no bold)."""

    regular: Path
    bold: Path


def _font_file(variable: str, raw: str) -> Path:
    path = Path(raw).expanduser()
    if path.suffix.lower() not in _SUFFIXES or not path.is_file():
        raise ConfigError(variable, "an existing .ttf or .otf file (or builtin)", raw)
    return path


def _bold_beside(regular: Path) -> Path:
    beside = regular.with_name(f"{regular.stem}-Bold{regular.suffix}")
    return beside if beside.is_file() else regular


def load(env: Mapping[str, str] | None = None, known: tuple[Path, ...] = KNOWN_FONTS) -> PdfFont | None:
    """The font reports are written in (None: Helvetica, Latin-1 only); ConfigError on a bad value."""
    get = reader(env)
    named = get("JOBMESH_PDF_FONT")
    if named is not None and named.strip().lower() == BUILTIN:
        return None
    if named is not None:
        regular = _font_file("JOBMESH_PDF_FONT", named)
        bold = get("JOBMESH_PDF_FONT_BOLD")
        return PdfFont(regular, _font_file("JOBMESH_PDF_FONT_BOLD", bold) if bold else _bold_beside(regular))
    found = next((path for path in known if path.is_file()), None)
    return PdfFont(found, _bold_beside(found)) if found is not None else None
