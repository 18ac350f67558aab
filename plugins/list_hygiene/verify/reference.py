"""Load reference lists from maintained packages into the warehouse, so dbt reads them as a source.

Disposable domains change weekly; a hand-typed seed would rot. The package's version is stored with
the rows, so a run records which list it used.
"""

from __future__ import annotations

import importlib.metadata

import duckdb


def load_reference_tables(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    import disposable_email_domains

    version = importlib.metadata.version("disposable-email-domains")
    con.execute("create schema if not exists raw")
    con.execute(
        "create table if not exists raw.ref_disposable_domains (domain varchar, source_package varchar, source_version varchar)"
    )
    current = con.execute("select max(source_version) from raw.ref_disposable_domains").fetchone()[0]
    if current != version:
        domains = sorted({d.strip().lower() for d in disposable_email_domains.blocklist if d.strip()})
        con.begin()
        con.execute("delete from raw.ref_disposable_domains")
        con.executemany(
            "insert into raw.ref_disposable_domains values (?, 'disposable-email-domains', ?)",
            [(d, version) for d in domains],
        )
        con.commit()
    return {"ref_disposable_domains": con.execute("select count(*) from raw.ref_disposable_domains").fetchone()[0]}
