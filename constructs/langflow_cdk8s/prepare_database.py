"""Runs inside the runtime's init container (the Langflow image's Python and psycopg): makes sure the
database of this unit's revision exists, marks it as in use, and drops the unit's databases that no
kept revision uses any more.

Each revision of a runtime unit gets its own database, so a pod serves exactly the flows it was
started with, however many other pods start later (see the runtime's state model in the README).
Connection settings come from libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGSSLMODE,
PGDATABASE: the database the operator created); TARGET_DATABASE, UNIT_PREFIX and KEEP say what to
create and what to prune. The role needs CREATEDB.
"""

import datetime
import os
import re
import sys

import psycopg
from psycopg import sql

MARK = "langflow-cdk8s revision, last started "


def main() -> int:
    target, prefix, keep = os.environ["TARGET_DATABASE"], os.environ["UNIT_PREFIX"], int(os.environ["KEEP"])
    try:
        connection = psycopg.connect(autocommit=True, connect_timeout=30)
    except psycopg.Error as error:
        print(f"prepare-database: cannot connect to {os.environ.get('PGHOST')}: {error}", file=sys.stderr)
        return 1
    with connection:
        # One pod of a unit at a time: concurrent CREATE DATABASE of one name would fail.
        connection.execute("SELECT pg_advisory_lock(hashtext(%s))", (prefix,))
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (target,)).fetchone()
        if not exists:
            try:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target)))
            except psycopg.errors.InsufficientPrivilege:
                user = os.environ.get("PGUSER", "")
                print(f"prepare-database: role {user!r} may not create databases; "
                      f"run ALTER ROLE \"{user}\" CREATEDB as the server's administrator", file=sys.stderr)
                return 1
            print(f"prepare-database: created {target}")
        stamp = datetime.datetime.now(datetime.timezone.utc).isoformat()
        connection.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(target),
                                                                        sql.Literal(MARK + stamp)))
        rows = connection.execute(
            "SELECT d.datname, shobj_description(d.oid, 'pg_database') FROM pg_database d "
            "WHERE starts_with(d.datname, %s) AND d.datname <> %s", (prefix, target)).fetchall()
        own = re.compile(re.escape(prefix) + "[0-9a-f]{10}")  # this unit's revisions, not a longer unit name's
        used = sorted(((comment or "").removeprefix(MARK), name) for name, comment in rows
                      if own.fullmatch(name) and (comment or "").startswith(MARK))
        for _, name in used[: max(0, len(used) - (keep - 1))]:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            print(f"prepare-database: dropped {name} (older than the {keep} newest revisions)")
        print(f"prepare-database: {target} ready")
    return 0


if __name__ == "__main__":
    sys.exit(main())
