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
    """Typer callback: platform names as the ingest specs spell them; an unknown one is a usage error."""
    if not values:
        return values
    from .ingest.specs import platforms

    known = platforms()
    names = [v.strip().lower() for v in values]
    unknown = [v for v, n in zip(values, names, strict=True) if n not in known]
    if unknown:
        raise typer.BadParameter(f"unknown platform {', '.join(map(repr, unknown))}; known: {', '.join(known)}")
    return names


PlatformsOpt = Annotated[list[str] | None, typer.Option("--platform", callback=known_platforms,
                                                        help="Only this platform (repeatable)")]
