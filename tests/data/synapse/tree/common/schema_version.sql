-- The test tree's copy of Synapse's state tables (the layout of
-- synapse/storage/schema/common/schema_version.sql): strata runs this file,
-- as Synapse does, when it creates a database from the tree.

/* One row each: the lock column and its check keep it so. */
CREATE TABLE IF NOT EXISTS schema_version(
    Lock CHAR(1) NOT NULL DEFAULT 'X' UNIQUE,
    version INTEGER NOT NULL,
    upgraded BOOL NOT NULL,
    CHECK (Lock='X')
);

CREATE TABLE IF NOT EXISTS schema_compat_version(
    Lock CHAR(1) NOT NULL DEFAULT 'X' UNIQUE,
    compat_version INTEGER NOT NULL,
    CHECK (Lock='X')
);

CREATE TABLE IF NOT EXISTS applied_schema_deltas(
    version INTEGER NOT NULL,
    file TEXT NOT NULL,
    UNIQUE(version, file)
);

-- Schema files loaded on behalf of modules: Synapse reads this table at start-up.
CREATE TABLE IF NOT EXISTS applied_module_schemas(
    module_name TEXT NOT NULL,
    file TEXT NOT NULL,
    UNIQUE(module_name, file)
);
