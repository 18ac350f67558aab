"""The rich console the commands print to: as wide as the terminal, or PIPED_WIDTH columns when piped.

Piped (make demo, an Airflow task log, a file), rich assumes 80 columns and shortens what does not fit: the summary's
sync modes came out as `no_credent…` and its alert lines folded. PIPED_WIDTH fits every table and alert line whole.
"""

from __future__ import annotations

from rich.console import Console

PIPED_WIDTH = 140


def console_for_output() -> Console:
    return Console(width=None if Console().is_terminal else PIPED_WIDTH)
