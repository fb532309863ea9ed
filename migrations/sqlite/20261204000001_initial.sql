-- crashsift schema, SQLite dialect. Keep in step with ../postgres/ (same tables, same columns).
-- Times are Unix seconds (BIGINT); flags are 0/1 BIGINT so both backends decode alike.

CREATE TABLE crashes (
    id             TEXT PRIMARY KEY,
    host           TEXT NOT NULL,
    boot_id        TEXT,
    kernel_release TEXT,
    build_id       TEXT,
    layout         TEXT NOT NULL,
    crashed_at     BIGINT,
    collected_at   BIGINT NOT NULL,
    analyzed_at    BIGINT,
    incomplete     BIGINT NOT NULL DEFAULT 0,
    artifacts      TEXT NOT NULL,
    manifest_key   TEXT NOT NULL
);

-- One analysis job per crash; claimed with a lease so many analyzers can share the table.
CREATE TABLE jobs (
    crash_id     TEXT PRIMARY KEY REFERENCES crashes(id),
    state        TEXT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    locked_by    TEXT,
    locked_until BIGINT,
    last_error   TEXT,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX jobs_state ON jobs(state);

CREATE TABLE crash_groups (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    group_key    TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    kind         TEXT NOT NULL,
    guilty_frame TEXT,
    first_seen   BIGINT NOT NULL,
    last_seen    BIGINT NOT NULL,
    count        BIGINT NOT NULL DEFAULT 0,
    merged_into  BIGINT,
    created_at   BIGINT NOT NULL
);

CREATE TABLE group_kernels (
    group_id BIGINT NOT NULL REFERENCES crash_groups(id),
    kernel   TEXT NOT NULL,
    PRIMARY KEY (group_id, kernel)
);

CREATE TABLE group_hosts (
    group_id BIGINT NOT NULL REFERENCES crash_groups(id),
    host     TEXT NOT NULL,
    PRIMARY KEY (group_id, host)
);

-- Engineer decisions: a signature filed under another group's key (merge) or pinned to
-- its own (split). Regrouping translates these to the new signatures.
CREATE TABLE signature_rules (
    signature  TEXT PRIMARY KEY,
    group_key  TEXT NOT NULL,
    origin     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE reports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    crash_id     TEXT NOT NULL REFERENCES crashes(id),
    source       TEXT NOT NULL,
    idx          BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    title        TEXT NOT NULL,
    signature    TEXT NOT NULL,
    group_id     BIGINT REFERENCES crash_groups(id),
    guilty_frame TEXT,
    corrupted    BIGINT NOT NULL DEFAULT 0,
    host         TEXT NOT NULL,
    kernel       TEXT,
    seen_at      BIGINT NOT NULL,
    body         TEXT NOT NULL,
    UNIQUE (crash_id, source, idx)
);
CREATE INDEX reports_group ON reports(group_id);
CREATE INDEX reports_signature ON reports(signature);

CREATE TABLE aliases (
    alias    TEXT NOT NULL,
    group_id BIGINT NOT NULL REFERENCES crash_groups(id),
    PRIMARY KEY (alias, group_id)
);

CREATE TABLE tickets (
    group_id    BIGINT PRIMARY KEY REFERENCES crash_groups(id),
    jira_key    TEXT,
    state       TEXT NOT NULL,
    summary     TEXT NOT NULL,
    description TEXT NOT NULL,
    labels      TEXT NOT NULL,
    rendered_count BIGINT NOT NULL DEFAULT 0,
    updated_at  BIGINT NOT NULL
);
