"""What the PostgreSQL benches share: a fresh database of their own, and bulk copies of template rows."""

from __future__ import annotations

from typing import Any


def recreate_database(name: str) -> None:
    """Drop (ending its sessions) and create the bench's database `name`."""
    import psycopg2

    connection = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {name}")
    connection.close()


def columns(cursor: Any, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def copy_rows(cursor: Any, table: str, template_id: int, count: int, overrides: dict[str, str]) -> int:
    """Insert `count` copies of row `template_id` with ids after the table's last; `overrides` maps a column
    to an SQL expression of `g` (1..count). Returns the id before the first copy (copy g has id base + g,
    unless "id" is overridden)."""
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")  # noqa: S608  (table names from the benches)
    base = cursor.fetchone()[0]
    cols = columns(cursor, table)
    exprs = [overrides.get(col, f"{base} + g" if col == "id" else f"t.{col}") for col in cols]
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(exprs)} "  # noqa: S608
        f"FROM {table} t, generate_series(1, %s) g WHERE t.id = %s",
        [count, template_id],
    )
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608
    return int(base)
