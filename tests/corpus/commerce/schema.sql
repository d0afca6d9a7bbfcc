-- An online shop: customers and their addresses, a catalog of products with variants,
-- orders with items, payments and refunds, shipments, reviews and coupons.

CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded');
CREATE TYPE payment_method AS ENUM ('card', 'paypal', 'bank_transfer', 'gift_card');
CREATE TYPE payment_status AS ENUM ('authorized', 'captured', 'failed', 'voided');
CREATE TYPE address_kind AS ENUM ('shipping', 'billing');

-- NOT NULL domains.
CREATE DOMAIN money_amount AS numeric(12, 2) NOT NULL CHECK (VALUE >= 0);
CREATE DOMAIN country_code AS char(2) NOT NULL CHECK (VALUE ~ '^[A-Z]{2}$');
-- Nullable domains.
CREATE DOMAIN star_rating AS smallint CHECK (VALUE BETWEEN 1 AND 5);
CREATE DOMAIN phone_number AS text CHECK (VALUE ~ '^\+[0-9]{6,15}$');

CREATE TABLE customers (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    first_name text NOT NULL,
    last_name text,
    phone phone_number,
    marketing_opt_in boolean NOT NULL DEFAULT false,
    loyalty_points integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);

CREATE TABLE addresses (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers ON DELETE CASCADE,
    kind address_kind NOT NULL,
    line1 text NOT NULL,
    line2 text,
    city text NOT NULL,
    region text,
    postal_code text,
    country country_code,
    is_default boolean NOT NULL DEFAULT false
);

CREATE TABLE products (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    slug text NOT NULL UNIQUE,
    description text,
    category text,
    brand text,
    attributes jsonb NOT NULL DEFAULT '{}',
    tags text[] NOT NULL DEFAULT '{}',
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE product_variants (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id integer NOT NULL REFERENCES products ON DELETE CASCADE,
    sku text NOT NULL UNIQUE,
    title text NOT NULL,
    price money_amount,
    compare_at_price numeric(12, 2) CHECK (compare_at_price > 0),
    weight_grams integer,
    stock integer NOT NULL DEFAULT 0,
    options jsonb NOT NULL DEFAULT '{}',
    -- never NULL: `false AND NULL` is false
    on_sale boolean GENERATED ALWAYS AS (compare_at_price IS NOT NULL AND compare_at_price > price) STORED,
    -- NULL without a compare-at price
    discount_pct numeric GENERATED ALWAYS AS (round(100 * (compare_at_price - price) / compare_at_price, 1)) STORED
);

CREATE TABLE coupons (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code text NOT NULL UNIQUE,
    percent_off numeric(5, 2) CHECK (percent_off > 0 AND percent_off <= 100),
    amount_off numeric(12, 2) CHECK (amount_off > 0),
    valid_from timestamptz NOT NULL,
    valid_until timestamptz,
    max_redemptions integer,
    times_redeemed integer NOT NULL DEFAULT 0,
    CHECK ((percent_off IS NULL) <> (amount_off IS NULL))
);

CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id integer REFERENCES customers ON DELETE SET NULL, -- NULL: guest checkout
    email text NOT NULL,
    status order_status NOT NULL DEFAULT 'pending',
    shipping_address_id integer REFERENCES addresses,
    billing_address_id integer REFERENCES addresses,
    coupon_id integer REFERENCES coupons,
    subtotal money_amount,
    discount money_amount DEFAULT 0,
    shipping_fee money_amount DEFAULT 0,
    total numeric(12, 2) GENERATED ALWAYS AS (subtotal - discount + shipping_fee) STORED,
    placed_at timestamptz NOT NULL DEFAULT now(),
    notes text
);

CREATE TABLE order_items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders ON DELETE CASCADE,
    variant_id integer NOT NULL REFERENCES product_variants,
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price money_amount,
    line_total numeric(12, 2) GENERATED ALWAYS AS (quantity * unit_price) STORED,
    UNIQUE (order_id, variant_id)
);

CREATE TABLE payments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders ON DELETE CASCADE,
    method payment_method NOT NULL,
    status payment_status NOT NULL DEFAULT 'authorized',
    amount money_amount,
    provider_ref text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    captured_at timestamptz
);

CREATE TABLE refunds (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payment_id bigint NOT NULL REFERENCES payments ON DELETE CASCADE,
    amount money_amount,
    reason text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE shipments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id bigint NOT NULL REFERENCES orders ON DELETE CASCADE,
    carrier text NOT NULL,
    tracking_number text,
    shipped_at timestamptz,
    delivered_at timestamptz,
    CHECK (delivered_at IS NULL OR shipped_at IS NOT NULL)
);

CREATE TABLE reviews (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id integer NOT NULL REFERENCES products ON DELETE CASCADE,
    customer_id integer REFERENCES customers ON DELETE SET NULL, -- NULL: anonymized
    rating star_rating,
    title text NOT NULL,
    body text,
    helpful_votes integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (product_id, customer_id)
);

-- Kept empty by data.sql.
CREATE TABLE wishlist_items (
    customer_id integer NOT NULL REFERENCES customers ON DELETE CASCADE,
    variant_id integer NOT NULL REFERENCES product_variants ON DELETE CASCADE,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, variant_id)
);

-- Orders with the customer (none for guests), the shipping city and the latest shipment.
CREATE VIEW order_overview AS
SELECT o.id AS order_id,
       o.status,
       o.total,
       o.placed_at,
       o.email,
       c.first_name,
       c.last_name,
       a.city AS ship_city,
       s.carrier,
       s.shipped_at,
       s.delivered_at,
       (SELECT count(*) FROM order_items oi WHERE oi.order_id = o.id) AS item_count
FROM orders o
LEFT JOIN customers c ON c.id = o.customer_id
LEFT JOIN addresses a ON a.id = o.shipping_address_id
LEFT JOIN LATERAL (
    SELECT sh.carrier, sh.shipped_at, sh.delivered_at
    FROM shipments sh
    WHERE sh.order_id = o.id
    ORDER BY sh.id DESC
    LIMIT 1
) s ON true;

-- Live customers with their completed spending.
CREATE VIEW customer_stats AS
SELECT c.id AS customer_id,
       c.email,
       c.first_name || coalesce(' ' || c.last_name, '') AS full_name,
       count(o.id) AS orders,
       coalesce(sum(o.total), 0) AS lifetime_value,
       max(o.placed_at) AS last_order_at,
       avg(o.total) AS avg_order
FROM customers c
LEFT JOIN orders o ON o.customer_id = c.id AND o.status NOT IN ('pending', 'cancelled')
WHERE c.deleted_at IS NULL
GROUP BY c.id;

-- Sales per product, over every product (sold or not). data.sql refreshes it.
CREATE MATERIALIZED VIEW product_sales AS
SELECT p.id AS product_id,
       p.name,
       p.category,
       count(DISTINCT o.id) AS orders,
       coalesce(sum(oi.quantity), 0) AS units_sold,
       sum(oi.line_total) AS revenue,
       max(o.placed_at) AS last_sold_at
FROM products p
LEFT JOIN product_variants v ON v.product_id = p.id
LEFT JOIN (order_items oi JOIN orders o ON o.id = oi.order_id AND o.status NOT IN ('pending', 'cancelled'))
    ON oi.variant_id = v.id
GROUP BY p.id, p.name, p.category;
