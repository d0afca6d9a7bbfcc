-- Shop: customers, their orders and the books in each order.

CREATE TABLE customers (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id               uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    email                   varchar(320) NOT NULL UNIQUE,
    display_name            text NOT NULL,
    phone                   varchar(32),
    marketing_opt_in        boolean NOT NULL DEFAULT false,
    preferences             json,
    preferred_delivery_time time,
    last_login_at           timestamp,
    created_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id      bigint NOT NULL REFERENCES customers (id) ON DELETE RESTRICT,
    status           varchar(20) NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')),
    shipping_address jsonb,
    discount_codes   text[],
    total_amount     numeric(12, 2) NOT NULL DEFAULT 0,
    placed_at        timestamptz NOT NULL DEFAULT now(),
    shipped_at       timestamptz,
    notes            text
);

CREATE INDEX orders_customer_id_idx ON orders (customer_id, placed_at DESC);

CREATE TABLE order_items (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id   bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    book_id    bigint NOT NULL REFERENCES books (id) ON DELETE RESTRICT,
    quantity   integer NOT NULL CHECK (quantity > 0),
    unit_price numeric(10, 2) NOT NULL CHECK (unit_price >= 0),
    UNIQUE (order_id, book_id)
);

CREATE INDEX order_items_book_id_idx ON order_items (book_id);
