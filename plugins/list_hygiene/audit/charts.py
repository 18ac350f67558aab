"""Charts as inline base64 PNG (matplotlib, Agg backend), so the report loads nothing from outside."""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

COLOURS = {"hard": "#c0392b", "soft": "#e67e22", "block": "#8e44ad", "complaints": "#2c3e50", "unsubscribes": "#7f8c8d",
           "active": "#27ae60", "cooling": "#f1c40f", "re_engage": "#e67e22", "sunset": "#95a5a6", "suppressed": "#c0392b"}


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def list_size(df: pd.DataFrame) -> str | None:
    if df is None or df.empty:
        return None
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(df["week_start"], df["contacts_known"], label="contacts known", color="#2980b9")
    ax.plot(df["week_start"], df["mailable"], label="mailable (not suppressed)", color="#27ae60")
    ax.fill_between(df["week_start"], df["mailable"], df["contacts_known"], color="#c0392b", alpha=0.15, label="suppressed")
    ax.set_ylabel("contacts")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _png(fig)


def rates_over_time(df: pd.DataFrame, metrics: list[str], title: str) -> str | None:
    """One panel per platform; one line per metric (weekly rate, % of messages: dbt seed send_count_basis)."""
    if df is None or df.empty:
        return None
    messages = df.groupby("platform")["messages"].sum()
    platforms = sorted(messages[messages > 0].index)  # a platform whose messages cannot be counted has no rate
    if not platforms:
        return None
    ncols = min(4, len(platforms))
    nrows = -(-len(platforms) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.6 * nrows), sharey=True, squeeze=False)
    flat = [ax for row in axes for ax in row]
    for ax, platform in zip(flat, platforms, strict=False):
        d = df[(df["platform"] == platform) & (df["messages"] > 0)]
        for m in metrics:
            ax.plot(d["week_start"], d[f"{m}_rate"] * 100, marker="o", ms=3, label=m, color=COLOURS.get(m))
        ax.set_title(platform, fontsize=10)
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    for ax in flat[len(platforms):]:
        ax.axis("off")
    for row in axes:
        row[0].set_ylabel("% of messages")
    flat[0].legend(fontsize=7, title=title, title_fontsize=7)
    fig.tight_layout()
    return _png(fig)


def provider_bars(df: pd.DataFrame) -> str | None:
    if df is None or df.empty:
        return None
    d = df.head(10).iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(d) + 1))
    left = pd.Series(0.0, index=d.index)
    for m in ("hard", "soft", "block", "complaints"):
        vals = d[f"{m}_rate"].fillna(0) * 100
        ax.barh(d["mailbox_provider"], vals, left=left, label=m, color=COLOURS[m])
        left = left + vals
    ax.set_xlabel("% of messages (stacked)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="x")
    return _png(fig)


def segment_flows(df: pd.DataFrame) -> str | None:
    if df is None or df.empty:
        return None
    labels = [f"{a} → {b}" for a, b in zip(df["from_segment"], df["to_segment"], strict=False)]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(df) + 1))
    ax.barh(labels[::-1], df["contacts"].iloc[::-1], color=[COLOURS.get(s, "#3498db") for s in df["to_segment"].iloc[::-1]])
    ax.set_xlabel("contacts")
    ax.grid(alpha=0.3, axis="x")
    return _png(fig)


def quality_runs(df: pd.DataFrame) -> str | None:
    if df is None or df.empty:
        return None
    fig, ax = plt.subplots(figsize=(8, 2.6))
    x = range(len(df))
    ax.bar(x, df["failures"], color="#c0392b", label="failures (blocked)")
    ax.bar(x, df["warnings"], bottom=df["failures"], color="#f39c12", label="warnings")
    ax.bar(x, df["skipped"], bottom=df["failures"] + df["warnings"], color="#bdc3c7", label="skipped")
    ax.set_xticks(list(x), [str(t)[:10] for t in df["checked_at"]], rotation=45, fontsize=7)
    ax.set_ylabel("checks")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="y")
    return _png(fig)
