"""`jupyter-tracker tag | rename | note`: edit a stored run after the fact (it may still be running
elsewhere); each edit is one short transaction and is kept among the run's events."""

from __future__ import annotations

from ..errors import InvalidArgument, InvalidParam
from ..reading.query import RunRecord
from ..textfmt import tag_labels
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
        if args.remove:
            changed = record.remove_tags([tag.partition("=")[0] for tag in args.tags])
        else:
            plain = [tag for tag in args.tags if "=" not in tag]
            pairs = dict(tag.split("=", 1) for tag in args.tags if "=" in tag)  # key=value: a key/value tag
            changed = record.add_tags(plain, pairs)
    except (InvalidArgument, InvalidParam) as exc:
        raise BadInput(str(exc)) from None
    verb = "removed" if args.remove else "added"
    done = f"tags {verb}: {', '.join(changed)}" if changed else f"no tags {verb}"
    info = record.info
    print(
        f"{_label(record)}: {done}; tags now: {', '.join(tag_labels(info.tags, info.tag_values)) or '(none)'}"
    )
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
