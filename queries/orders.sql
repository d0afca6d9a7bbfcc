-- name: CreateCustomer :one
INSERT INTO customers (email, display_name, phone, marketing_opt_in, preferences)
VALUES (@email, @display_name, sqlc.narg(phone), @marketing_opt_in, sqlc.narg(preferences))
RETURNING *;

-- name: GetCustomerByPublicID :one
-- Customers are addressed by their public UUID in URLs.
SELECT * FROM customers WHERE public_id = @public_id;

-- name: RecordCustomerLogin :exec
UPDATE customers SET last_login_at = $2 WHERE id = $1;

-- name: UpdateCustomerPreferences :execresult
UPDATE customers
SET preferences = sqlc.narg(preferences), preferred_delivery_time = sqlc.narg(preferred_delivery_time)
WHERE id = sqlc.arg(id);

-- name: CreateOrder :one
INSERT INTO orders (customer_id, shipping_address, discount_codes, notes)
VALUES (@customer_id, sqlc.narg(shipping_address), sqlc.narg(discount_codes), sqlc.narg(notes))
RETURNING id, status, placed_at;

-- name: AddOrderItem :execresult
-- Add a book to an order; adding the same book again increases the quantity.
INSERT INTO order_items (order_id, book_id, quantity, unit_price)
VALUES (@order_id, @book_id, @quantity, @unit_price)
ON CONFLICT (order_id, book_id) DO UPDATE SET quantity = order_items.quantity + EXCLUDED.quantity;

-- name: RecalculateOrderTotal :one
-- Store and return the order total computed from its items.
UPDATE orders
SET total_amount = (
    SELECT coalesce(sum(oi.quantity * oi.unit_price), 0)
    FROM order_items oi
    WHERE oi.order_id = @order_id
)
WHERE id = @order_id
RETURNING total_amount;

-- name: GetOrder :one
SELECT * FROM orders WHERE id = $1;

-- name: ListOrdersForCustomer :many
SELECT id, status, total_amount, placed_at, shipped_at
FROM orders
WHERE customer_id = $1
ORDER BY placed_at DESC
LIMIT $2 OFFSET $3;

-- name: GetOrderItems :many
SELECT oi.book_id, b.title, b.isbn, oi.quantity, oi.unit_price, oi.quantity * oi.unit_price AS line_total
FROM order_items oi
JOIN books b ON b.id = oi.book_id
WHERE oi.order_id = $1
ORDER BY b.title;

-- name: UpdateOrderStatus :execrows
-- Move an order to a new status; stamps shipped_at the first time it ships.
UPDATE orders
SET status = @status::varchar,
    shipped_at = CASE WHEN @status::varchar = 'shipped' THEN coalesce(shipped_at, now()) ELSE shipped_at END
WHERE id = @id;

-- name: CancelStalePendingOrders :execrows
-- Cancel orders that have been pending for longer than max_age.
UPDATE orders
SET status = 'cancelled'
WHERE status = 'pending' AND placed_at < now() - @max_age::interval;

-- name: ListOrderIDsWithDiscountCode :many
SELECT id FROM orders WHERE @code::text = ANY(discount_codes) ORDER BY id;

-- name: DeleteOrder :exec
DELETE FROM orders WHERE id = $1;

-- name: TopCustomersBySpend :many
-- Best customers by total spent on non-cancelled orders.
WITH customer_totals AS (
    SELECT o.customer_id, count(*) AS order_count, sum(o.total_amount) AS total_spent
    FROM orders o
    WHERE o.status <> 'cancelled'
    GROUP BY o.customer_id
)
SELECT c.id, c.display_name, c.email, ct.order_count, ct.total_spent
FROM customer_totals ct
JOIN customers c ON c.id = ct.customer_id
ORDER BY ct.total_spent DESC
LIMIT $1;

-- name: MonthlyRevenue :many
-- Revenue per calendar month between two dates (inclusive start, exclusive end).
SELECT date_trunc('month', placed_at)::date AS month,
       count(*) AS order_count,
       sum(total_amount) AS revenue,
       avg(total_amount) AS average_order_value
FROM orders
WHERE status <> 'cancelled'
  AND placed_at >= sqlc.arg(start_date)::date
  AND placed_at < sqlc.arg(end_date)::date
GROUP BY 1
ORDER BY 1;

-- name: ListBestSellers :many
-- Top of the sales chart, from the book_sales view.
SELECT book_id, title, copies_sold, revenue FROM book_sales
WHERE copies_sold > 0
ORDER BY copies_sold DESC, revenue DESC
LIMIT $1;
