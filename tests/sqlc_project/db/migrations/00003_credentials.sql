-- +goose Up
-- goose runs this migration in one transaction, which LOCK TABLE needs.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

LOCK TABLE user_accounts IN ACCESS EXCLUSIVE MODE;
ALTER TABLE user_accounts ADD COLUMN password_hash text;

CREATE TABLE api_keys (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id bigint NOT NULL REFERENCES user_accounts (id),
    key_digest bytea NOT NULL UNIQUE
);

-- +goose Down
DROP TABLE api_keys;
ALTER TABLE user_accounts DROP COLUMN password_hash;
