-- Tables and columns follow Headscale 0.29's SQLite layout, so rows carry over unchanged.
-- Times are text in UTC such as '2026-01-02 15:04:05.123456+00:00'; JSON columns hold arrays or objects.

CREATE TABLE users (
    id integer PRIMARY KEY AUTOINCREMENT,
    created_at datetime,
    updated_at datetime,
    deleted_at datetime,
    name text,
    display_name text,
    email text,
    provider_identifier text,
    provider text,
    profile_pic_url text
);
CREATE INDEX idx_users_deleted_at ON users (deleted_at);
-- Local users (no provider identifier) have unique names; the same name may exist once per provider.
CREATE UNIQUE INDEX idx_provider_identifier ON users (provider_identifier) WHERE provider_identifier IS NOT NULL;
CREATE UNIQUE INDEX idx_name_provider_identifier ON users (name, provider_identifier);
CREATE UNIQUE INDEX idx_name_no_provider_identifier ON users (name) WHERE provider_identifier IS NULL;

-- `key` holds legacy plaintext keys only; new keys store a 12-character prefix and a bcrypt hash of the secret.
CREATE TABLE pre_auth_keys (
    id integer PRIMARY KEY AUTOINCREMENT,
    key text,
    prefix text,
    hash blob,
    user_id integer,
    reusable numeric,
    ephemeral numeric DEFAULT false,
    used numeric DEFAULT false,
    tags text,
    created_at datetime,
    expiration datetime,
    CONSTRAINT fk_pre_auth_keys_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX idx_pre_auth_keys_prefix ON pre_auth_keys (prefix) WHERE prefix IS NOT NULL AND prefix != '';

CREATE TABLE api_keys (
    id integer PRIMARY KEY AUTOINCREMENT,
    prefix text,
    hash blob,
    created_at datetime,
    expiration datetime,
    last_seen datetime
);
CREATE UNIQUE INDEX idx_api_keys_prefix ON api_keys (prefix);

-- Tagged nodes have a NULL user_id. A NULL expiry means the node key never expires.
CREATE TABLE nodes (
    id integer PRIMARY KEY AUTOINCREMENT,
    machine_key text,
    node_key text,
    disco_key text,
    endpoints text,
    host_info text,
    ipv4 text,
    ipv6 text,
    hostname text,
    given_name varchar(63),
    user_id integer,
    register_method text,
    tags text,
    auth_key_id integer,
    expiry datetime,
    last_seen datetime,
    approved_routes text,
    created_at datetime,
    updated_at datetime,
    deleted_at datetime,
    CONSTRAINT fk_nodes_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT fk_nodes_auth_key FOREIGN KEY (auth_key_id) REFERENCES pre_auth_keys (id)
);

-- The newest row that is not deleted is the current policy (policy.mode: database).
CREATE TABLE policies (
    id integer PRIMARY KEY AUTOINCREMENT,
    created_at datetime,
    updated_at datetime,
    deleted_at datetime,
    data text
);
CREATE INDEX idx_policies_deleted_at ON policies (deleted_at);
