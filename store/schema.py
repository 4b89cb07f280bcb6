"""The SQL of the schema migrations (see store/db.py). Times are UTC ISO strings."""

INITIAL_SCHEMA = """
CREATE TABLE manuals (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    contents_url TEXT NOT NULL,
    amendments_url TEXT,
    content_selector TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE chapters (
    id INTEGER PRIMARY KEY,
    manual_id INTEGER NOT NULL REFERENCES manuals(id),
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    number TEXT,
    part TEXT,
    first_seen TEXT NOT NULL,
    last_listed TEXT,
    removed_at TEXT,
    missing_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE (manual_id, url)
);
CREATE INDEX chapters_url ON chapters(url);
CREATE TABLE bodies (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    compression TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL,
    checked INTEGER NOT NULL DEFAULT 0,
    changed INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    errors TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE observations (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    manual_id INTEGER REFERENCES manuals(id),
    chapter_id INTEGER REFERENCES chapters(id),
    role TEXT NOT NULL CHECK (role IN ('contents', 'chapter', 'amendments', 'robots')),
    url TEXT NOT NULL,
    final_url TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    body_sha256 TEXT REFERENCES bodies(sha256),
    observed_at TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    etag TEXT,
    last_modified TEXT,
    imported INTEGER NOT NULL DEFAULT 0,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX observations_url ON observations(url, observed_at);
CREATE INDEX observations_chapter ON observations(chapter_id, observed_at);
CREATE INDEX observations_time ON observations(observed_at);
CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    chapter_id INTEGER NOT NULL REFERENCES chapters(id),
    content_hash TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    content TEXT NOT NULL,
    links TEXT NOT NULL DEFAULT '[]',
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    last_seen TEXT NOT NULL,
    observation_id INTEGER REFERENCES observations(id),
    derived_by TEXT NOT NULL DEFAULT 'extract'
);
CREATE INDEX versions_chapter ON versions(chapter_id, valid_from);
CREATE INDEX versions_hash ON versions(content_hash);
CREATE TABLE sections (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES versions(id),
    ordinal INTEGER NOT NULL,
    number TEXT,
    title TEXT NOT NULL,
    level INTEGER NOT NULL,
    path TEXT NOT NULL,
    text TEXT NOT NULL,
    links TEXT NOT NULL,
    lineage_id TEXT NOT NULL,
    UNIQUE (version_id, ordinal)
);
CREATE INDEX sections_lineage ON sections(lineage_id);
CREATE TABLE changes (
    id INTEGER PRIMARY KEY,
    chapter_id INTEGER NOT NULL REFERENCES chapters(id),
    run_id INTEGER REFERENCES runs(id),
    detected_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    old_version_id INTEGER REFERENCES versions(id),
    new_version_id INTEGER REFERENCES versions(id),
    old_title TEXT,
    new_title TEXT,
    revised_throughout INTEGER NOT NULL DEFAULT 0,
    diff TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT ''
);
CREATE INDEX changes_time ON changes(detected_at);
CREATE INDEX changes_chapter ON changes(chapter_id, detected_at);
CREATE INDEX changes_new_version ON changes(new_version_id);
CREATE TABLE drafts (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL,
    manual TEXT NOT NULL,
    category TEXT NOT NULL,
    chapter_title TEXT NOT NULL,
    chapter_url TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL,
    generated_details TEXT NOT NULL,
    sections_cited TEXT NOT NULL DEFAULT '[]',
    change_ids TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL CHECK (status IN ('draft', 'edited', 'approved', 'rejected')),
    updated_at TEXT NOT NULL,
    updated_by TEXT
);
CREATE INDEX drafts_period ON drafts(period);
CREATE TABLE draft_events (
    id INTEGER PRIMARY KEY,
    draft_id INTEGER NOT NULL REFERENCES drafts(id),
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    old_text TEXT,
    new_text TEXT
);
CREATE INDEX draft_events_draft ON draft_events(draft_id);
"""

# 0002: re-derivations of a version's content from its stored capture (store/rederive.py):
# an auditor sees the original extraction and every later one, never a "change"; indexes for
# the audit lookups (title lookups scan a covering index, not the versions' content).
AUDIT_SCHEMA = """
CREATE TABLE derivations (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES versions(id),
    observation_id INTEGER REFERENCES observations(id),
    old_hash TEXT NOT NULL,
    new_hash TEXT NOT NULL,
    old_content TEXT NOT NULL,
    new_content TEXT NOT NULL,
    rule TEXT NOT NULL,
    at TEXT NOT NULL,
    applied INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX derivations_version ON derivations(version_id);
CREATE INDEX observations_body ON observations(body_sha256);
CREATE INDEX changes_old_version ON changes(old_version_id);
CREATE INDEX versions_title ON versions(title, chapter_id);
"""

RULES_SCHEMA = """
ALTER TABLE manuals ADD COLUMN ignore_selectors TEXT NOT NULL DEFAULT '[]';
ALTER TABLE manuals ADD COLUMN ignore_patterns TEXT NOT NULL DEFAULT '[]';
ALTER TABLE manuals ADD COLUMN allowed_hosts TEXT NOT NULL DEFAULT '[]';
"""

FINGERPRINT_SCHEMA = """
ALTER TABLE versions ADD COLUMN fingerprint TEXT;
"""

# 0005: an optional sitemap.xml per manual, read beside the contents page (scraper/sitemap.py).
SITEMAP_SCHEMA = """
ALTER TABLE manuals ADD COLUMN sitemap_url TEXT;
"""

# 0006: compact storage. A body may be stored as a zstd delta against an earlier body (its
# raw bytes as the dictionary; bases are always stored whole, so reading costs at most two
# decompressions); a version's content is compressed with its own capture as the dictionary;
# sections rows no longer repeat the text and links the version's content holds; a change's
# diff is stored zstd-compressed. capture_guards: where a capture's fingerprinted elements lie
# (scraper/quickcheck.py), so a page differing from it only outside them needs no parse.
COMPACT_SCHEMA = """
ALTER TABLE bodies ADD COLUMN base_sha256 TEXT REFERENCES bodies(sha256);
ALTER TABLE versions ADD COLUMN content_dict TEXT REFERENCES bodies(sha256);
CREATE TABLE capture_guards (
    body_sha256 TEXT PRIMARY KEY REFERENCES bodies(sha256),
    fingerprint TEXT NOT NULL,
    url TEXT NOT NULL,
    content_type TEXT,
    guard TEXT NOT NULL
);
CREATE INDEX capture_guards_fingerprint ON capture_guards(fingerprint);
"""

# 0007: the entries a contents page listed that were not watched as chapters, with the reason
# (scraper/discover.py: off-site link, site page, duplicate, link changing between readings
# ...), per run and manual, beside the contents capture they were read from.
UNWATCHED_SCHEMA = """
CREATE TABLE unwatched (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    manual_id INTEGER NOT NULL REFERENCES manuals(id),
    observation_id INTEGER REFERENCES observations(id),
    observed_at TEXT NOT NULL,
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX unwatched_run ON unwatched(run_id, manual_id);
CREATE INDEX unwatched_manual ON unwatched(manual_id, observed_at);
"""

# 0009: per-manual network settings and display name (issue 17 part 5, issue 14 part 2).
# ``headers`` is a JSON list of [name, value]; ``cookies`` a JSON list of [name, source] where
# the source is ``env:VAR`` or ``file:PATH`` (a cookie's value is never stored here);
# ``user_agent`` overrides the fetch User-Agent for this manual; ``display_name`` is the name
# the drafts' and digests' page heading uses (the manual's name when NULL).
MANUAL_NETWORK_SCHEMA = """
ALTER TABLE manuals ADD COLUMN display_name TEXT;
ALTER TABLE manuals ADD COLUMN headers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE manuals ADD COLUMN cookies TEXT NOT NULL DEFAULT '[]';
ALTER TABLE manuals ADD COLUMN user_agent TEXT;
"""

# 0010: RFC 3161 time-stamp tokens over a run's chain head (issue 15 part 2): the head stamped
# (``head_seals`` NULL for a head of the observations alone); ``token`` is the TimeStampResp as
# the TSA returned it (DER), checked offline by ``verify``; ``gen_time`` the TSA's time in it.
# A failed request is kept with its one-line ``error`` and no token.
TIMESTAMPS_SCHEMA = """
CREATE TABLE timestamps (
    id INTEGER PRIMARY KEY,
    run_id INTEGER REFERENCES runs(id),
    head_count INTEGER NOT NULL,
    head_seals INTEGER,
    head_hash TEXT NOT NULL,
    tsa_url TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    gen_time TEXT,
    token BLOB,
    status TEXT NOT NULL CHECK (status IN ('granted', 'failed')),
    error TEXT,
    CHECK (status = 'failed' OR (token IS NOT NULL AND gen_time IS NOT NULL))
);
CREATE INDEX timestamps_run ON timestamps(run_id);
"""

# 0011: alert state (issue 17 part 1, store/alerts.py): one row per watched condition that can
# break ("contents:NAME", "chapter:ID", "unconfirmed:ID", "abandoned:RUN"), so a broken state is
# announced once and its recovery once. ``state``: open (broken), recovered (its recovery not
# yet announced), closed. ``since``: when it broke; ``count``: runs seen broken in a row;
# ``notified_at``: when the broken state was announced (NULL: not yet); ``resolved_at``: when
# it recovered; ``run_id``: the last run that saw it.
ALERTS_SCHEMA = """
CREATE TABLE alerts (
    key TEXT PRIMARY KEY,
    manual TEXT,
    kind TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'recovered', 'closed')),
    since TEXT NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '',
    notified_at TEXT,
    resolved_at TEXT,
    run_id INTEGER REFERENCES runs(id)
);
CREATE INDEX alerts_state ON alerts(state);
"""

# 0013: the web application (issue 16, amendwatch/web/). ``users``: accounts with an argon2id
# ``password_hash`` and a role; ``web_sessions``: one row per logged-in browser, keyed by the
# SHA-256 of the session token the (signed) cookie carries, so a copy of the database holds no
# usable session, and logout deletes the row; ``login_attempts``: every login, for the rate
# limit per user and per address; ``web_meta``: the cookie signing key and the search index's
# high-water mark. ``reviews``: a compliance officer's review of a change, one row per edit
# (the latest row is the change's state; the earlier ones its history); ``audit_log``: every
# action taken through the web application or ``amendwatch user`` (who, when, what, target).
# Both are sealed (store/seals.py): the migration adds their ``row_hash`` and seals them.
# ``search_index`` (FTS5): each section of the current version of every chapter, rowid
# ``chapter_id * 10000 + ordinal``, refreshed by store/search.py (the text is stored
# compressed, so it cannot be indexed by triggers); ``search_indexed``: the version indexed
# for each chapter.
WEB_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'reviewer', 'editor', 'admin')),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_sessions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS web_sessions_user ON web_sessions(user_id);
CREATE TABLE IF NOT EXISTS login_attempts (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    ok INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_user ON login_attempts(username, at);
CREATE INDEX IF NOT EXISTS login_attempts_address ON login_attempts(address, at);
CREATE TABLE IF NOT EXISTS web_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY,
    change_id INTEGER NOT NULL REFERENCES changes(id),
    status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'action needed', 'done')),
    impact TEXT CHECK (impact IN ('none', 'low', 'high')),
    owner TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    who TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reviews_change ON reviews(change_id, id);
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at);
CREATE VIRTUAL TABLE IF NOT EXISTS search_index USING fts5(
    title, section, body,
    content = '', detail = none,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS search_indexed (
    chapter_id INTEGER PRIMARY KEY REFERENCES chapters(id),
    version_id INTEGER NOT NULL
);
"""

# 0014: ``listings``, the chapter list parsed from each manual's latest contents capture, keyed
# by that capture's SHA-256 and by what the parse depended on (``rules``: the release, the
# parser's rules, the page's URL, the manual's hosts and Amendments URL). A run whose contents
# page is byte for byte the capture parsed before reuses it instead of parsing 1,000 links
# again (store/listings.py). Sealed like the chapters it lists (store/seals.py).
LISTINGS_SCHEMA = """
CREATE TABLE IF NOT EXISTS listings (
    id INTEGER PRIMARY KEY,
    manual_id INTEGER NOT NULL UNIQUE REFERENCES manuals(id),
    body_sha256 TEXT NOT NULL,
    rules TEXT NOT NULL,
    data TEXT NOT NULL,
    row_hash TEXT
);
"""

# 0015: indexes for the two lookups every chapter fetch makes, so that neither grows with the
# history: the latest successful fetch's validators (a partial index of the 2xx observations,
# covering ETag and Last-Modified, instead of walking back through every 304), and the latest
# version's head (covering, so the wide versions row, with its content, is not read).
LOOKUP_SCHEMA = """
CREATE INDEX IF NOT EXISTS observations_validators
    ON observations(url, observed_at, id, etag, last_modified)
    WHERE status BETWEEN 200 AND 299 AND outcome NOT IN ('failed', 'suspect', 'superseded');
DROP INDEX IF EXISTS versions_chapter;
CREATE INDEX versions_chapter
    ON versions(chapter_id, valid_from, id, content_hash, observation_id, fingerprint);
"""
