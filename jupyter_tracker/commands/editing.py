"""`jupyter-tracker tag | rename | note`: edit a stored run after the fact (it may still be running
elsewhere); each edit is one short transaction and is kept among the run's events."""

from __future__ import annotations

from ..errors import InvalidArgument, InvalidParam
from ..reading.query import RunRecord
from ..tracking.stores import store_for
from . import BadInput


def _record(args) -> RunRecord:
    store = store_for(args.db, write=False)  # opened for writing by the edit itself, like start_run does
    return RunRecord(store, store.find_run(args.run, args.project).id)


def _label(record: RunRecord) -> str:
    return f"{record.project}/{record.name} (id {record.id})"


def cmd_tag(args) -> int:
    record = _record(args)
    try:
        changed = record.remove_tags(args.tags) if args.remove else record.add_tags(args.tags)
    except (InvalidArgument, InvalidParam) as exc:
        raise BadInput(str(exc)) from None
    verb = "removed" if args.remove else "added"
    done = f"tags {verb}: {', '.join(changed)}" if changed else f"no tags {verb}"
    print(f"{_label(record)}: {done}; tags now: {', '.join(record.tags) or '(none)'}")
    return 0


def cmd_rename(args) -> int:
    record = _record(args)
    old = _label(record)
    try:
        record.rename(args.new)
    except (InvalidArgument, InvalidParam) as exc:
        raise BadInput(str(exc)) from None
    print(f"renamed {old} to {record.name!r}")
    return 0


def cmd_note(args) -> int:
    record = _record(args)
    try:
        record.add_note(" ".join(args.text))
    except (InvalidArgument, InvalidParam) as exc:
        raise BadInput(str(exc)) from None
    print(f"note added to {_label(record)}")
    return 0
