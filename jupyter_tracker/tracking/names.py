"""Readable run names: adjective-noun, as in 'brisk-otter'."""

from __future__ import annotations

import random
from collections.abc import Iterator

# fmt: off
ADJECTIVES = [
    "amber", "azure", "bold", "brave", "brisk", "calm", "clever", "cosmic", "crisp", "daring", "eager",
    "fancy", "fluent", "gentle", "glad", "golden", "happy", "hardy", "jolly", "keen", "lively", "lucid",
    "lunar", "mellow", "merry", "misty", "nimble", "noble", "polar", "quick", "quiet", "rapid", "royal",
    "rustic", "sharp", "shiny", "silent", "sleek", "smooth", "snowy", "solar", "stellar", "stoic",
    "sunny", "swift", "tidy", "vivid", "warm", "wild", "wise", "witty", "zesty",
]
NOUNS = [
    "badger", "beacon", "bison", "breeze", "canyon", "cedar", "comet", "coral", "crane", "delta",
    "falcon", "fern", "finch", "fjord", "gecko", "glacier", "harbor", "hawk", "heron", "ibis", "jaguar",
    "koala", "lagoon", "lark", "lynx", "maple", "meadow", "meteor", "moose", "nebula", "orbit", "otter",
    "panda", "pebble", "pine", "quasar", "raven", "reef", "river", "robin", "sparrow", "spruce",
    "summit", "tiger", "tundra", "walrus", "willow", "yak",
]
# fmt: on


def random_names(rng: random.Random | None = None) -> Iterator[str]:
    """Endless candidates: random pairs first, then numbered ones, so a free name is always found."""
    rng = rng or random.Random()
    for _ in range(50):
        yield f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}"
    base = f"{rng.choice(ADJECTIVES)}-{rng.choice(NOUNS)}"
    yield from numbered(base)


def numbered(name: str) -> Iterator[str]:
    """'name', then 'name-2', 'name-3', ...: a re-run cell keeps its name and gets a number."""
    yield name
    n = 2
    while True:
        yield f"{name}-{n}"
        n += 1
