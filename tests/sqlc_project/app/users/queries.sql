-- name: CreateAccount :one
INSERT INTO user_accounts (email, settings) VALUES (@email, @settings) RETURNING *;

-- name: GetAccount :one
SELECT * FROM user_accounts WHERE id = @id;

-- name: SetMetadata :exec
INSERT INTO metadata (key, value) VALUES (@key, sqlc.narg(value))
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;

-- name: GetMetadata :one
SELECT * FROM metadata WHERE key = @key;

/* name: SetPassword :exec */
UPDATE user_accounts SET password_hash = crypt(sqlc.arg(password), gen_salt('bf')) WHERE id = $1;

-- name: CheckPassword :one
-- Whether the password matches; None for an unknown email.
SELECT password_hash IS NOT NULL AND password_hash = crypt(@password, password_hash) AS matches
FROM user_accounts WHERE email = @email;

/* name: AddApiKey :one */
INSERT INTO api_keys (account_id, key_digest) VALUES ($1, digest(@key::text, 'sha256')) RETURNING id;

-- name: FindApiKey :one
SELECT account_id FROM api_keys WHERE key_digest = digest(@key::text, 'sha256');
