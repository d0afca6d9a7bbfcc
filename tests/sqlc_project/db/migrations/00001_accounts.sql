-- +goose Up
CREATE TABLE user_accounts (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    settings jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE metadata (
    key text PRIMARY KEY,
    value text
);

-- +goose Down
DROP TABLE metadata;
DROP TABLE user_accounts;
