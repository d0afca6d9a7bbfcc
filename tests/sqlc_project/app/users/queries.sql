-- name: CreateAccount :one
INSERT INTO user_accounts (email, settings) VALUES (@email, @settings) RETURNING *;

-- name: GetAccount :one
SELECT * FROM user_accounts WHERE id = @id;

-- name: SetMetadata :exec
INSERT INTO metadata (key, value) VALUES (@key, sqlc.narg(value))
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;

-- name: GetMetadata :one
SELECT * FROM metadata WHERE key = @key;
