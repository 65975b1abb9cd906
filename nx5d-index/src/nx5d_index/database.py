"""The database under the scan index: one table of rows, in SQLite (standard library) or PostgreSQL.

Each `Row` is one remembered thing -- a scan's summary, or the keys of a
listing -- with the URL it belongs to, what produced it (beamline, plugin
and nx5d versions), the [data identity][nx5d.io.identity] of the files it
was read from, the value as JSON and a digest of all of these.  The digest
is checked on every read: a row whose bytes were damaged on disk is not
used (`Database.rows` leaves it out and counts it in `Database.damaged`).

`open_database` takes a location: a path of an SQLite file (created
private when ``private``), or a ``postgresql://`` URL (the ``psycopg``
client, installed with ``nx5d-index[postgresql]``).  Errors of either
driver come out as `IndexUnavailable` (cannot be reached or written: the
caller goes on without the index), `IndexBusy` (another process holds the
lock: this row is not kept now) or `IndexDamaged` (not a database of ours,
or a damaged file: the caller rebuilds it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs

from nx5d.toolkit import redact

__all__ = [
    "FORMAT",
    "Row",
    "Database",
    "IndexUnavailable",
    "IndexBusy",
    "IndexDamaged",
    "open_database",
    "is_server_url",
]

#: The version of the table's layout; a database of another layout is emptied and filled again.
FORMAT = "1"

TABLE = "nx5d_index"
META = "nx5d_index_meta"
COLUMNS = ("kind", "url", "repository", "proposal", "scan", "producer", "identity", "value", "digest")

_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {META} (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {TABLE} (kind TEXT NOT NULL, url TEXT NOT NULL, repository TEXT NOT NULL, "
    "proposal TEXT NOT NULL, scan TEXT NOT NULL, producer TEXT NOT NULL, identity TEXT NOT NULL, "
    "value TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (kind, url))",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_by_proposal ON {TABLE} (kind, repository, proposal)",
)


class IndexUnavailable(Exception):
    """The database cannot be opened or written (a read-only folder, a server that does not answer)."""


class IndexBusy(Exception):
    """Another process holds the database's lock longer than the timeout."""


class IndexDamaged(Exception):
    """The file is not a database of the scan index, or is damaged."""


@attrs.frozen
class Row:
    """One remembered summary or listing (every field text)."""

    kind: str  #: ``"summary"``, ``"proposals"`` or ``"scans"``
    url: str  #: the scan's URL, or the URL pattern listed
    repository: str  #: the repository's URL pattern
    proposal: str  #: the proposal's key (``""`` for a repository's listing)
    scan: str  #: the scan's key (``""`` for listings)
    producer: str  #: beamline, plugin and nx5d versions (and, for listings, the naming rules)
    identity: str  #: the data identity of what it was read from, as JSON
    value: str  #: the summary or the listing, as JSON

    def digest(self) -> str:
        """The digest of every field, kept with the row and checked when it is read."""
        return _digest(attrs.astuple(self))


def _digest(fields: Sequence[str]) -> str:
    return hashlib.sha256("\x1f".join(fields).encode("utf-8", "surrogatepass")).hexdigest()


def is_server_url(location: str) -> bool:
    """Whether ``location`` names a PostgreSQL server (``postgresql://`` or ``postgres://``)."""
    return location.split("://", 1)[0].lower() in ("postgresql", "postgres")


class Database:
    """The rows of the scan index in one database (see the module documentation)."""

    #: The parameter marker of the driver's SQL.
    marker = "?"

    def __init__(self, location: str) -> None:
        self.location = location
        self.damaged = 0  #: rows left out because their digest did not match
        self._lock = threading.RLock()
        self._connection: Any = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact(self.location)!r})"

    # --- driver specifics --------------------------------------------------------

    def _connect(self) -> Any:
        raise NotImplementedError

    def _translate(self, exc: BaseException) -> Exception:
        raise NotImplementedError

    @property
    def nbytes(self) -> int:
        """The bytes the database takes."""
        raise NotImplementedError

    def remove(self) -> None:
        """Delete the database (to build it anew)."""
        raise NotImplementedError

    # --- shared SQL --------------------------------------------------------------

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[Any]:
        with self._lock:
            try:
                if self._connection is None:
                    connection = self._connect()
                    try:
                        self._prepare(connection)
                    except BaseException:  # not kept unprepared: the next use prepares it again
                        with contextlib.suppress(Exception):
                            connection.close()
                        raise
                    self._connection = connection
                cursor = self._connection.cursor()
                try:
                    yield cursor
                finally:
                    cursor.close()
            except (IndexUnavailable, IndexBusy, IndexDamaged):
                raise
            except Exception as exc:  # every driver error is one of the three kinds
                raise self._translate(exc) from exc

    def _sql(self, text: str) -> str:
        return text.replace("?", self.marker)

    def _prepare(self, connection: Any) -> None:
        cursor = connection.cursor()
        try:
            for statement in _SCHEMA:
                cursor.execute(statement)
            cursor.execute(self._sql(f"SELECT value FROM {META} WHERE name = ?"), ("format",))
            found = cursor.fetchone()
            if found is None or found[0] != FORMAT:
                cursor.execute(f"DELETE FROM {TABLE}")
                cursor.execute(self._sql(f"DELETE FROM {META} WHERE name = ?"), ("format",))
                cursor.execute(self._sql(f"INSERT INTO {META} (name, value) VALUES (?, ?)"), ("format", FORMAT))
            cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE 1 = 0")  # the columns are ours
        finally:
            cursor.close()

    def rows(
        self,
        kind: str,
        *,
        urls: Sequence[str] | None = None,
        repository: str | None = None,
        proposal: str | None = None,
    ) -> list[Row]:
        """The rows of ``kind`` with one of ``urls``, or of a ``repository`` (and ``proposal``), whose digest holds."""
        where, values = ["kind = ?"], [kind]
        if urls is not None:
            if not urls:
                return []
            where.append(f"url IN ({', '.join('?' * len(urls))})")
            values += list(urls)
        if repository is not None:
            where.append("repository = ?")
            values.append(repository)
        if proposal is not None:
            where.append("proposal = ?")
            values.append(proposal)
        query = self._sql(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE {' AND '.join(where)}")
        with self._cursor() as cursor:
            cursor.execute(query, values)
            found = cursor.fetchall()
        return list(self._checked(found))

    def _checked(self, found: Iterable[Sequence[Any]]) -> Iterator[Row]:
        for record in found:
            if len(record) != len(COLUMNS) or not all(type(v) is str for v in record):
                self.damaged += 1
                continue
            try:
                good = _digest(record[:-1]) == record[-1]
            except UnicodeError:
                good = False
            if not good:
                self.damaged += 1
                continue
            yield Row(*record[:-1])

    def put(self, rows: Sequence[Row]) -> None:
        """Keep ``rows``, replacing those of the same kind and URL, in one transaction."""
        if not rows:
            return
        names = ", ".join(COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[2:])
        statement = self._sql(
            f"INSERT INTO {TABLE} ({names}) VALUES ({', '.join('?' * len(COLUMNS))}) "
            f"ON CONFLICT (kind, url) DO UPDATE SET {updates}"
        )
        with self._cursor() as cursor, self._transaction(cursor):
            cursor.executemany(statement, [(*attrs.astuple(row), row.digest()) for row in rows])

    @staticmethod
    @contextlib.contextmanager
    def _transaction(cursor: Any, begin: str = "BEGIN") -> Iterator[None]:
        """One transaction on ``cursor``: committed at the end, rolled back on any failure -- a failed commit's
        too (one that timed out is left open, and the next ``BEGIN`` would fail)."""
        cursor.execute(begin)
        try:
            yield
            cursor.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(Exception):
                cursor.execute("ROLLBACK")
            raise

    def count(self) -> int:
        """How many rows the database holds."""
        with self._cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
            return int(cursor.fetchone()[0])

    def clear(self) -> None:
        """Delete every row."""
        with self._cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")

    def close(self) -> None:
        """Close the connection (the next use opens it again)."""
        with self._lock:
            if self._connection is not None:
                with contextlib.suppress(Exception):
                    self._connection.close()
                self._connection = None


class SqliteDatabase(Database):
    """The index in an SQLite file (Python's own ``sqlite3``), private to its user when ``private``."""

    def __init__(self, path: str, *, private: bool = False, timeout: float = 10.0) -> None:
        super().__init__(path)
        self.private = private
        self.timeout = timeout

    def _connect(self) -> Any:
        import sqlite3

        folder = os.path.dirname(os.path.abspath(self.location))
        try:
            os.makedirs(folder, mode=0o700 if self.private else 0o777, exist_ok=True)
            if self.private and not os.path.exists(self.location):
                os.close(os.open(self.location, os.O_WRONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600))
        except OSError as exc:
            raise IndexUnavailable(f"cannot create the scan index {self.location}: {exc.strerror}") from exc
        if self.private:
            self._check_private(folder)
        connection = sqlite3.connect(self.location, timeout=self.timeout, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA trusted_schema = OFF")  # a file from elsewhere runs no functions of ours
            connection.execute("PRAGMA cell_size_check = ON")  # damaged pages are found, not read
            with contextlib.suppress(sqlite3.Error):  # not on every file system (a network share): the default then
                connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            connection.close()
            raise
        return connection

    def _prepare(self, connection: Any) -> None:
        """Make the tables and check their layout in one write transaction.

        Processes opening a new index at once (a batch's workers) would
        otherwise each find no layout row and insert one: the second insert
        fails as if the file were damaged, and the file everyone uses would
        be removed.  ``BEGIN IMMEDIATE`` makes the others wait here instead.
        """
        cursor = connection.cursor()
        try:
            with self._transaction(cursor, "BEGIN IMMEDIATE"):
                super()._prepare(connection)
        finally:
            cursor.close()

    def _check_private(self, folder: str) -> None:
        """Refuse a private index in a folder, or a file, that another user owns or can write into."""
        for path in (folder, self.location):
            st = os.stat(path)
            if st.st_uid != os.geteuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                raise IndexUnavailable(
                    f"the scan index {self.location} is not private: {path} belongs to uid {st.st_uid} with mode "
                    f"{stat.S_IMODE(st.st_mode):o} (make it yours and chmod 700, or name a shared index in NX5D_INDEX)"
                )

    def _translate(self, exc: BaseException) -> Exception:
        import sqlite3

        text = str(exc).lower()
        where = f"the scan index {self.location}"
        if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return IndexBusy(f"{where} is locked by another process")
        if isinstance(exc, sqlite3.OperationalError) and (
            "unable to open" in text or "readonly" in text or "read-only" in text or "disk i/o" in text
        ):
            return IndexUnavailable(f"{where} cannot be used: {exc}")
        if isinstance(exc, sqlite3.Error | ValueError | UnicodeError | OverflowError | MemoryError):
            return IndexDamaged(f"{where} is damaged ({type(exc).__name__}: {exc})")
        return IndexUnavailable(f"{where} cannot be used: {type(exc).__name__}: {exc}")

    @property
    def nbytes(self) -> int:
        """The bytes of the file and its journal."""
        total = 0
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(OSError):
                total += os.stat(self.location + suffix).st_size
        return total

    def remove(self) -> None:
        """Delete the file and its journal (damaged: it is made anew at the next use)."""
        self.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.location + suffix)


class PostgresDatabase(Database):
    """The index on a PostgreSQL server (``psycopg``), shared by everyone who names the same URL."""

    marker = "%s"

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        super().__init__(url)
        self.timeout = timeout

    def _connect(self) -> Any:
        try:
            import psycopg
        except ModuleNotFoundError as exc:
            raise IndexUnavailable(
                f"the scan index at {redact(self.location)} needs the psycopg client, which is not installed: "
                "pip install './nx5d-index[postgresql]'"
            ) from exc
        try:
            return psycopg.connect(self.location, autocommit=True, connect_timeout=max(1, int(self.timeout)))
        except psycopg.Error as exc:
            raise IndexUnavailable(
                f"cannot reach the scan index at {redact(self.location)}: {redact(str(exc))}"
            ) from exc

    def _prepare(self, connection: Any) -> None:
        import psycopg

        cursor = connection.cursor()
        try:  # servers shared by many processes: one at a time makes the tables
            cursor.execute("SELECT pg_advisory_lock(hashtext(%s))", (TABLE,))
            try:
                super()._prepare(connection)
            finally:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", (TABLE,))
        except psycopg.errors.UndefinedColumn as exc:
            raise IndexUnavailable(
                f"the table {TABLE} at {redact(self.location)} is not a scan index's: {redact(str(exc))}"
            ) from exc
        finally:
            cursor.close()

    def _translate(self, exc: BaseException) -> Exception:
        where = f"the scan index at {redact(self.location)}"
        if type(exc).__name__ in ("LockNotAvailable", "DeadlockDetected", "SerializationFailure"):
            return IndexBusy(f"{where} is busy: {redact(str(exc))}")
        self.close()  # a broken connection is opened anew at the next use
        return IndexUnavailable(f"{where} cannot be used: {type(exc).__name__}: {redact(str(exc))}")

    @property
    def nbytes(self) -> int:
        """The bytes the table and its index take on the server."""
        with self._cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size(%s)", (TABLE,))
            return int(cursor.fetchone()[0] or 0)

    def remove(self) -> None:
        """Delete every row (a server's tables are never dropped)."""
        self.clear()


def open_database(location: str, *, private: bool = False) -> Database:
    """The database at ``location``: a ``postgresql://`` URL, else the path of an SQLite file."""
    if is_server_url(location):
        return PostgresDatabase(location)
    return SqliteDatabase(location, private=private)
