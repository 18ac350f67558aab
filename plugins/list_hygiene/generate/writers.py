"""One writer per platform export format (docs/data-contracts.md §1), gathered here.

Every writer builds its lines column-wise: numpy formats ids and times, Arrow dictionaries hold the repeating strings,
DuckDB concatenates each line in one SQL pass, and the Arrow string buffers go straight to the files. Output is sorted
and every timestamp comes from the simulation, so the same inputs give the same bytes.
"""

from __future__ import annotations

from .summary import Summary, Window, summarize
from .writers_hubspot import HUBSPOT_HEADER, write_hubspot
from .writers_mailchimp_members import mc_header, write_mailchimp_members
from .writers_mailchimp_reports import write_mailchimp_reports
from .writers_sendgrid import write_sendgrid
from .writers_ses import write_ses

__all__ = ["HUBSPOT_HEADER", "Summary", "Window", "mc_header", "summarize", "write_hubspot", "write_mailchimp_members",
           "write_mailchimp_reports", "write_sendgrid", "write_ses"]
