"""A real PostgreSQL server with TLS, listening only on the pod network's gateway address, standing in
for the managed database outside the cluster (or the in-cluster one)."""

from __future__ import annotations

import glob
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PORT = 5432


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: run scripts/e2e-prepare.sh")
    return found[-1]


@dataclass
class Postgres:
    address: str
    root: Path = Path()

    def start(self) -> Postgres:
        self.root = Path(tempfile.mkdtemp(prefix="lfe2e-pg-"))
        shutil.chown(self.root, "postgres", "postgres")
        data = self.root / "data"
        as_postgres = ["runuser", "-u", "postgres", "--"]
        subprocess.run([*as_postgres, _bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
                       check=True, capture_output=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=postgres.e2e", "-keyout", str(data / "server.key"),
                        "-out", str(data / "server.crt")], check=True, capture_output=True)
        for name in ("server.key", "server.crt"):
            shutil.chown(data / name, "postgres", "postgres")
            (data / name).chmod(0o600)
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(f"listen_addresses = '{self.address}'\nport = {PORT}\nssl = on\n"
                       f"unix_socket_directories = '{self.root}'\nmax_connections = 200\nfsync = off\n")
        # Only TLS connections from the pod network, with passwords: `sslmode=require` is proven by use.
        (data / "pg_hba.conf").write_text(f"local all all trust\nhostssl all all {self.address}/24 scram-sha-256\n")
        subprocess.run([*as_postgres, _bin("pg_ctl"), "-D", str(data), "-l", str(self.root / "server.log"),
                        "-w", "start"], check=True, capture_output=True)
        return self

    def sql(self, statement: str, database: str = "postgres") -> str:
        result = subprocess.run(["runuser", "-u", "postgres", "--", "psql", "-h", str(self.root), "-p", str(PORT),
                                 "-d", database, "-tAX", "-v", "ON_ERROR_STOP=1", "-c", statement],
                                check=True, capture_output=True, text=True)
        return result.stdout.strip()

    def create_database(self, database: str, user: str, password: str) -> None:
        """The role and database an operator would have created before deploying."""
        quoted = password.replace("'", "''")
        if not self.sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{user}'"):
            # CREATEDB: the runtime gives each unit and revision its own database (see the README).
            self.sql(f"CREATE ROLE \"{user}\" LOGIN CREATEDB PASSWORD '{quoted}'")
        if not self.sql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'"):
            self.sql(f"CREATE DATABASE \"{database}\" OWNER \"{user}\"")

    def stop(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", _bin("pg_ctl"), "-D", str(self.root / "data"), "-m",
                        "fast", "-w", "stop"], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)
