-- name: CreateOrder :one
INSERT INTO orders (account_id, note) VALUES (@account_id, sqlc.narg(note)) RETURNING id;

-- name: AddItem :exec
INSERT INTO order_items (order_id, sku, quantity) VALUES (@order_id, @sku, @quantity);

-- name: ListItems :many
SELECT * FROM order_items WHERE order_id = @order_id ORDER BY sku;
