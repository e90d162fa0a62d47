-- The action catalog's registered services; see
-- migrations/sqlite/0004_services.sql.
CREATE TABLE services (
    prefix      TEXT COLLATE "C" PRIMARY KEY,
    definition  TEXT COLLATE "C" NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL
);
