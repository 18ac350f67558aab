"""The dbt project builds unchanged on PostgreSQL (issue 8: a warehouse target beyond DuckDB).

A real PostgreSQL server (the Debian `postgresql` package's binaries) is initialised in a temporary
folder, started on a free loopback port, and given the raw tables of a DuckDB warehouse that
`list_hygiene.ingest` built from data_samples/. Then `dbt build --target postgres` runs through the
same runner the pipeline uses, and `marts.suppression_list` must hold exactly the rows the DuckDB
build holds.

Skipped, with the reason, when the PostgreSQL binaries, psycopg2 or dbt-postgres are not installed
(`.ci/run` installs them: apt-get install -y postgresql). Set LIST_HYGIENE_PG_BIN to use another
PostgreSQL's bin folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

psycopg2 = pytest.importorskip("psycopg2", reason="psycopg2 is not installed (dbt-postgres brings psycopg2-binary)")
pytest.importorskip("dbt.adapters.postgres", reason="dbt-postgres is not installed")

from psycopg2.extras import execute_values  # noqa: E402

from list_hygiene.dbt_runner import run_dbt  # noqa: E402
from list_hygiene.pipeline import ingest_step  # noqa: E402

pytestmark = pytest.mark.e2e

DBT_BUILD = ["build", "--exclude", "test_type:data"]  # what the pipeline's transform step runs
SUPPRESSION_COLUMNS = ["email", "platform", "reason", "all_reasons", "suppressed_since", "is_permanent"]
PG_TYPES = {"VARCHAR": "text", "INTEGER": "integer", "BIGINT": "bigint", "TIMESTAMP": "timestamp",
            "BOOLEAN": "boolean", "DOUBLE": "double precision", "DATE": "date"}


def _pg_bin() -> Path | None:
    """The bin folder of the newest installed PostgreSQL (Debian: /usr/lib/postgresql/<ver>/bin)."""
    if os.environ.get("LIST_HYGIENE_PG_BIN"):
        return Path(os.environ["LIST_HYGIENE_PG_BIN"])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3].split(".")[0]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its binaries as the `postgres` system user then."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[dict[str, str]]:
    """A throwaway PostgreSQL server with an empty database `list_hygiene`; yields LIST_HYGIENE_PG_* values."""
    bin_dir = _pg_bin()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        pytest.skip("PostgreSQL server binaries not found (apt-get install -y postgresql; or set LIST_HYGIENE_PG_BIN)")
    if os.geteuid() == 0:
        try:
            server_user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` system user to run the server as")
    root = Path(tempfile.mkdtemp(prefix="lh-pg-"))
    if os.geteuid() == 0:
        os.chown(root, server_user.pw_uid, server_user.pw_gid)
    data, port = root / "data", _free_port()
    log = root / "server.log"
    subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "--username=postgres", "--auth=trust",
                                    "--encoding=UTF8", "--locale=C", "--no-sync"]),
                   check=True, capture_output=True, text=True)
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
    started = subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts,
                                              "-w", "-t", "60", "start"]), capture_output=True, text=True)
    if started.returncode:
        server_log = log.read_text() if log.exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {started.stdout}{started.stderr}\n{server_log}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                con = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
                break
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        con.autocommit = True
        con.cursor().execute("create database list_hygiene")
        con.close()
        yield {"LIST_HYGIENE_PG_HOST": "127.0.0.1", "LIST_HYGIENE_PG_PORT": str(port),
               "LIST_HYGIENE_PG_USER": "postgres", "LIST_HYGIENE_PG_PASSWORD": "", "LIST_HYGIENE_PG_DB": "list_hygiene"}
    finally:
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def copy_raw_to_postgres(duck: duckdb.DuckDBPyConnection, pg) -> dict[str, int]:
    """Every table of the DuckDB `raw` schema, created with the same columns in Postgres and filled."""
    tables = [r[0] for r in duck.execute(
        "select table_name from information_schema.tables where table_schema = 'raw' order by 1").fetchall()]
    counts: dict[str, int] = {}
    with pg.cursor() as cur:
        cur.execute("create schema if not exists raw")
        for table in tables:
            cols = duck.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'raw' and table_name = ? order by ordinal_position", [table]).fetchall()
            ddl = ", ".join(f'"{c}" {PG_TYPES.get(t, "text")}' for c, t in cols)
            cur.execute(f'drop table if exists raw."{table}" cascade')
            cur.execute(f'create table raw."{table}" ({ddl})')
            rows = duck.execute(f'select * from raw."{table}"').fetchall()
            # Postgres text cannot hold NUL characters; nothing in the samples should, but never fail on it
            rows = [tuple(v.replace("\x00", "") if isinstance(v, str) else v for v in r) for r in rows]
            names = ", ".join(f'"{c}"' for c, _ in cols)
            execute_values(cur, f'insert into raw."{table}" ({names}) values %s', rows, page_size=2000)
            counts[table] = len(rows)
    pg.commit()
    return counts


@pytest.fixture(scope="module")
def duckdb_warehouse(tmp_path_factory, samples_dir: Path) -> Path:
    """data_samples/ ingested into DuckDB and built there (the reference result)."""
    warehouse = tmp_path_factory.mktemp("pg-ref") / "ref.duckdb"
    report = ingest_step(samples_dir, warehouse)  # the pipeline's own ingest (raw tables and reference data)
    assert report["rows_loaded"] > 0
    return warehouse


def test_dbt_project_builds_on_postgres(postgres_server, duckdb_warehouse: Path, tmp_path: Path, monkeypatch) -> None:
    for key, value in postgres_server.items():
        monkeypatch.setenv(key, value)
    # keep this test's dbt artefacts out of the project's target/ (other runs may use it meanwhile)
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt_logs"))

    pg = psycopg2.connect(host="127.0.0.1", port=int(postgres_server["LIST_HYGIENE_PG_PORT"]), user="postgres",
                          dbname="list_hygiene")
    try:
        with duckdb.connect(str(duckdb_warehouse), read_only=True) as duck:
            counts = copy_raw_to_postgres(duck, pg)
        assert counts["sendgrid__events"] > 0, counts

        monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target_duckdb"))
        run_dbt(DBT_BUILD, duckdb_warehouse)
        monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target_postgres"))
        res = run_dbt(DBT_BUILD, duckdb_warehouse, target="postgres", raise_on_failure=False)
        failed = [f"{n['node']}: {(n.get('message') or '').strip()[:500]}" for n in res.failures]
        assert res.success and not failed, "dbt build --target postgres failed:\n" + "\n".join(failed)
        # the daily run again: every incremental model now takes its merging branch (stored rows + new ones)
        res = run_dbt(DBT_BUILD, duckdb_warehouse, target="postgres", raise_on_failure=False)
        failed = [f"{n['node']}: {(n.get('message') or '').strip()[:500]}" for n in res.failures]
        assert res.success and not failed, "incremental dbt build --target postgres failed:\n" + "\n".join(failed)

        select = f"select {', '.join(SUPPRESSION_COLUMNS)} from marts.suppression_list"
        with duckdb.connect(str(duckdb_warehouse), read_only=True) as duck:
            expected = {tuple(r) for r in duck.execute(select).fetchall()}
        with pg.cursor() as cur:
            cur.execute(select)
            actual = {tuple(r) for r in cur.fetchall()}
    finally:
        pg.close()
    assert expected, "the DuckDB build produced an empty suppression_list"
    missing, extra = sorted(expected - actual, key=str)[:10], sorted(actual - expected, key=str)[:10]
    assert actual == expected, f"suppression_list differs: {len(expected - actual)} rows only on DuckDB, e.g. {missing}; " \
                               f"{len(actual - expected)} only on Postgres, e.g. {extra}"
