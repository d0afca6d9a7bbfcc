-- name: GetItem :one
SELECT * FROM items WHERE id = @id;

-- name: GetItemValidated :one
-- @validate
SELECT * FROM items WHERE id = @id;

-- name: ListItems :many
SELECT * FROM items ORDER BY id LIMIT @limit;

-- name: ListItemsValidated :many
-- @validate
SELECT * FROM items ORDER BY id LIMIT @limit;

-- name: IterItems :iter
SELECT * FROM items ORDER BY id;

-- name: CopyItems :copyfrom
INSERT INTO items (id, name, email, score, amount, created_at, born, active, ref, note)
VALUES (@id, @name, @email, @score, @amount, @created_at, @born, @active, @ref, @note);
