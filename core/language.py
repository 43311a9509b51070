"""Which language a learner reads: English or Chinese (the seed and its readers are Chinese).

``stepbox step --lang zh``, ``stepbox exercises --lang zh`` and the notebooks'
``open_lab(..., lang="zh")`` ask for it; without ``--lang`` a Chinese locale picks it
(LC_ALL, LC_MESSAGES, LANG -- the first one set, as the C library reads them).
"""

from __future__ import annotations

import os

LANGUAGES = ("en", "zh")


def language(lang: str | None = None) -> str:
    """ "zh" when asked, or under a Chinese locale (LANG=zh_CN.UTF-8); else "en"."""
    if lang:
        return "zh" if lang.lower().startswith("zh") else "en"
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


__all__ = ["LANGUAGES", "language"]
