-- name: CreatePromotion :one
-- A promotion for some books, active during a period.
INSERT INTO promotions (code, percent_off, active_during, book_ids, rules)
VALUES (@code, @percent_off, @active_during, @book_ids, @rules)
RETURNING *;

-- name: ActivePromotions :many
SELECT * FROM promotions WHERE active_during @> @at::timestamptz ORDER BY code;

-- name: PromotionsForBook :many
SELECT code, percent_off, rules FROM promotions WHERE @book_id::bigint = ANY (book_ids) ORDER BY code;

-- name: SetDeliveryAddress :execrows
UPDATE orders SET delivery_address = @delivery_address WHERE id = @id;

-- name: GetDeliveryAddress :one
SELECT delivery_address FROM orders WHERE id = @id;

-- name: OrdersShippedTo :many
SELECT id, (delivery_address).city FROM orders WHERE (delivery_address).country_code = @country_code ORDER BY id;
