"""The two edits the sidebar may make: rename a run, add or remove its tags (POST, JSON bodies).

Nothing else is ever written. Each request needs Jupyter's authentication, XSRF protection (JupyterHandler
checks it on POST for cookie logins) and the Authorizer's "write" on the tracker resource; the body is
checked before the store is opened, and the store must already exist (an edit never creates one).
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from ..errors import InvalidArgument
from ..reading.query import load_run
from ..store import open_store
from ..tracking.stores import judge_running
from ..tracking.validation import check_name
from .handlers import TrackerHandler
from .payload import run_row

MAX_TAG_CHARS = 200
MAX_TAGS = 100


class EditHandler(TrackerHandler):
    """Base of the POST endpoints: the JSON body, and one edit of one run answered with its new row."""

    def json_body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"")
        except ValueError:
            raise web.HTTPError(400, "the body must be a JSON object") from None
        if not isinstance(body, dict):
            raise web.HTTPError(400, "the body must be a JSON object")
        return body

    async def edit(self, ref: str, change: Any) -> None:
        """Apply `change(record)` to run `ref` of `?db=` and answer {"run": its row as GET runs lists it}."""
        path, relative = self.db_path()

        def work() -> dict:
            if not path.is_file():
                raise web.HTTPError(404, f"no database at {relative}")
            record = load_run(ref, db=path)
            change(record)
            store = open_store(path, write=False, judge_running=judge_running)
            run = store.get_run(record.id)
            synced = store.sync_rows([run.id]).get(run.id)
            return {"run": run_row(run, store.summaries([run.id]).get(run.id, {}), synced=synced)}

        self.finish_json(await self.blocking(work))


class RenameHandler(EditHandler):
    """POST runs/REF/rename?db= {"name": "new name"} -> {"run": row}."""

    @web.authenticated
    @authorized
    async def post(self, ref: str) -> None:
        try:  # checked before the store is opened, by the same rule as in Python
            name = check_name(self.json_body().get("name"))
        except InvalidArgument as exc:
            raise web.HTTPError(400, str(exc)) from None
        await self.edit(ref, lambda record: record.rename(name))


class TagsHandler(EditHandler):
    """POST runs/REF/tags?db= {"add": [...], "remove": [...]} -> {"run": row}."""

    @web.authenticated
    @authorized
    async def post(self, ref: str) -> None:
        body = self.json_body()
        add, remove = tag_list(body, "add"), tag_list(body, "remove")
        if not add and not remove:
            raise web.HTTPError(400, 'give tags to add or remove: {"add": [...], "remove": [...]}')

        def change(record) -> None:
            if add:
                record.add_tags(add)
            if remove:
                record.remove_tags(remove)

        await self.edit(ref, change)


def tag_list(body: dict, key: str) -> list[str]:
    """`body[key]` as a list of tags (absent: none); 400 unless it is a list of non-empty strings."""
    tags = body.get(key, [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) and tag.strip() for tag in tags):
        raise web.HTTPError(400, f"{key} must be a list of non-empty strings")
    if len(tags) > MAX_TAGS:
        raise web.HTTPError(400, f"{key} has {len(tags)} tags; at most {MAX_TAGS} at once")
    long = [tag for tag in tags if len(tag.strip()) > MAX_TAG_CHARS]
    if long:
        raise web.HTTPError(400, f"tag {long[0][:40]!r}... is longer than {MAX_TAG_CHARS} characters")
    return [tag.strip() for tag in tags]
