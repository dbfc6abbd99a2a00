"""A throwaway PostgreSQL server, for mandao's own tests and benchmarks (not public API).

Debian's ``postgresql`` package puts the server's programs in
``/usr/lib/postgresql/N/bin``, off ``PATH``. :class:`Cluster` makes a cluster in a new
temporary folder with ``initdb``, starts it with ``pg_ctl -w`` (which returns once the
server accepts connections), listening on a Unix socket in that folder and nowhere else
(``listen_addresses=''``), and deletes the folder when it stops. ``initdb`` refuses to run
as root: as root, the server runs as ``postgres`` (``runuser``), the folder given to it.

The server keeps PostgreSQL's default durability (``fsync`` and ``synchronous_commit``
on): benchmarks against it measure what a user's server does. Its superuser
(:data:`SUPERUSER`) logs in without a password on the socket; :data:`PASSWORD_USER` must
give :data:`PASSWORD` (``scram-sha-256``), for tests of URLs that carry one.

    with Cluster() as cluster:
        url = cluster.create_database("t_1")  # postgresql://mandao@/t_1?host=/tmp/...
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

__all__ = ["PASSWORD", "PASSWORD_USER", "SUPERUSER", "Cluster", "programs"]

SUPERUSER = "mandao"
PASSWORD_USER = "mandao_pw"
PASSWORD = "pg-S3cret-pass"  # a test fixture's password, not a secret

_HBA = f"local all {PASSWORD_USER} scram-sha-256\nlocal all all trust\n"


def programs() -> Path | None:
    """The folder of the newest installed server's programs (``initdb``, ``pg_ctl``,
    ``postgres``), or None when there is none."""

    def version(folder: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", folder.parent.name))

    found = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name[:1].isdigit()]
    for folder in sorted(found, key=version, reverse=True):
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


class Cluster:
    """A PostgreSQL cluster of its own, in a temporary folder (see the module doc).

    Args:
        bindir: the server's programs (default: :func:`programs`).
        timeout: seconds ``pg_ctl`` waits for the server to start or stop.
    """

    def __init__(self, bindir: Path | None = None, *, timeout: float = 120.0) -> None:
        found = bindir or programs()
        if found is None:
            raise RuntimeError("no PostgreSQL server programs in /usr/lib/postgresql/*/bin")
        self.bindir = found
        self.timeout = timeout
        self.folder: Path | None = None
        self._as: list[str] = []

    @property
    def socket(self) -> Path:
        """The folder of the server's Unix socket."""
        if self.folder is None:
            raise RuntimeError("the cluster is not started")
        return self.folder

    def url(self, database: str = "postgres", *, user: str = SUPERUSER, password: str = "") -> str:
        """A libpq URL of ``database`` on this server, over its socket."""
        login = f"{user}:{password}" if password else user
        return f"postgresql://{login}@/{database}?host={self.socket}"

    def _run(self, *args: str) -> None:
        result = subprocess.run(  # noqa: S603 (the server's own programs, our arguments)
            [*self._as, *args], cwd=self.folder, capture_output=True, text=True, check=False,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({result.returncode}): "
                f"{(result.stderr or result.stdout).strip()}"
            )

    def start(self) -> Cluster:
        """Make the cluster and start its server; return self."""
        root = os.geteuid() == 0  # initdb refuses root: the server runs as postgres
        where = _reachable() if root else None
        self.folder = Path(tempfile.mkdtemp(prefix="mandao-pg-", dir=where))
        try:
            if root:
                import pwd

                entry = pwd.getpwnam("postgres")
                os.chown(self.folder, entry.pw_uid, entry.pw_gid)
                self._as = ["runuser", "-u", "postgres", "--"]
            data = self.folder / "data"
            self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", SUPERUSER,
                      "--auth=trust", "-E", "UTF8", "--locale=C", "--no-instructions")  # fmt: skip
            (data / "pg_hba.conf").write_text(_HBA, encoding="utf-8")
            options = (
                f"-c listen_addresses='' -c unix_socket_directories='{self.folder}' "
                "-c max_connections=300"
            )
            self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-l",
                      str(self.folder / "server.log"), "-o", options, "-w", "-t",
                      str(int(self.timeout)), "start")  # fmt: skip
            self._admin(
                f"CREATE ROLE {PASSWORD_USER} LOGIN CREATEDB PASSWORD '{PASSWORD}'",
            )
        except BaseException:
            self.stop()
            raise
        return self

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql.encode())

    def create_database(self, name: str = "", *, owner: str = SUPERUSER) -> str:
        """A new, empty database (named ``name``, or at random); its URL."""
        name = name or f"t_{secrets.token_hex(6)}"
        self._admin(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name``, ending the sessions still connected to it."""
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server (if it runs) and delete the cluster's folder."""
        folder, self.folder = self.folder, None
        if folder is None:
            return
        try:
            if (folder / "data" / "postmaster.pid").exists():
                self.folder = folder
                self._run(str(self.bindir / "pg_ctl"), "-D", str(folder / "data"), "-m",
                          "fast", "-w", "-t", str(int(self.timeout)), "stop")  # fmt: skip
        finally:
            self.folder = None
            shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _reachable() -> str | None:
    """Where root makes the folder of a server that runs as postgres: the temporary
    folder, or ``/tmp`` when postgres could not reach into it (a private ``TMPDIR``, as a
    test runner's per-test folders are: mode 0700)."""
    base = Path(tempfile.gettempdir()).resolve()
    if all(folder.stat().st_mode & stat.S_IXOTH for folder in (base, *base.parents)):
        return None
    return "/tmp"  # noqa: S108 (the one folder every user may reach; mkdtemp's own, 0700)
