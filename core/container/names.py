"""Random container names in Docker's style: ``adjective_scientist``."""

from __future__ import annotations

import random

ADJECTIVES = (
    "admiring",
    "bold",
    "brave",
    "clever",
    "dazzling",
    "eager",
    "ecstatic",
    "elegant",
    "epic",
    "festive",
    "focused",
    "gifted",
    "happy",
    "jolly",
    "keen",
    "kind",
    "lucid",
    "modest",
    "nifty",
    "optimistic",
    "peaceful",
    "quirky",
    "relaxed",
    "serene",
    "sharp",
    "stoic",
    "tender",
    "upbeat",
    "vibrant",
    "wizardly",
    "youthful",
    "zen",
)
SCIENTISTS = (
    "babbage",
    "curie",
    "dijkstra",
    "einstein",
    "feynman",
    "goldberg",
    "hopper",
    "hypatia",
    "johnson",
    "kare",
    "knuth",
    "lamport",
    "lovelace",
    "mccarthy",
    "noether",
    "pike",
    "ritchie",
    "shannon",
    "thompson",
    "torvalds",
    "turing",
    "wozniak",
    "yalow",
)


def random_name(taken: set[str]) -> str:
    while True:
        name = f"{random.choice(ADJECTIVES)}_{random.choice(SCIENTISTS)}"
        if name not in taken:
            return name
        name += str(random.randint(0, 9))
        if name not in taken:
            return name
