-- +goose Up
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES user_accounts (id),
    note text
);

CREATE TABLE order_items (
    order_id bigint NOT NULL REFERENCES orders (id),
    sku text NOT NULL,
    quantity integer NOT NULL
);

-- +goose Down
DROP TABLE order_items;
DROP TABLE orders;
