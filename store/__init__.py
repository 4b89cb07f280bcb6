"""Store: SQLite (sqlite-utils) with migrations, evidence chain and history queries.

Modules: ``db`` (open_db, migrations, SCHEMA_VERSION), ``schema`` (the migration SQL),
``models`` (frozen dataclasses), ``manuals``, ``observations`` (hash-chained fetches and
content-addressed bodies), ``versions`` (chapters, versions with section lineage, changes),
``codec`` (full-fidelity JSON of ChapterDiff/Chapter), ``history`` (find_chapter, changes_in,
failures_in, chapter_history, get_version, and the point-in-time queries of ``pointintime``),
``evidence`` (verify), ``runs``, ``drafts``; ``rows`` holds shared helpers.
"""
