"""HTML through Jinja2 templates with autoescape: one way to make an environment, for every wing's templates.

Each package that renders HTML keeps its templates in a `templates/` folder beside its modules. Jinja2 is
imported on first use, so a kernel that shows no HTML never loads it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any


@cache
def environment(package: str) -> Any:
    """The Jinja2 Environment of `package`'s templates/ folder, made once: user text is always escaped,
    a missing value is an error, None prints as nothing."""
    from jinja2 import Environment, PackageLoader, StrictUndefined
    from jinja2.ext import Extension

    class Compact(Extension):
        """Line breaks in a template's source, and the indentation after them, are not output: templates stay
        readable and a page comes out as compact as one written by hand (whitespace between inline elements
        would show). Only the template source is touched, never the values put into it."""

        def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
            return re.sub(r"\n\s*", "", source)

    return Environment(
        loader=PackageLoader(package, "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=[Compact],
        finalize=lambda value: "" if value is None else value,
    )


def render(package: str, template: str, /, **context: Any) -> str:
    """`template` of `package`'s templates/ folder, rendered with `context`."""
    return environment(package).get_template(template).render(**context)
