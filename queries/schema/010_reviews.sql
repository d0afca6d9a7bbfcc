-- Reviews (needs books from 001 and customers from 002, so it must run after 002),
-- a cached rating on books, and a sales summary view.

CREATE TABLE reviews (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    book_id         bigint NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    customer_id     bigint REFERENCES customers (id) ON DELETE SET NULL,
    rating          smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title           varchar(200),
    body            text,
    sentiment_score real,
    helpful_votes   integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (book_id, customer_id)
);

ALTER TABLE books ADD COLUMN average_rating real;

CREATE VIEW book_sales AS
SELECT b.id AS book_id,
       b.title,
       count(DISTINCT oi.order_id) AS order_count,
       coalesce(sum(oi.quantity), 0) AS copies_sold,
       coalesce(sum(oi.quantity * oi.unit_price), 0) AS revenue
FROM books b
LEFT JOIN (order_items oi
           JOIN orders o ON o.id = oi.order_id AND o.status <> 'cancelled')
       ON oi.book_id = b.id
GROUP BY b.id, b.title;
