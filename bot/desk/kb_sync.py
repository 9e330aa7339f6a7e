"""The one loop that keeps a worker's knowledge base current, whatever adapters it serves.

The rule, in one place:

* **The latest version published in the database wins when there is one.** Whichever worker
  publishes (the admin console, `evidence-desk kb import`) applies it at once; every other
  worker loads it on its next look (every `EVIDENCE_DESK_KB_RELOAD_SECONDS`).
* **Otherwise the KB files** (`EVIDENCE_DESK_KB_DIR`) are what the bot answers from, and an
  edited file is reloaded on the next look, as the folder's watcher always did.

So editing the files works until someone publishes; from then on the files reach the bot
through `evidence-desk kb import`, never behind the database's back. Nothing is imported at
start: a database with no version is a deployment still run from its folder. (The console's
first publish records the files as version 1 first, so that edit can be rolled back; see
`KbVersions.publish`.)

`create_app` starts it for every server, so a Slack-only or Teams-only deployment follows
the console's versions too; `evidence-desk ask` answers by the same rule (`published_knowledge`).
"""

from __future__ import annotations

import asyncio
import logging

from bot.desk.kb_versions import KbVersions
from knowledge.models import KnowledgeBase, Severity
from knowledge.store import KnowledgeStore

log = logging.getLogger(__name__)


class KbSync:
    """Keeps this worker's `KnowledgeStore` on the rule above.

    A version that no longer builds (it cannot happen for content that was validated, barring
    a changed loader) is logged and skipped: the bot keeps answering from what it has. When
    the database cannot be read, `poll` raises and the caller logs it; the KB in use stays.
    """

    def __init__(self, versions: KbVersions, store: KnowledgeStore) -> None:
        self.versions = versions
        self.store = store
        #: The database version answered from; None while the files are.
        self.version_id: int | None = None

    def apply(self, version_id: int, kb: KnowledgeBase) -> None:
        """Answer from a version just published (or found); an older one never replaces a
        newer one, whichever order the worker learns of them in."""
        if self.version_id is not None and version_id < self.version_id:
            return
        self.store.replace(kb)
        self.version_id = version_id
        log.info(
            "answering from knowledge base version %s (%d entries)", version_id, len(kb.entries)
        )

    async def poll(self) -> bool:
        """One look: a newer published version, or else edited files; True if the KB changed."""
        latest = await self.versions.latest_id()
        if latest is None:
            if self.version_id is not None:
                return False  # versions never disappear; keep what we have rather than guess
            return await asyncio.to_thread(self.store.reload_if_changed)
        if latest == self.version_id:
            return False
        found = await self.versions.get(latest)
        if found is None:
            return False
        kb, problems = found[1].build()
        if kb is None:
            errors = [p for p in problems if p.severity is Severity.ERROR]
            log.error("knowledge base version %s does not build: %s", latest, errors[:3])
            self.version_id = latest
            return False
        self.apply(latest, kb)
        return True
