"""Versioned schema migrations, applied in order and recorded in PRAGMA user_version.

Each migration is a list of SQL statements; a migration never edits an earlier one,
so a store written by an older version upgrades in place.
"""

MIGRATIONS: list[list[str]] = [
    # 1: evidence, utterances, lineage, audit trail, full-text search
    [
        """
        CREATE TABLE runs (
            id            INTEGER PRIMARY KEY,
            stage         TEXT NOT NULL,          -- ingest | analyze | transcribe | ...
            tool_version  TEXT NOT NULL,
            component     TEXT,                   -- reader / model / detector that did the work
            component_version TEXT,
            params        TEXT NOT NULL DEFAULT '{}',  -- JSON of the options used
            started_at    TEXT NOT NULL,
            finished_at   TEXT,
            status        TEXT NOT NULL DEFAULT 'running'
        )
        """,
        """
        CREATE TABLE sources (
            id             INTEGER PRIMARY KEY,
            sha256         TEXT NOT NULL UNIQUE,
            size           INTEGER NOT NULL,
            media_type     TEXT NOT NULL,
            reader         TEXT NOT NULL,
            kind           TEXT NOT NULL,        -- radio|call|interview|message|article
            original_name  TEXT NOT NULL,
            original_path  TEXT NOT NULL,
            title          TEXT,
            url            TEXT,
            published_at   TEXT,
            captured_at    TEXT,
            frequency_hz   REAL,
            channel        TEXT,
            receiver       TEXT,
            sample_rate    INTEGER,
            duration_s     REAL,
            contributor    TEXT,
            note           TEXT,
            meta           TEXT NOT NULL DEFAULT '{}',
            ingested_at    TEXT NOT NULL,
            run_id         INTEGER NOT NULL REFERENCES runs(id)
        )
        """,
        """
        CREATE TABLE utterances (
            id            INTEGER PRIMARY KEY,
            source_id     INTEGER NOT NULL REFERENCES sources(id),
            seq           INTEGER NOT NULL,      -- order within the source (1-based)
            line_no       INTEGER,               -- line in the original file, when it has lines
            kind          TEXT NOT NULL,
            text          TEXT NOT NULL,
            lang          TEXT NOT NULL,
            start_s       REAL,
            end_s         REAL,
            captured_at   TEXT,                  -- absolute time (UTC ISO 8601) when known
            time_basis    TEXT,                  -- what captured_at means: captured|sent|published|offset
            channel       TEXT,
            speaker       TEXT,
            speaker_role  TEXT,
            quote_start   INTEGER,               -- char span of quoted speech inside text
            quote_end     INTEGER,
            is_boilerplate INTEGER NOT NULL DEFAULT 0,
            meta          TEXT NOT NULL DEFAULT '{}',
            search_lemmas TEXT NOT NULL DEFAULT '',
            search_roots  TEXT NOT NULL DEFAULT '',
            run_id        INTEGER NOT NULL REFERENCES runs(id),
            UNIQUE (source_id, seq)
        )
        """,
        "CREATE INDEX utterances_captured ON utterances(captured_at)",
        "CREATE INDEX utterances_lang ON utterances(lang)",
        "CREATE INDEX utterances_kind ON utterances(kind)",
        """
        CREATE VIRTUAL TABLE utterances_fts USING fts5(
            text, search_lemmas, search_roots,
            content='utterances', content_rowid='id',
            tokenize="unicode61 remove_diacritics 0"
        )
        """,
        """
        CREATE TABLE audit_log (
            id         INTEGER PRIMARY KEY,
            at         TEXT NOT NULL,
            actor      TEXT NOT NULL,
            action     TEXT NOT NULL,
            target     TEXT NOT NULL,
            details    TEXT NOT NULL,            -- canonical JSON
            prev_hash  TEXT NOT NULL,
            hash       TEXT NOT NULL
        )
        """,
        # The log is append-only: the database itself refuses edits and deletes.
        """
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
        """,
        """
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
        """,
    ],
    # 2: indicator findings, tied to the run (detector version) that produced them
    [
        """
        CREATE TABLE findings (
            id            INTEGER PRIMARY KEY,
            utterance_id  INTEGER NOT NULL REFERENCES utterances(id),
            code          TEXT NOT NULL,
            stance        TEXT NOT NULL,
            score         REAL NOT NULL,
            span_start    INTEGER NOT NULL,
            span_end      INTEGER NOT NULL,
            evidence      TEXT NOT NULL,
            method        TEXT NOT NULL,
            detector_version TEXT NOT NULL,
            run_id        INTEGER NOT NULL REFERENCES runs(id)
        )
        """,
        "CREATE INDEX findings_utt ON findings(utterance_id)",
        "CREATE INDEX findings_code ON findings(code, detector_version)",
        """
        CREATE TABLE analyses (
            utterance_id  INTEGER NOT NULL REFERENCES utterances(id),
            detector_version TEXT NOT NULL,
            status        TEXT NOT NULL,         -- ok | empty | unsupported | truncated | skipped
            note          TEXT,
            run_id        INTEGER NOT NULL REFERENCES runs(id),
            PRIMARY KEY (utterance_id, detector_version)
        )
        """,
    ],    # 3: audio — per-source processing state, ASR details, glosses, voice cues, clips
    [
        """
        CREATE TABLE processing (
            source_id     INTEGER PRIMARY KEY REFERENCES sources(id),
            status        TEXT NOT NULL,         -- pending | running | done | failed
            done_until_s  REAL NOT NULL DEFAULT 0,  -- resume point: end of the last stored transmission
            transmissions INTEGER NOT NULL DEFAULT 0,
            run_id        INTEGER REFERENCES runs(id),
            error         TEXT,
            updated_at    TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE asr (
            utterance_id  INTEGER PRIMARY KEY REFERENCES utterances(id),
            raw_text      TEXT NOT NULL,         -- Whisper's output as is
            lang_prob     REAL,
            avg_logprob   REAL,
            no_speech_prob REAL,
            mean_word_logprob REAL,
            hallucination INTEGER NOT NULL DEFAULT 0,
            hallucination_reason TEXT,
            words         TEXT NOT NULL DEFAULT '[]',  -- [[start_s, end_s, word, p], ...] source times
            segment       TEXT NOT NULL DEFAULT '{}',  -- squelch/VAD details of the transmission
            run_id        INTEGER NOT NULL REFERENCES runs(id)
        )
        """,
        """
        CREATE TABLE glosses (
            id            INTEGER PRIMARY KEY,
            utterance_id  INTEGER NOT NULL REFERENCES utterances(id),
            lang          TEXT NOT NULL DEFAULT 'en',
            text          TEXT NOT NULL,
            label         TEXT NOT NULL,         -- always says it is machine output
            method        TEXT NOT NULL,
            run_id        INTEGER NOT NULL REFERENCES runs(id)
        )
        """,
        "CREATE INDEX glosses_utt ON glosses(utterance_id)",
        """
        CREATE TABLE voice_cues (
            utterance_id  INTEGER PRIMARY KEY REFERENCES utterances(id),
            f0_median_hz  REAL,
            f0_spread_st  REAL,
            loudness_dbfs REAL,
            voiced_fraction REAL,
            syllables_per_s REAL,
            cues          TEXT NOT NULL,         -- every measurement, JSON
            relative      TEXT,                  -- z-scores against the channel baseline, JSON
            run_id        INTEGER NOT NULL REFERENCES runs(id)
        )
        """,
        """
        CREATE TABLE clips (
            id            INTEGER PRIMARY KEY,
            utterance_id  INTEGER NOT NULL REFERENCES utterances(id),
            path          TEXT NOT NULL,         -- relative to the store's derived/ folder
            sha256        TEXT NOT NULL,
            start_s       REAL NOT NULL,
            end_s         REAL NOT NULL,
            pad_s         REAL NOT NULL,
            run_id        INTEGER NOT NULL REFERENCES runs(id),
            UNIQUE (utterance_id, pad_s)
        )
        """,
        "CREATE INDEX utterances_source_time ON utterances(source_id, start_s)",
    ],
    # 4: analyst review — accounts, finding decisions, analyst-added findings, transcript versions
    [
        """
        CREATE TABLE users (
            id            INTEGER PRIMARY KEY,
            name          TEXT NOT NULL UNIQUE,
            role          TEXT NOT NULL CHECK (role IN ('viewer', 'analyst', 'admin')),
            password_hash TEXT NOT NULL,         -- argon2
            created_at    TEXT NOT NULL,
            disabled      INTEGER NOT NULL DEFAULT 0
        )
        """,
        """
        CREATE TABLE reviews (
            id            INTEGER PRIMARY KEY,
            finding_id    INTEGER NOT NULL REFERENCES findings(id),
            decision      TEXT NOT NULL CHECK (decision IN ('confirmed', 'rejected')),
            actor         TEXT NOT NULL,
            at            TEXT NOT NULL,
            note          TEXT
        )
        """,
        "CREATE INDEX reviews_finding ON reviews(finding_id, id)",
        """
        CREATE TABLE transcript_versions (
            id            INTEGER PRIMARY KEY,
            utterance_id  INTEGER NOT NULL REFERENCES utterances(id),
            version       INTEGER NOT NULL,      -- 1 = the text as first stored
            text          TEXT NOT NULL,
            actor         TEXT NOT NULL,
            at            TEXT NOT NULL,
            reason        TEXT,
            UNIQUE (utterance_id, version)
        )
        """,
        """
        CREATE TABLE annotations (
            id            INTEGER PRIMARY KEY,
            utterance_id  INTEGER NOT NULL REFERENCES utterances(id),
            kind          TEXT NOT NULL CHECK (kind IN ('tag', 'note')),
            value         TEXT NOT NULL,
            actor         TEXT NOT NULL,
            at            TEXT NOT NULL
        )
        """,
        "CREATE INDEX annotations_utt ON annotations(utterance_id)",
        # The latest decision per finding, for filters and reports.
        """
        CREATE VIEW finding_status AS
        SELECT f.id AS finding_id,
               coalesce((SELECT r.decision FROM reviews r WHERE r.finding_id = f.id ORDER BY r.id DESC LIMIT 1),
                        CASE WHEN f.method LIKE 'analyst:%' THEN 'confirmed' ELSE 'machine' END) AS status
        FROM findings f
        """,
    ],
    # 5: sources made of several files (a SigMF recording's samples beside its metadata)
    [
        """
        CREATE TABLE source_files (
            source_id     INTEGER NOT NULL REFERENCES sources(id),
            sha256        TEXT NOT NULL,         -- evidence/<sha256>, like the primary file
            role          TEXT NOT NULL,         -- e.g. sigmf-data
            original_name TEXT NOT NULL,
            size          INTEGER NOT NULL,
            PRIMARY KEY (source_id, role)
        )
        """,
    ],
    # 6: which process holds a source while it is being processed (host:pid)
    [
        "ALTER TABLE processing ADD COLUMN claimed_by TEXT",
    ],
    # 7: text translation — which translator made a gloss from which text, what its checks found,
    #    analyst corrections, and English search over the current gloss of each utterance
    [
        "ALTER TABLE glosses ADD COLUMN translator_version TEXT",
        "ALTER TABLE glosses ADD COLUMN source_sha256 TEXT",      # SHA-256 of the text it translates
        "ALTER TABLE glosses ADD COLUMN flags TEXT NOT NULL DEFAULT '[]'",   # meaning-check problems
        "ALTER TABLE glosses ADD COLUMN terms TEXT NOT NULL DEFAULT '[]'",   # glossary terms in the line
        "ALTER TABLE glosses ADD COLUMN seconds REAL",
        "ALTER TABLE glosses ADD COLUMN meta TEXT NOT NULL DEFAULT '{}'",
        "ALTER TABLE glosses ADD COLUMN actor TEXT",               # set on an analyst's correction
        "ALTER TABLE glosses ADD COLUMN at TEXT",
        "ALTER TABLE glosses ADD COLUMN reason TEXT",
        "CREATE INDEX glosses_current ON glosses(utterance_id, id)",
        # rowid = utterance id; holds the current (latest) gloss only
        "CREATE VIRTUAL TABLE gloss_fts USING fts5(text, tokenize='porter unicode61')",
        """
        INSERT INTO gloss_fts(rowid, text)
        SELECT g.utterance_id, g.text FROM glosses g
        WHERE g.id = (SELECT max(id) FROM glosses x WHERE x.utterance_id = g.utterance_id)
        """,
    ],
    # 8: content seals — a hash of every evidence/analysis row, tied into the audit chain
    #    (see store/seal.py); append-only like the log itself
    [
        """
        CREATE TABLE seals (
            audit_id      INTEGER NOT NULL,      -- the audit row written with the seal
            tbl           TEXT NOT NULL,
            row_id        INTEGER NOT NULL,
            hash          BLOB NOT NULL,         -- SHA-256 of the row's sealed fields
            fields        BLOB NOT NULL,         -- 2 bytes per field, to name the field that changed
            PRIMARY KEY (audit_id, tbl, row_id)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX seals_row ON seals(tbl, row_id, audit_id)",
        """
        CREATE TRIGGER seals_no_update BEFORE UPDATE ON seals
        BEGIN SELECT RAISE(ABORT, 'seals are append-only'); END
        """,
        """
        CREATE TRIGGER seals_no_delete BEFORE DELETE ON seals
        BEGIN SELECT RAISE(ABORT, 'seals are append-only'); END
        """,
    ],
    # 9: retraction — a source taken out of search, analysis, summaries, reports and exports
    #    (kept, with every row; undone by a restore); the newest action per source holds
    [
        """
        CREATE TABLE retractions (
            id            INTEGER PRIMARY KEY,
            source_id     INTEGER NOT NULL REFERENCES sources(id),
            action        TEXT NOT NULL CHECK (action IN ('retract', 'restore')),
            reason        TEXT NOT NULL,
            actor         TEXT NOT NULL,
            at            TEXT NOT NULL
        )
        """,
        "CREATE INDEX retractions_source ON retractions(source_id, id)",
        """
        CREATE VIEW retracted AS
        SELECT r.source_id, r.reason, r.actor, r.at FROM retractions r
        WHERE r.id = (SELECT max(x.id) FROM retractions x WHERE x.source_id = r.source_id)
          AND r.action = 'retract'
        """,
    ],
]

SCHEMA_VERSION = len(MIGRATIONS)
