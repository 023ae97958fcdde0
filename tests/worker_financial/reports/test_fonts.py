"""Which font PDF reports use: the one JOBMESH_PDF_FONT names (with its bold face), "builtin", or
the first known system font; a named file that is not there stops start-up naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from queue_system.settings import ConfigError
from worker_financial.reports.fonts import PdfFont, load


def font_files(folder: Path, *names: str) -> list[Path]:
    """Files with font names (their bytes do not matter to `load`, which only finds them)."""
    made = []
    for name in names:
        path = folder / name
        path.write_bytes(b"\x00\x01\x00\x00")
        made.append(path)
    return made


def test_a_named_font_comes_with_the_bold_face_beside_it(tmp_path: Path) -> None:
    regular, bold = font_files(tmp_path, "Noto.ttf", "Noto-Bold.ttf")
    assert load({"JOBMESH_PDF_FONT": str(regular)}, known=()) == PdfFont(regular, bold)
    (alone,) = font_files(tmp_path, "Plain.otf")
    assert load({"JOBMESH_PDF_FONT": str(alone)}, known=()) == PdfFont(alone, alone)
    assert load({"JOBMESH_PDF_FONT": str(alone), "JOBMESH_PDF_FONT_BOLD": str(bold)}, known=()) == PdfFont(
        alone, bold
    )


def test_builtin_or_nothing_found_is_helvetica_and_a_known_font_is_found(tmp_path: Path) -> None:
    (known,) = font_files(tmp_path, "DejaVuSans.ttf")
    assert load({"JOBMESH_PDF_FONT": "builtin"}, known=(known,)) is None
    assert load({}, known=(tmp_path / "absent.ttf",)) is None
    assert load({}, known=(tmp_path / "absent.ttf", known)) == PdfFont(known, known)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("JOBMESH_PDF_FONT", "/nowhere/font.ttf"),
        ("JOBMESH_PDF_FONT", "{folder}/notes.txt"),
        ("JOBMESH_PDF_FONT_BOLD", "/nowhere/bold.ttf"),
    ],
)
def test_a_font_file_that_is_not_there_is_refused_naming_the_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    (regular,) = font_files(tmp_path, "Noto.ttf")
    (tmp_path / "notes.txt").write_text("not a font")
    env = {"JOBMESH_PDF_FONT": str(regular), variable: value.format(folder=tmp_path)}
    with pytest.raises(ConfigError, match=variable):
        load(env, known=())
