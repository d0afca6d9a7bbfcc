-- name: GetCustomerByEmail :one
-- column id: integer not null
-- column email: text not null
-- column first_name: text not null
-- column last_name: text null
-- column phone: text null
-- column marketing_opt_in: boolean not null
-- column loyalty_points: integer not null
-- column created_at: timestamp with time zone not null
-- column deleted_at: timestamp with time zone null
-- param $1 email: text not null
-- args: ["ANN@shop.test"]
-- args: ["ben@shop.test"]
-- args: ["nobody@shop.test"]
SELECT id, email, first_name, last_name, phone, marketing_opt_in, loyalty_points, created_at, deleted_at
FROM customers
WHERE lower(email) = lower($1);

-- name: ListCustomerAddresses :many
-- column id: integer not null
-- column kind: address_kind not null
-- column line1: text not null
-- column line2: text null
-- column city: text not null
-- column region: text null
-- column postal_code: text null
-- column country: character null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column is_default: boolean not null
-- param $1 customer_id: integer not null
-- args: [1]
-- args: [2]
SELECT id, kind, line1, line2, city, region, postal_code, country, is_default
FROM addresses
WHERE customer_id = $1
ORDER BY is_default DESC, id;

-- name: ProductCatalog :many
-- column id: integer not null
-- column name: text not null
-- column slug: text not null
-- column category: text null
-- column brand: text null
-- column from_price: numeric null
-- column max_compare_at: numeric null
-- column stock: bigint null
-- column any_on_sale: boolean null
-- column variants: bigint not null
-- param $1 category: text null
-- param $2 search: text null
-- param $3 tag: text null
-- param $4 page_size: bigint not null
-- param $5 page_offset: bigint not null
-- args: [null, null, null, 20, 0]
-- args: ["apparel", null, null, 20, 0]
-- args: [null, "shoe", "running", 5, 0]
SELECT p.id, p.name, p.slug, p.category, p.brand,
       min(v.price) AS from_price,
       max(v.compare_at_price) AS max_compare_at,
       sum(v.stock) AS stock,
       bool_or(v.on_sale) AS any_on_sale,
       count(v.id) AS variants
FROM products p
LEFT JOIN product_variants v ON v.product_id = p.id
WHERE p.active
  AND (sqlc.narg(category)::text IS NULL OR p.category = sqlc.narg(category))
  AND (sqlc.narg(search)::text IS NULL OR p.name ILIKE '%' || sqlc.narg(search) || '%')
  AND (sqlc.narg(tag)::text IS NULL OR sqlc.narg(tag) = ANY (p.tags))
GROUP BY p.id
ORDER BY p.name
LIMIT sqlc.arg(page_size) OFFSET sqlc.arg(page_offset);

-- name: GetProductBySlug :one
-- column id: integer not null
-- column name: text not null
-- column material: text null
-- column waterproof: boolean null
-- column capacity_ml: integer null
-- column description: text not null
-- column tag_list: text not null
-- column first_tag: text null
-- column tag_count: integer null
-- column tag_cardinality: integer not null
-- column outdoor_position: integer null
-- column has_lining_key: boolean not null
-- column lining: jsonb null
-- param $1 slug: text not null
-- args: ["trail-shoe"]
-- args: ["rain-jacket"]
-- args: ["bottle"]
SELECT id, name,
       attributes ->> 'material' AS material,
       (attributes ->> 'waterproof')::boolean AS waterproof,
       (attributes -> 'capacity_ml')::integer AS capacity_ml,
       coalesce(description, '') AS description,
       array_to_string(tags, ', ') AS tag_list,
       tags[1] AS first_tag,
       array_length(tags, 1) AS tag_count,
       cardinality(tags) AS tag_cardinality,
       array_position(tags, 'outdoor') AS outdoor_position,
       attributes ? 'lining' AS has_lining_key,
       attributes -> 'lining' AS lining
FROM products
WHERE slug = $1;

-- name: VariantsForProduct :many
-- column id: integer not null
-- column sku: text not null
-- column title: text not null
-- column price: numeric null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column compare_at_price: numeric null
-- column on_sale: boolean not null
-- column discount_pct: numeric null
-- column weight_grams: integer null
-- column stock: integer not null
-- column in_stock: boolean not null
-- column gross_price: numeric null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column size: text null
-- param $1 product_id: integer not null
-- args: [1]
-- args: [5]
SELECT id, sku, title, price, compare_at_price, on_sale, discount_pct, weight_grams, stock,
       stock > 0 AS in_stock,
       price * 1.19 AS gross_price,
       options ->> 'size' AS size
FROM product_variants
WHERE product_id = $1
ORDER BY id;

-- name: CustomerOrderHistory :many
-- column order_id: bigint not null
-- column status: order_status not null
-- column total: numeric null unwitnessed: computed from a NOT NULL domain column without NOT NULL
-- column placed_at: timestamp with time zone not null
-- column first_name: text null
-- column ship_city: text null
-- column carrier: text null
-- column shipped_at: timestamp with time zone null
-- column delivered_at: timestamp with time zone null
-- column item_count: bigint not null
-- param $1 email: text not null
-- param $2 limit: bigint not null
-- args: ["ann@shop.test", 10]
-- args: ["ben@shop.test", 2]
SELECT order_id, status, total, placed_at, first_name, ship_city, carrier, shipped_at, delivered_at, item_count
FROM order_overview
WHERE email = $1
ORDER BY placed_at DESC
LIMIT $2;

-- name: PlaceOrder :one
-- column id: bigint not null
-- column status: order_status not null
-- column total: numeric not null
-- column placed_at: timestamp with time zone not null
-- column coupon_id: integer null
-- column notes: text null
-- param $1 customer_id: integer null
-- param $2 email: text not null
-- param $3 shipping_address_id: integer null
-- param $4 billing_address_id: integer null
-- param $5 coupon_id: integer null
-- param $6 subtotal: money_amount not null
-- param $7 discount: money_amount not null
-- param $8 shipping_fee: money_amount not null
-- param $9 notes: text null
-- args: [1, "ann@shop.test", 1, 2, 1, 100.00, 10.00, 4.99, "gift wrap"]
-- args: [null, "guest3@mail.test", null, null, null, 19.99, 0, 4.99, null]
INSERT INTO orders (customer_id, email, shipping_address_id, billing_address_id, coupon_id,
                    subtotal, discount, shipping_fee, notes)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING id, status, total, placed_at, coupon_id, notes;

-- name: AddOrderItem :one
-- column id: bigint not null
-- column order_id: bigint not null
-- column variant_id: integer not null
-- column quantity: integer not null
-- column unit_price: numeric null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column line_total: numeric null unwitnessed: computed from a NOT NULL domain column without NOT NULL
-- param $1 order_id: bigint not null
-- param $2 quantity: integer not null
-- param $3 variant_id: integer not null
-- args: [1, 1, 1]
-- args: [4, 3, 1]
INSERT INTO order_items (order_id, variant_id, quantity, unit_price)
SELECT @order_id::bigint, v.id, @quantity::integer, v.price
FROM product_variants v
WHERE v.id = @variant_id
ON CONFLICT (order_id, variant_id) DO UPDATE SET quantity = order_items.quantity + EXCLUDED.quantity
RETURNING id, order_id, variant_id, quantity, unit_price, line_total;

-- name: CapturePayment :execrows
-- param $1 id: bigint not null
-- args: [4]
-- args: [1]
UPDATE payments
SET status = 'captured', captured_at = now()
WHERE id = $1 AND status = 'authorized';

-- name: RefundPayment :one
-- column id: bigint not null
-- column amount: numeric not null
-- column reason: text null
-- column payment_amount: numeric null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column remaining: numeric null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- param $1 payment_id: bigint not null
-- param $2 amount: money_amount not null
-- param $3 reason: text null
-- args: [1, 10.00, null]
-- args: [2, 5.00, "late delivery"]
WITH refund AS (
    INSERT INTO refunds (payment_id, amount, reason)
    VALUES (@payment_id, @amount, sqlc.narg(reason))
    RETURNING id, payment_id, amount, reason
)
SELECT r.id, r.amount, r.reason, p.amount AS payment_amount,
       p.amount - r.amount
           - coalesce((SELECT sum(x.amount) FROM refunds x WHERE x.payment_id = r.payment_id), 0) AS remaining
FROM refund r
JOIN payments p ON p.id = r.payment_id;

-- name: ShipmentTracking :many
-- column id: bigint not null
-- column carrier: text not null
-- column tracking_number: text null
-- column state: text not null
-- column transit_time: interval null
-- column last_event_at: timestamp with time zone null
-- column tracking_url: text null
-- param $1 order_id: bigint[] not null
-- args: ["{1,2,3,6}"]
SELECT s.id, s.carrier, s.tracking_number,
       CASE WHEN s.delivered_at IS NOT NULL THEN 'delivered'
            WHEN s.shipped_at IS NOT NULL THEN 'in_transit'
            ELSE 'label_created'
       END AS state,
       s.delivered_at - s.shipped_at AS transit_time,
       coalesce(s.delivered_at, s.shipped_at) AS last_event_at,
       'https://track.example/' || s.carrier || '/' || s.tracking_number AS tracking_url
FROM shipments s
WHERE s.order_id = ANY($1)
ORDER BY s.id;

-- name: MarkShipped :one
-- column id: bigint not null
-- column shipped_at: timestamp with time zone not null
-- column tracking_number: text null
-- column delivered_at: timestamp with time zone null
-- param $1 tracking_number: text null
-- param $2 id: bigint not null
-- args: [null, 3]
-- args: ["1Z999", 2]
UPDATE shipments
SET shipped_at = coalesce(shipped_at, now()),
    tracking_number = coalesce(@tracking_number, tracking_number)
WHERE id = @id
RETURNING id, shipped_at, tracking_number, delivered_at;

-- name: ProductReviewStats :many
-- column id: integer not null
-- column name: text not null
-- column reviews: bigint not null
-- column rated: bigint not null
-- column avg_rating: numeric null
-- column five_star: bigint not null
-- column worst: smallint null
-- column last_written_review_at: timestamp with time zone null
-- column titles: text null
-- column ratings: star_rating[] null
SELECT p.id, p.name,
       count(r.id) AS reviews,
       count(r.rating) AS rated,
       round(avg(r.rating), 2) AS avg_rating,
       count(*) FILTER (WHERE r.rating = 5) AS five_star,
       min(r.rating) AS worst,
       max(r.created_at) FILTER (WHERE r.body IS NOT NULL) AS last_written_review_at,
       string_agg(r.title, ' | ' ORDER BY r.id) AS titles,
       array_agg(r.rating ORDER BY r.id) FILTER (WHERE r.rating IS NOT NULL) AS ratings
FROM products p
LEFT JOIN reviews r ON r.product_id = p.id
GROUP BY p.id
ORDER BY p.id;

-- name: ProductReviews :many
-- column id: bigint not null
-- column rating: smallint null
-- column title: text not null
-- column body: text null
-- column reviewer: text not null
-- column helpful_votes: integer not null
-- column excerpt: text null
-- column body_length: integer null
-- param $1 product_id: integer not null
-- param $2 rating: smallint null
-- param $3 limit: bigint not null
-- args: [1, null, 10]
-- args: [1, 3, 10]
-- args: [2, null, 1]
SELECT r.id, r.rating, r.title, r.body,
       coalesce(c.first_name, 'Anonymous') AS reviewer,
       r.helpful_votes,
       left(r.body, 100) AS excerpt,
       length(r.body) AS body_length
FROM reviews r
LEFT JOIN customers c ON c.id = r.customer_id
WHERE r.product_id = $1 AND ($2::smallint IS NULL OR r.rating >= $2)
ORDER BY r.helpful_votes DESC, r.id
LIMIT $3;

-- name: UpsertReview :one
-- column id: bigint not null
-- column rating: smallint null
-- column title: text not null
-- column body: text null
-- column helpful_votes: integer not null
-- column inserted: boolean not null
-- param $1 product_id: integer not null
-- param $2 customer_id: integer null
-- param $3 rating: star_rating null
-- param $4 title: text not null
-- param $5 body: text null
-- args: [1, 1, 4, "Still great", null]
-- args: [2, 2, null, "No rating", null]
-- args: [3, null, 5, "Anon", "Nice"]
INSERT INTO reviews (product_id, customer_id, rating, title, body)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (product_id, customer_id) DO UPDATE
SET rating = EXCLUDED.rating, title = EXCLUDED.title, body = EXCLUDED.body
RETURNING id, rating, title, body, helpful_votes, xmax = 0 AS inserted;

-- name: RemoveFromWishlist :execrows
-- param $1 customer_id: integer not null
-- param $2 variant_id: integer not null
-- args: [1, 3]
DELETE FROM wishlist_items
WHERE customer_id = $1 AND variant_id = $2;

-- name: AddToWishlist :exec
-- param $1 customer_id: integer not null
-- param $2 variant_id: integer not null
-- args: [1, 3]
INSERT INTO wishlist_items (customer_id, variant_id)
VALUES ($1, $2)
ON CONFLICT DO NOTHING;

-- name: WishlistSummary :one
-- column items: bigint not null
-- column oldest: timestamp with time zone null
-- column total_value: numeric null
-- column skus: text[] null
-- column all_in_stock: boolean null
-- param $1 customer_id: integer not null
-- args: [1]
SELECT count(*) AS items,
       min(w.added_at) AS oldest,
       sum(v.price) AS total_value,
       array_agg(v.sku ORDER BY v.sku) AS skus,
       bool_and(v.stock > 0) AS all_in_stock
FROM wishlist_items w
JOIN product_variants v ON v.id = w.variant_id
WHERE w.customer_id = $1;

-- name: SalesByProduct :many
-- column product_id: integer not null
-- column name: text not null
-- column category: text null
-- column orders: bigint not null
-- column units_sold: bigint not null
-- column revenue: numeric null
-- column last_sold_at: timestamp with time zone null
SELECT product_id, name, category, orders, units_sold, revenue, last_sold_at
FROM product_sales
ORDER BY revenue DESC NULLS LAST, product_id;

-- name: CategorySalesRollup :many
-- column category: text null
-- column products: bigint not null
-- column units: numeric null
-- column revenue: numeric null
-- column is_total: integer not null
-- param $1 units_sold: bigint not null
-- args: [0]
-- args: [1000000]
SELECT category, count(*) AS products, sum(units_sold) AS units, sum(revenue) AS revenue,
       grouping(category) AS is_total
FROM product_sales
WHERE units_sold >= $1
GROUP BY ROLLUP (category)
ORDER BY is_total, category;

-- name: PaymentsCube :many
-- column month: timestamp with time zone null
-- column method: payment_method null
-- column payments: bigint not null
-- column amount: numeric null
-- param $1 created_at: timestamp with time zone not null
-- args: ["2024-01-01T00:00:00Z"]
-- args: ["2099-01-01T00:00:00Z"]
SELECT date_trunc('month', p.created_at) AS month, p.method, count(*) AS payments, sum(p.amount) AS amount
FROM payments p
WHERE p.status = 'captured' AND p.created_at >= $1
GROUP BY CUBE (date_trunc('month', p.created_at), p.method)
ORDER BY 1, 2;

-- name: CustomerLeaderboard :many
-- column customer_id: integer not null
-- column email: text not null
-- column full_name: text not null
-- column orders: bigint not null
-- column lifetime_value: numeric not null
-- column last_order_at: timestamp with time zone null
-- column avg_order: numeric null
-- param $1 lifetime_value: numeric not null
-- args: [0]
SELECT customer_id, email, full_name, orders, lifetime_value, last_order_at, round(avg_order, 2) AS avg_order
FROM customer_stats
WHERE lifetime_value >= $1
ORDER BY lifetime_value DESC, customer_id;

-- name: PaymentsWithRefunds :many
-- column payment_id: bigint not null
-- column method: payment_method not null
-- column status: payment_status not null
-- column amount: numeric null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column refund_id: bigint null
-- column refunded: numeric null
-- column reason: text null
-- param $1 order_id: bigint not null
-- args: [1]
-- args: [3]
SELECT p.id AS payment_id, p.method, p.status, p.amount, r.id AS refund_id, r.amount AS refunded, r.reason
FROM refunds r
RIGHT JOIN payments p ON p.id = r.payment_id
WHERE p.order_id = $1
ORDER BY p.id, r.id;

-- name: DeliveredOrders :many
-- column id: bigint not null
-- column email: text not null
-- column carrier: text not null
-- column tracking_number: text null
-- column shipped_at: timestamp with time zone not null
-- column delivered_at: timestamp with time zone not null
-- column lead_time: interval not null
SELECT o.id, o.email, s.carrier, s.tracking_number, s.shipped_at, s.delivered_at,
       s.delivered_at - o.placed_at AS lead_time
FROM orders o
LEFT JOIN shipments s ON s.order_id = o.id
WHERE s.delivered_at IS NOT NULL
ORDER BY o.id;

-- name: CapturedPayments :many
-- column id: bigint not null
-- column total: numeric null unwitnessed: computed from a NOT NULL domain column without NOT NULL
-- column method: payment_method not null
-- column amount: numeric null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column captured_at: timestamp with time zone null
-- column provider_ref: text null
-- param $1 placed_at: timestamp with time zone not null
-- args: ["2024-01-01T00:00:00Z"]
SELECT o.id, o.total, p.method, p.amount, p.captured_at, p.provider_ref
FROM orders o
LEFT JOIN payments p ON p.order_id = o.id
WHERE p.status = 'captured' AND o.placed_at >= $1
ORDER BY o.id, p.id;

-- name: PaymentReconciliation :many
-- column order_id: bigint not null
-- column paid: numeric null
-- column refunded: numeric null
-- column net: numeric not null
WITH paid AS (
    SELECT order_id, sum(amount) AS paid
    FROM payments
    WHERE status = 'captured'
    GROUP BY order_id
), refunded AS (
    SELECT p.order_id, sum(r.amount) AS refunded
    FROM refunds r
    JOIN payments p ON p.id = r.payment_id
    GROUP BY p.order_id
)
SELECT coalesce(pd.order_id, rf.order_id) AS order_id, pd.paid, rf.refunded,
       coalesce(pd.paid, 0) - coalesce(rf.refunded, 0) AS net
FROM paid pd
FULL JOIN refunded rf ON rf.order_id = pd.order_id
ORDER BY 1;

-- name: CustomerSpendRanking :many
-- column id: integer not null
-- column email: text not null
-- column spent: numeric null
-- column orders: bigint not null
-- column spend_rank: bigint not null
-- column spend_percentile: double precision not null
-- column half: integer not null
-- column previous_email: text null
-- column second_email: text null
-- column running_spent: numeric not null
-- column spent_before: numeric null
WITH spend AS (
    SELECT customer_id, sum(total) AS spent, count(*) AS orders
    FROM orders
    WHERE customer_id IS NOT NULL AND status <> 'cancelled'
    GROUP BY customer_id
)
SELECT c.id, c.email, s.spent, coalesce(s.orders, 0) AS orders,
       rank() OVER (ORDER BY s.spent DESC NULLS LAST) AS spend_rank,
       percent_rank() OVER (ORDER BY coalesce(s.spent, 0)) AS spend_percentile,
       ntile(2) OVER (ORDER BY c.id) AS half,
       lag(c.email) OVER (ORDER BY c.id) AS previous_email,
       nth_value(c.email, 2) OVER (ORDER BY c.id) AS second_email,
       sum(coalesce(s.spent, 0)) OVER (ORDER BY c.id) AS running_spent,
       sum(coalesce(s.spent, 0)) OVER (ORDER BY c.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
           AS spent_before
FROM customers c
LEFT JOIN spend s ON s.customer_id = c.id
ORDER BY c.id;

-- name: GetOrderDetail :one
-- column id: bigint not null
-- column status: order_status not null
-- column total: numeric null unwitnessed: computed from a NOT NULL domain column without NOT NULL
-- column email: text not null
-- column customer_first_name: text null
-- column item_count: bigint not null
-- column units: bigint null
-- column last_shipped_at: timestamp with time zone null
-- column has_refund: boolean not null
-- column coupon_code: text null
-- column has_shipment: boolean not null
-- column coupon_open_ended: boolean null
-- param $1 id: bigint not null
-- args: [1]
-- args: [7]
-- args: [4]
SELECT o.id, o.status, o.total, o.email,
       (SELECT c.first_name FROM customers c WHERE c.id = o.customer_id) AS customer_first_name,
       (SELECT count(*) FROM order_items oi WHERE oi.order_id = o.id) AS item_count,
       (SELECT sum(oi.quantity) FROM order_items oi WHERE oi.order_id = o.id) AS units,
       (SELECT max(s.shipped_at) FROM shipments s WHERE s.order_id = o.id) AS last_shipped_at,
       EXISTS (SELECT 1 FROM refunds r JOIN payments p ON p.id = r.payment_id WHERE p.order_id = o.id)
           AS has_refund,
       (SELECT cp.code FROM coupons cp WHERE cp.id = o.coupon_id) AS coupon_code,
       o.id IN (SELECT s.order_id FROM shipments s) AS has_shipment,
       o.coupon_id IN (SELECT cp.id FROM coupons cp WHERE cp.valid_until IS NULL) AS coupon_open_ended
FROM orders o
WHERE o.id = $1;

-- name: OrderTimeline :many
-- column event: text not null
-- column at: timestamp with time zone null
-- column detail: text null
-- param $1 id: bigint not null
-- args: [1]
-- args: [2]
-- args: [3]
SELECT 'placed' AS event, o.placed_at AS at, NULL::text AS detail
FROM orders o
WHERE o.id = $1
UNION ALL
SELECT 'payment_' || p.status, p.created_at, p.provider_ref
FROM payments p
WHERE p.order_id = $1
UNION ALL
SELECT 'shipment', s.shipped_at, s.carrier
FROM shipments s
WHERE s.order_id = $1
UNION ALL
SELECT 'delivered', s.delivered_at, s.tracking_number
FROM shipments s
WHERE s.order_id = $1 AND s.delivered_at IS NOT NULL
ORDER BY 2 NULLS LAST, 1;

-- name: ReviewersWithoutPurchase :many
-- column customer_id: integer null
-- param $1 product_id: integer not null
-- args: [1]
-- args: [2]
SELECT r.customer_id
FROM reviews r
WHERE r.product_id = $1
EXCEPT
SELECT o.customer_id
FROM orders o
JOIN order_items oi ON oi.order_id = o.id
JOIN product_variants v ON v.id = oi.variant_id
WHERE v.product_id = $1 AND o.status <> 'cancelled';

-- name: BuyersWhoReviewed :many
-- column customer_id: integer null
-- param $1 rating: smallint not null
-- args: [1]
-- args: [5]
SELECT o.customer_id FROM orders o WHERE o.status = 'delivered'
INTERSECT
SELECT r.customer_id FROM reviews r WHERE r.rating >= $1
ORDER BY 1;

-- name: ProductsWithBestVariant :many
-- column id: integer not null
-- column name: text not null
-- column sku: text null
-- column units: bigint null
-- param $1 active: boolean not null
-- args: [true]
-- args: [false]
SELECT p.id, p.name, best.sku, best.units
FROM products p
LEFT JOIN LATERAL (
    SELECT v.sku, sum(oi.quantity) AS units
    FROM product_variants v
    JOIN order_items oi ON oi.variant_id = v.id
    WHERE v.product_id = p.id
    GROUP BY v.sku
    ORDER BY units DESC, v.sku
    LIMIT 1
) best ON true
WHERE p.active = $1
ORDER BY p.id;

-- name: ProductTags :many
-- column id: integer not null
-- column name: text not null
-- column tag: text null
-- column position: bigint not null
SELECT p.id, p.name, t.tag, t.position
FROM products p
CROSS JOIN LATERAL unnest(p.tags) WITH ORDINALITY AS t(tag, position)
WHERE p.active
ORDER BY p.id, t.position;

-- name: ProductAttributes :many
-- column id: integer not null
-- column key: text not null
-- column value: text null
-- column value_type: text not null
-- param $1 id: integer[] not null
-- args: ["{1,2,5}"]
SELECT p.id, a.key, a.value, jsonb_typeof(p.attributes -> a.key) AS value_type
FROM products p
CROSS JOIN LATERAL jsonb_each_text(p.attributes) AS a
WHERE p.id = ANY($1)
ORDER BY p.id, a.key;

-- name: ValidateCoupon :one
-- column id: integer not null
-- column code: text not null
-- column discount: numeric not null
-- column still_valid: boolean not null
-- column redemptions_left: integer null
-- column times_redeemed: integer null
-- column effective_from: timestamp with time zone not null
-- param $1 subtotal: numeric not null
-- param $2 as_of: timestamp with time zone not null
-- param $3 code: text not null
-- args: [100, "2024-06-01T00:00:00Z", "welcome10"]
-- args: [3, "2024-06-01T00:00:00Z", "fiveoff"]
-- args: [100, "2024-06-01T00:00:00Z", "expired"]
SELECT id, code,
       CASE WHEN percent_off IS NOT NULL THEN round(@subtotal::numeric * percent_off / 100, 2)
            ELSE least(amount_off, @subtotal::numeric)
       END AS discount,
       valid_until IS NULL OR valid_until > now() AS still_valid,
       max_redemptions - times_redeemed AS redemptions_left,
       nullif(times_redeemed, 0) AS times_redeemed,
       greatest(valid_from, @as_of::timestamptz) AS effective_from
FROM coupons
WHERE code = upper(@code);

-- name: RedeemCoupon :execrows
-- param $1 code: text not null
-- args: ["WELCOME10"]
-- args: ["EXPIRED"]
UPDATE coupons
SET times_redeemed = times_redeemed + 1
WHERE code = $1
  AND (max_redemptions IS NULL OR times_redeemed < max_redemptions)
  AND (valid_until IS NULL OR valid_until > now());

-- name: UpsertVariantStock :one
-- column id: integer not null
-- column sku: text not null
-- column stock: integer not null
-- column price: numeric null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column compare_at_price: numeric null
-- column on_sale: boolean not null
-- column weight_grams: integer null
-- param $1 product_id: integer not null
-- param $2 sku: text not null
-- param $3 title: text not null
-- param $4 price: money_amount not null
-- param $5 stock: integer not null
-- args: [1, "SHOE-42", "EU 42", 110.00, 5]
-- args: [2, "JKT-L", "L", 89.90, 3]
INSERT INTO product_variants (product_id, sku, title, price, stock)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (sku) DO UPDATE
SET stock = product_variants.stock + EXCLUDED.stock, price = EXCLUDED.price
RETURNING id, sku, stock, price, compare_at_price, on_sale, weight_grams;

-- name: CreateCustomerIfNew :one
-- column id: integer not null
-- column email: text not null
-- column last_name: text null
-- column phone: text null
-- column loyalty_points: integer not null
-- column deleted_at: timestamp with time zone null
-- param $1 email: text not null
-- param $2 first_name: text not null
-- param $3 last_name: text null
-- param $4 phone: phone_number null
-- args: ["ann@shop.test", "Ann", null, null]
-- args: ["new@shop.test", "Nia", null, null]
-- args: ["Zed@Shop.test", "Zed", "Zimmer", "+4930123456"]
INSERT INTO customers (email, first_name, last_name, phone)
VALUES (lower(@email), @first_name, @last_name, @phone)
ON CONFLICT (email) DO NOTHING
RETURNING id, email, last_name, phone, loyalty_points, deleted_at;

-- name: SoftDeleteCustomer :execrows
-- param $1 id: integer not null
-- args: [2]
-- args: [3]
UPDATE customers
SET deleted_at = now(), email = 'deleted-' || id || '@invalid.test', phone = NULL
WHERE id = $1 AND deleted_at IS NULL;

-- name: AnonymizeReviews :execrows
-- param $1 customer_id: integer not null
-- args: [1]
UPDATE reviews
SET customer_id = NULL
WHERE customer_id = $1;

-- name: DeleteCancelledOrders :many
-- column id: bigint not null
-- column customer_id: integer null
-- column coupon_id: integer null
-- column total: numeric null unwitnessed: computed from a NOT NULL domain column without NOT NULL
-- column notes: text null
-- param $1 placed_at: timestamp with time zone not null
-- args: ["2025-01-01T00:00:00Z"]
DELETE FROM orders
WHERE status = 'cancelled' AND placed_at < $1
RETURNING id, customer_id, coupon_id, total, notes;

-- name: OrderItems :many
-- column id: bigint not null
-- column item_name: text not null
-- column sku: text not null
-- column quantity: integer not null
-- column unit_price: numeric null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column line_total: numeric null unwitnessed: computed from a NOT NULL domain column without NOT NULL
-- column computed_total: numeric null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column saved_pct: numeric null
-- column color: text null
-- param $1 order_id: bigint not null
-- args: [1]
-- args: [2]
-- args: [3]
SELECT oi.id,
       p.name || ' (' || v.title || ')' AS item_name,
       v.sku, oi.quantity, oi.unit_price, oi.line_total,
       oi.quantity * oi.unit_price AS computed_total,
       round(100 * (v.compare_at_price - oi.unit_price) / v.compare_at_price, 1) AS saved_pct,
       v.options ->> 'color' AS color
FROM order_items oi
JOIN product_variants v ON v.id = oi.variant_id
JOIN products p ON p.id = v.product_id
WHERE oi.order_id = $1
ORDER BY oi.id;

-- name: SearchCustomers :many
-- column id: integer not null
-- column email: text not null
-- column first_name: text not null
-- column last_name: text null
-- column phone: text null
-- column created_at: timestamp with time zone not null
-- param $1 email: text not null
-- param $2 created_at: timestamp with time zone null
-- param $3 limit: bigint not null
-- param $4 offset: bigint not null
-- args: ["%shop%", null, 10, 0]
-- args: ["%b%", "2023-01-01T00:00:00Z", 10, 0]
-- args: ["%shop%", "2023-01-01T00:00:00Z", 1, 1]
SELECT id, email, first_name, last_name, phone, created_at
FROM customers
WHERE deleted_at IS NULL
  AND (email ILIKE $1 OR first_name ILIKE $1 OR last_name ILIKE $1)
  AND ($2::timestamptz IS NULL OR created_at >= $2)
ORDER BY created_at DESC, id
LIMIT $3 OFFSET $4;

-- name: DefaultAddresses :many
-- column id: integer not null
-- column email: text not null
-- column shipping_line1: text null
-- column shipping_city: text null
-- column billing_line1: text null
-- column billing_country: character null
SELECT c.id, c.email,
       s.line1 AS shipping_line1, s.city AS shipping_city,
       b.line1 AS billing_line1, b.country AS billing_country
FROM customers c
LEFT JOIN addresses s ON s.customer_id = c.id AND s.kind = 'shipping' AND s.is_default
LEFT JOIN addresses b ON b.customer_id = c.id AND b.kind = 'billing'
WHERE c.deleted_at IS NULL
ORDER BY c.id;

-- name: DailyOrderCounts :many
-- column day: date not null
-- column orders: bigint not null
-- column revenue: numeric null
-- column revenue_or_zero: numeric not null
-- param $1 p1: date not null
-- param $2 p2: date not null
-- args: ["2024-04-30", "2024-05-03"]
SELECT d::date AS day,
       count(o.id) AS orders,
       sum(o.total) AS revenue,
       coalesce(sum(o.total), 0) AS revenue_or_zero
FROM generate_series($1::date, $2::date, interval '1 day') AS d
LEFT JOIN orders o ON o.placed_at >= d AND o.placed_at < d + interval '1 day'
GROUP BY d
ORDER BY d;

-- name: UpdateOrderNotes :exec
-- param $1 notes: text null
-- param $2 id: bigint not null
-- args: ["ring the bell", 2]
-- args: [null, 2]
UPDATE orders
SET notes = $1
WHERE id = $2;

-- name: StalePendingOrders :many
-- column id: bigint not null
-- column email: text not null
-- column placed_at: timestamp with time zone not null
-- column days_pending: integer not null
-- column checkout_kind: text null
-- column placed_on: text not null
-- column checked_at: timestamp with time zone not null
-- column today: date not null
-- column needs_attention: boolean not null
-- param $1 min_days: integer not null
-- args: [1]
SELECT id, email, placed_at,
       extract(day FROM now() - placed_at)::integer AS days_pending,
       CASE WHEN customer_id IS NULL THEN 'guest' END AS checkout_kind,
       to_char(placed_at, 'YYYY-MM-DD') AS placed_on,
       now() AS checked_at,
       current_date AS today,
       true AS needs_attention
FROM orders
WHERE status = 'pending' AND placed_at < now() - make_interval(days => @min_days)
ORDER BY placed_at;

-- name: MarketingContacts :many
-- column email: text not null
-- column first_name: text null
SELECT email, first_name
FROM customers
WHERE marketing_opt_in AND deleted_at IS NULL
UNION
SELECT o.email, NULL
FROM orders o
WHERE o.customer_id IS NULL
ORDER BY email;

-- name: ItemsAwaitingReview :many
-- column order_id: bigint not null
-- column product_id: integer null
-- column product_name: text null
-- column review_id: bigint null
-- column rating: smallint null
-- param $1 email: text not null
-- args: ["ann@shop.test"]
SELECT o.id AS order_id, p.id AS product_id, p.name AS product_name, r.id AS review_id, r.rating
FROM orders o
LEFT JOIN (order_items oi
           JOIN product_variants v ON v.id = oi.variant_id
           JOIN products p ON p.id = v.product_id) ON oi.order_id = o.id
LEFT JOIN reviews r ON r.product_id = p.id AND r.customer_id = o.customer_id
WHERE o.email = $1
ORDER BY o.id, p.id;
