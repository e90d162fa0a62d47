-- The check value of the master key the stored secrets are sealed under;
-- see migrations/sqlite/0008_master_key.sql.
CREATE TABLE master_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    key_check  TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);
