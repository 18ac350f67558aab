"""Options the CLI commands share, checked before a command starts: a wrong path or a misspelt platform is a
one-line usage error naming the option, not a traceback (or, for a platform, a run that silently loads nothing)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DataOpt = Annotated[Path, typer.Option("--data", exists=True, file_okay=False,
                                       help="Landing folder: DATA/<platform>/<entity>/<files>")]
WarehouseOpt = Annotated[Path, typer.Option("--warehouse", dir_okay=False, help="DuckDB warehouse file")]
ExistingWarehouseOpt = Annotated[Path, typer.Option(
    "--warehouse", exists=True, dir_okay=False,
    help="DuckDB warehouse file (made by `list-hygiene run` or `ingest`)")]


def known_platforms(values: list[str] | None) -> list[str] | None:
    """Typer callback: `ingest.specs.checked_platforms` as a usage error naming the option."""
    if not values:
        return values
    from .ingest.specs import checked_platforms

    try:
        return checked_platforms(values)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


PlatformsOpt = Annotated[list[str] | None, typer.Option("--platform", callback=known_platforms,
                                                        help="Only this platform (repeatable)")]
