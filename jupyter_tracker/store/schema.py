"""The database schema as an ordered list of migrations (sqlite-utils Migrations).

PRAGMA user_version mirrors the number of migrations applied, so the common case, an up-to-date file,
is checked with one pragma and no sqlite-utils import. A new database gets the current schema as plain
CREATE statements (create_current): sqlite-utils (which imports pandas and numpy when they are installed)
is imported only to upgrade a file written by an older schema.
"""

from __future__ import annotations

import datetime
import sqlite3

MIGRATION_SET = "jupyter-tracker"

# The columns of `runs`, in the order reads return them.
RUN_FIELDS = (
    "id", "uuid", "project", "name", "status", "created", "started", "ended", "heartbeat", "description",
    "folder", "pid", "host", "user", "notebook", "cell_source", "execution_count", "git_commit", "git_branch",
    "git_dirty", "metadata", "environment", "error", "idle", "traceback",
)  # fmt: skip
# Columns added by a later migration, with the schema version that brought them: reading an older file
# (read-only, never migrated) selects their default instead.
RUN_FIELDS_SINCE = {"idle": (4, "0.0"), "traceback": (4, "NULL")}

_V1 = [
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        project TEXT NOT NULL,
        name TEXT NOT NULL,
        status TEXT NOT NULL,
        description TEXT,
        folder TEXT NOT NULL DEFAULT '/',
        created REAL NOT NULL,
        started REAL,
        ended REAL,
        heartbeat REAL,
        pid INTEGER,
        host TEXT,
        user TEXT,
        notebook TEXT,
        cell_source TEXT,
        execution_count INTEGER,
        git_commit TEXT,
        git_branch TEXT,
        git_dirty INTEGER,
        metadata TEXT NOT NULL DEFAULT '{}',
        environment TEXT NOT NULL DEFAULT '{}',
        error TEXT,
        UNIQUE (project, name)
    )""",
    "CREATE INDEX runs_status ON runs (status)",
    "CREATE INDEX runs_folder ON runs (folder)",
    # A rowid table: params are listed in the order they were given.
    """CREATE TABLE params (
        run INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        UNIQUE (run, key)
    )""",
    """CREATE TABLE tags (
        run INTEGER NOT NULL, tag TEXT NOT NULL,
        PRIMARY KEY (run, tag)
    ) WITHOUT ROWID""",
    "CREATE INDEX tags_tag ON tags (tag)",
    # Key ids are per run, so the logging hot path numbers new keys in memory with no database round trip.
    # count..last_step are filled when the run ends; live runs are summarised from the points.
    """CREATE TABLE metric_keys (
        run INTEGER NOT NULL, id INTEGER NOT NULL, name TEXT NOT NULL,
        count INTEGER, first REAL, last REAL, min REAL, max REAL, mean REAL, last_step INTEGER,
        PRIMARY KEY (run, id)
    ) WITHOUT ROWID""",
    "CREATE UNIQUE INDEX metric_keys_name ON metric_keys (run, name)",
    # One long, narrow table; the primary key is the table (no rowid, no second copy of the data).
    # NaN is stored as NULL (SQLite has no NaN); +-inf are stored as they are.
    """CREATE TABLE metrics (
        run INTEGER NOT NULL, key INTEGER NOT NULL, step INTEGER NOT NULL, time REAL NOT NULL, value REAL,
        PRIMARY KEY (run, key, step, time)
    ) WITHOUT ROWID""",
    """CREATE TABLE events (
        id INTEGER PRIMARY KEY, run INTEGER NOT NULL, time REAL NOT NULL,
        level TEXT NOT NULL, message TEXT NOT NULL, extra TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX events_run ON events (run, time)",
    """CREATE TABLE artifacts (
        id INTEGER PRIMARY KEY, run INTEGER NOT NULL, name TEXT NOT NULL, category TEXT NOT NULL,
        path TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, mime TEXT, created REAL NOT NULL,
        UNIQUE (run, name)
    )""",
    """CREATE TABLE alerts (
        id INTEGER PRIMARY KEY, run INTEGER NOT NULL, name TEXT NOT NULL, rule TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'ok', triggered_at REAL,
        UNIQUE (run, name)
    )""",
    """CREATE TABLE folders (
        path TEXT PRIMARY KEY, description TEXT, metadata TEXT NOT NULL DEFAULT '{}',
        tags TEXT NOT NULL DEFAULT '[]'
    )""",
]

# log_extra(): the fields a run attaches to everything logged from a step/time on (cumulative per row);
# alerts: when their state last changed (triggered_at stays the time they last fired).
_V2 = [
    """CREATE TABLE run_extras (
        id INTEGER PRIMARY KEY, run INTEGER NOT NULL, step INTEGER NOT NULL, time REAL NOT NULL,
        fields TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX run_extras_run ON run_extras (run, id)",
    "ALTER TABLE alerts ADD COLUMN changed_at REAL",
]

# Listings are newest first with a LIMIT: this index lets SQLite stop after the first N runs.
_V3 = ["CREATE INDEX runs_newest ON runs (created DESC, id DESC)"]

# A resumed run's duration leaves out the time it spent ended between its segments (`idle`, seconds, added
# up at each resume): duration = end - started - idle. A failed run keeps the traceback of its user's frames
# beside the one-line `error`.
_V4 = [
    "ALTER TABLE runs ADD COLUMN idle REAL NOT NULL DEFAULT 0",
    "ALTER TABLE runs ADD COLUMN traceback TEXT",
]

# Key/value tags (MLflow's set_tag, OpsML's add_tag): a tag may carry a text value; NULL is a plain tag.
_V5 = ["ALTER TABLE tags ADD COLUMN value TEXT"]

# Runs shared with an MLflow tracking server: per run and server (`target`, its URL without credentials),
# the remote run, its experiment, which way it went (push or pull) and the watermark: a JSON record of what
# the server already has (per metric key the last point sent as [step, time, count], the params and tags
# sent, the status, the card), so a push or the live mirror sends only what is new.
_V6 = [
    """CREATE TABLE sync (
        run INTEGER NOT NULL, target TEXT NOT NULL, remote_id TEXT NOT NULL, experiment_id TEXT NOT NULL,
        direction TEXT NOT NULL, watermark TEXT NOT NULL DEFAULT '{}', synced REAL,
        PRIMARY KEY (run, target)
    ) WITHOUT ROWID""",
    "CREATE INDEX sync_remote ON sync (target, remote_id)",
]

# Append new migrations at the end; never edit a released one.
MIGRATIONS: list[tuple[str, list[str]]] = [
    ("m001_initial", _V1),
    ("m002_run_extras_alert_times", _V2),
    ("m003_runs_newest_index", _V3),
    ("m004_run_idle_and_traceback", _V4),
    ("m005_tag_values", _V5),
    ("m006_sync", _V6),
]
SCHEMA_VERSION = len(MIGRATIONS)
# An older file (read as it is, never migrated) has no tags.value: its tags read as plain ones.
TAG_VALUES_SINCE = [name for name, _ in MIGRATIONS].index("m005_tag_values") + 1
# ...and no sync table: none of its runs was shared with an MLflow server.
SYNC_SINCE = [name for name, _ in MIGRATIONS].index("m006_sync") + 1


def run_select(version: int) -> str:
    """SELECT of every RUN_FIELDS column from a file at schema `version`: columns it lacks read as their
    default, so an older file is listed as it is."""
    columns = [
        column
        if RUN_FIELDS_SINCE.get(column, (0, ""))[0] <= version
        else f"{RUN_FIELDS_SINCE[column][1]} AS {column}"
        for column in RUN_FIELDS
    ]
    return f"SELECT {', '.join(columns)} FROM runs"


# sqlite-utils' record of applied migrations, exactly as its Migrations.ensure_migrations_table() makes it,
# so that a database created by create_current() is upgraded by build_migrations() like any other.
MIGRATIONS_TABLE = [
    """CREATE TABLE "_sqlite_migrations" (
   "id" INTEGER PRIMARY KEY,
   "migration_set" TEXT,
   "name" TEXT,
   "applied_at" TEXT
)""",
    """CREATE UNIQUE INDEX "idx__sqlite_migrations_migration_set_name"
    ON "_sqlite_migrations" ("migration_set", "name")""",
]


def create_current(conn: sqlite3.Connection) -> None:
    """Create every table of the current schema in an empty database (inside the caller's transaction),
    recording each migration as applied and setting user_version; no sqlite-utils involved."""
    for statement in MIGRATIONS_TABLE:
        conn.execute(statement)
    for name, statements in MIGRATIONS:
        for statement in statements:
            conn.execute(statement)
        applied_at = str(datetime.datetime.now(datetime.timezone.utc))
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, ?, ?)",
            (MIGRATION_SET, name, applied_at),
        )
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")


def build_migrations():
    from sqlite_utils import Migrations

    migrations = Migrations(MIGRATION_SET)
    for name, statements in MIGRATIONS:

        def apply(db, statements=statements):
            for statement in statements:
                db.execute(statement)

        migrations(name=name)(apply)
    return migrations
