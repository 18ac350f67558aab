"""A later HubSpot contacts export carrying the lifecycle changes of POLICY rules 14-16.

A person who hard-bounced corrects their address: the CRM record keeps its Record ID and shows the new
address in the next export. The scenario registry says how many days after the bounce that happens
(`CORRECTION_DELAY_DAYS`); a pending correction is a record that gained a mobile number with SMS consent.
The file is named after the window, like every drop, so drops never overwrite each other.
"""

from __future__ import annotations

import numpy as np

from . import scenarios as sc
from .model import DAY, Population
from .summary import Summary, Window
from .writers_hubspot import HUBSPOT_HEADER, csv_line, fmt_minutes

UPDATE_HEADER = [*HUBSPOT_HEADER, "SMS consent"]


def write_hubspot_updates(out, pop: Population, summ: Summary, win: Window) -> int:
    rows: list[list[str]] = []
    for name in [*sc.CORRECTION_DELAY_DAYS, *sc.SMS_CONSENT_SCENARIOS]:
        if name not in pop.scenario_names:
            continue
        i = pop.n_random + pop.scenario_names.index(name)
        bounced_at = int(summ.last_send[i])  # the bounced send is the scenario's last one
        if bounced_at < 0:
            continue
        if name in sc.CORRECTION_DELAY_DAYS:
            email, mobile, consent = sc.CORRECTED_ADDRESS[name], "", "false"
            modified = bounced_at + sc.CORRECTION_DELAY_DAYS[name] * DAY + 5400
        else:
            email, mobile, consent = pop.spelling["hubspot"][i], "+44 7700 900555", "true"
            modified = win.end_ts - DAY
        modified = min(modified, win.end_ts - 60)
        created, last_send, modified_s = fmt_minutes(np.array([int(pop.created[i]), bounced_at, modified]))
        rows.append([str(10001 + i), email, pop.first[i], pop.last[i], "", mobile, "", "Organic Search", "Customer",
                     "false", "", "false", "0", "false", "Marketing contact", last_send, "", "", created, modified_s,
                     consent])
    if not rows:
        return 0
    path = out / "hubspot" / "contacts" / f"hubspot_contacts_update_{win.tag}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join(csv_line(r) for r in [UPDATE_HEADER, *rows]) + "\n").encode("utf-8"))
    return len(rows)
