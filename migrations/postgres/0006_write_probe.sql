-- One row that /readyz rewrites after a failed write (src/store/health.rs).
CREATE TABLE write_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    probed_at TEXT COLLATE "C" NOT NULL
);
INSERT INTO write_probe (id, probed_at) VALUES (1, '');
