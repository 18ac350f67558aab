"""The weekly sends of the extra ESPs (Postmark, Mailgun, SFMC, Zoho), simulated column-wise.

Each platform mails its members once a week from SIM_ORIGIN (or 30 days before the window, if earlier), so a
contact's state never depends on the window. A member leaves for good after a hard bounce (the address died), a
complaint or an unsubscribe. Every draw is keyed by (seed, platform, send, contact, j) (hashed_draws.py), so an
outcome is the same whatever window it is generated in.

Only the draws that decide something are made: whether a member leaves is needed for every send, how a delivered
message was engaged with only for sends whose events can reach the window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .hashed_draws import HashedDraws
from .model import DAY, SIM_ORIGIN, Population

# platform -> (weekday of the weekly send, hour UTC, share of the random contacts on it)
CADENCE = {"postmark": (2, 15, 0.06), "mailgun": (4, 16, 0.05), "sfmc": (5, 14, 0.08), "zoho": (6, 17, 0.2)}
SPACING = 7  # seconds between two members' messages of one send
REACH = 3 * DAY  # an outcome's events all come within this long after its send (opens: up to 2 days + 10 min)

DELIVERED, HARD, SOFT = 0, 1, 2
NONE = -1  # no such event


@dataclass
class Outcomes:
    """One row per message of one platform (that can have events in the window), in send order then member order."""

    send: np.ndarray  # the weekly send: its day number since 1970-01-01
    ts: np.ndarray  # when the message went out (unix seconds)
    contact: np.ndarray
    kind: np.ndarray  # DELIVERED | HARD | SOFT
    open_at: np.ndarray  # unix seconds or NONE
    click_at: np.ndarray
    complaint_at: np.ndarray
    unsub_at: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)


def _send_days(start: dt.date, days: int, weekday: int) -> np.ndarray:
    origin = min(SIM_ORIGIN, start - dt.timedelta(days=30))
    first = origin + dt.timedelta(days=(weekday - origin.weekday()) % 7)
    end = start + dt.timedelta(days=days)
    epoch = dt.date(1970, 1, 1)
    return np.arange((first - epoch).days, (end - epoch).days, 7, dtype=np.int64)


def simulate_more(pop: Population, start: dt.date, days: int, draws: HashedDraws,
                  window: tuple[int, int]) -> dict[str, Outcomes]:
    """Each extra ESP's messages whose events can fall in `window` (unix seconds [lo, hi))."""
    n = pop.n_random
    contacts = np.arange(n, dtype=np.int64)
    out: dict[str, Outcomes] = {}
    for platform, (weekday, hour, share) in CADENCE.items():
        members = np.nonzero(draws.uniform(platform, "member", contacts) < share)[0]
        sends = _send_days(start, days, weekday)
        out[platform] = _simulate_platform(pop, platform, members, sends, hour, draws, window)
    return out


def _simulate_platform(pop: Population, platform: str, members: np.ndarray, sends: np.ndarray, hour: int,
                       draws: HashedDraws, window: tuple[int, int]) -> Outcomes:
    m, n_sends = len(members), len(sends)
    ts = (sends * DAY + hour * 3600)[:, None] + SPACING * np.arange(m, dtype=np.int64)[None, :]  # (send, member)
    reached = pop.created[members][None, :] < ts
    dead = pop.dead_at[members][None, :] <= ts
    # leave-or-stay draws for every message that is not a hard bounce (members who left already waste a few)
    alive_s, alive_k = np.nonzero(reached & ~dead)
    key_send, key_contact = sends[alive_s], members[alive_k]
    u = np.ones((3, n_sends, m))  # draws 0 (soft bounce), 4 (complaint), 5 (unsubscribe); 1.0 = not drawn
    for row, j in enumerate((0, 4, 5)):
        u[row, alive_s, alive_k] = draws.uniform(platform, key_send, key_contact, j)

    gone = np.zeros(m, dtype=bool)
    kind = np.full((n_sends, m), NONE, dtype=np.int8)
    complained = np.zeros((n_sends, m), dtype=bool)
    unsubscribed = np.zeros((n_sends, m), dtype=bool)
    for s in range(n_sends):
        sent = reached[s] & ~gone
        hard = sent & dead[s]
        soft = sent & ~dead[s] & (u[0, s] < 0.02)
        delivered = sent & ~dead[s] & ~soft
        complained[s] = delivered & (u[1, s] < 0.003)
        unsubscribed[s] = delivered & ~complained[s] & (u[2, s] < 0.004)
        kind[s] = np.where(hard, HARD, np.where(soft, SOFT, np.where(delivered, DELIVERED, NONE)))
        gone |= hard | complained[s] | unsubscribed[s]

    # keep the messages whose events can reach the window, in (send, member) order
    keep = (kind != NONE) & (ts >= window[0] - REACH) & (ts < window[1])
    s_idx, k_idx = np.nonzero(keep)
    contact = members[k_idx]
    send = sends[s_idx]
    t = ts[s_idx, k_idx]
    kd = kind[s_idx, k_idx].astype(np.int8)
    open_at = np.full(len(t), NONE, dtype=np.int64)
    click_at = np.full(len(t), NONE, dtype=np.int64)

    d = np.nonzero(kd == DELIVERED)[0]
    opened = d[draws.uniform(platform, send[d], contact[d], 1) < pop.p_open[contact[d]]]
    u2 = draws.uniform(platform, send[opened], contact[opened], 2)
    u3 = draws.uniform(platform, send[opened], contact[opened], 3)
    open_at[opened] = t[opened] + 600 + (u2 * 2 * DAY).astype(np.int64)
    clicked = u3 < pop.p_click[contact[opened]] / np.maximum(pop.p_open[contact[opened]], 1e-9)
    c = opened[clicked]
    click_at[c] = open_at[c] + 40 + (u3[clicked] * 600).astype(np.int64)

    complaint_at = np.where(complained[s_idx, k_idx], t + 3 * 3600, NONE)
    unsub_at = np.where(unsubscribed[s_idx, k_idx], np.where(open_at != NONE, open_at, t) + 120, NONE)
    return Outcomes(send, t, contact, kd, open_at, click_at, complaint_at, unsub_at)
