-- Adversarial data: every nullable column is NULL somewhere; a customer with no orders or
-- addresses, a product with no variants, a variant never sold, an order with no items,
-- guest orders, a shipment not yet shipped, a review without rating or body, a product
-- whose tags array holds a NULL element and whose attributes hold a JSON null;
-- wishlist_items stays empty.

INSERT INTO customers (email, first_name, last_name, phone, marketing_opt_in, loyalty_points, created_at, deleted_at) VALUES
    ('ann@shop.test', 'Ann', 'Archer', '+4915112345678', true, 120, '2023-05-01 09:00:00+00', NULL),  -- 1
    ('ben@shop.test', 'Ben', NULL, NULL, false, 0, '2023-06-01 09:00:00+00', NULL),                  -- 2
    ('cat@shop.test', 'Cat', 'Cole', NULL, true, 0, '2023-07-01 09:00:00+00', '2024-01-01 00:00:00+00'), -- 3: deleted
    ('dan@shop.test', 'Dan', 'Diaz', '+12025550100', true, 0, '2024-02-01 09:00:00+00', NULL);        -- 4: nothing

INSERT INTO addresses (customer_id, kind, line1, line2, city, region, postal_code, country, is_default) VALUES
    (1, 'shipping', '1 Main St', 'Apt 4', 'Berlin', NULL, '10115', 'DE', true),   -- 1
    (1, 'billing', '1 Main St', NULL, 'Berlin', NULL, '10115', 'DE', false),      -- 2
    (2, 'shipping', '9 Elm Rd', NULL, 'Austin', 'TX', NULL, 'US', true);          -- 3

INSERT INTO products (name, slug, description, category, brand, attributes, tags, active) VALUES
    ('Trail Shoe', 'trail-shoe', 'Light trail runner', 'footwear', 'Peak',
     '{"material": "mesh", "waterproof": false}', '{running,outdoor}', true),     -- 1
    ('Rain Jacket', 'rain-jacket', NULL, 'apparel', NULL,
     '{"material": "nylon", "lining": null}', '{}', true),                         -- 2
    ('Gift Card', 'gift-card', NULL, NULL, NULL, '{}', '{}', true),                -- 3
    ('Sun Hat', 'sun-hat', 'Coming soon', 'apparel', 'Peak', '{}', '{summer}', true), -- 4: no variants
    ('Water Bottle', 'bottle', 'Keeps cold', 'accessories', 'Peak',
     '{"capacity_ml": 750}', '{outdoor,NULL}', true),                              -- 5
    ('Wool Sock', 'wool-sock', NULL, 'footwear', NULL, '{}', '{}', false);         -- 6: inactive

INSERT INTO product_variants (product_id, sku, title, price, compare_at_price, weight_grams, stock, options) VALUES
    (1, 'SHOE-42', 'EU 42', 120.00, 150.00, 600, 10, '{"size": "42"}'),            -- 1
    (1, 'SHOE-43', 'EU 43', 120.00, NULL, NULL, 0, '{"size": "43"}'),              -- 2
    (2, 'JKT-M', 'M', 89.90, NULL, 450, 5, '{"size": "M", "color": "blue"}'),      -- 3
    (3, 'GIFT-50', '50 EUR', 50.00, NULL, NULL, 1000, '{}'),                       -- 4
    (5, 'BTL-750', '750 ml', 19.99, 24.99, 300, 50, '{}'),                         -- 5
    (6, 'SOCK-1', 'One size', 9.99, NULL, 80, 0, '{}');                            -- 6: never sold

INSERT INTO coupons (code, percent_off, amount_off, valid_from, valid_until, max_redemptions, times_redeemed) VALUES
    ('WELCOME10', 10, NULL, '2024-01-01 00:00:00+00', NULL, NULL, 1),                       -- 1
    ('FIVEOFF', NULL, 5.00, '2024-01-01 00:00:00+00', '2024-12-31 00:00:00+00', 100, 1),    -- 2
    ('EXPIRED', 20, NULL, '2023-01-01 00:00:00+00', '2023-02-01 00:00:00+00', 10, 0);       -- 3

INSERT INTO orders (customer_id, email, status, shipping_address_id, billing_address_id, coupon_id,
                    subtotal, discount, shipping_fee, placed_at, notes) VALUES
    (1, 'ann@shop.test', 'delivered', 1, 2, 1, 240.00, 24.00, 0, '2024-03-01 10:00:00+00', NULL),           -- 1
    (1, 'ann@shop.test', 'paid', 1, 2, NULL, 89.90, 0, 4.99, '2024-04-10 10:00:00+00', 'leave at door'),     -- 2
    (2, 'ben@shop.test', 'shipped', 3, NULL, NULL, 170.00, 0, 0, '2024-04-15 10:00:00+00', NULL),            -- 3
    (NULL, 'guest@mail.test', 'delivered', NULL, NULL, NULL, 19.99, 0, 4.99, '2024-05-01 10:00:00+00', NULL), -- 4: guest
    (2, 'ben@shop.test', 'cancelled', 3, NULL, 2, 89.90, 5.00, 0, '2024-05-02 10:00:00+00', 'changed mind'), -- 5
    (1, 'ann@shop.test', 'refunded', 1, NULL, NULL, 50.00, 0, 0, '2024-05-10 10:00:00+00', NULL),            -- 6
    (NULL, 'ann@shop.test', 'pending', NULL, NULL, NULL, 0, 0, 0, '2024-05-20 10:00:00+00', NULL),           -- 7: guest, no items
    (2, 'ben@shop.test', 'pending', 3, NULL, NULL, 39.98, 0, 4.99, '2024-05-25 10:00:00+00', NULL),          -- 8
    (NULL, 'guest2@mail.test', 'cancelled', NULL, NULL, NULL, 120.00, 0, 0, '2024-05-26 10:00:00+00', NULL); -- 9

INSERT INTO order_items (order_id, variant_id, quantity, unit_price) VALUES
    (1, 1, 2, 120.00),
    (2, 3, 1, 89.90),
    (3, 4, 1, 50.00),
    (3, 1, 1, 120.00),
    (4, 5, 1, 19.99),
    (5, 3, 1, 84.90),
    (6, 4, 1, 50.00),
    (8, 5, 2, 19.99),
    (9, 2, 1, 120.00);

INSERT INTO payments (order_id, method, status, amount, provider_ref, created_at, captured_at) VALUES
    (1, 'card', 'captured', 216.00, 'ch_1', '2024-03-01 10:01:00+00', '2024-03-01 10:02:00+00'),     -- 1
    (2, 'paypal', 'captured', 94.89, 'pp_2', '2024-04-10 10:01:00+00', '2024-04-10 10:05:00+00'),    -- 2
    (3, 'card', 'failed', 170.00, 'ch_3a', '2024-04-15 10:01:00+00', NULL),                          -- 3
    (3, 'card', 'authorized', 170.00, NULL, '2024-04-15 10:05:00+00', NULL),                         -- 4
    (5, 'card', 'voided', 84.90, 'ch_5', '2024-05-02 10:01:00+00', NULL),                            -- 5
    (6, 'gift_card', 'captured', 50.00, NULL, '2024-05-10 10:01:00+00', NULL),                       -- 6
    (4, 'paypal', 'captured', 24.98, 'pp_7', '2024-05-01 10:01:00+00', '2024-05-01 10:03:00+00');    -- 7

INSERT INTO refunds (payment_id, amount, reason, created_at) VALUES
    (6, 50.00, 'customer request', '2024-05-12 09:00:00+00'),
    (1, 24.00, NULL, '2024-03-10 09:00:00+00'),
    (5, 84.90, 'order cancelled', '2024-05-03 09:00:00+00');

INSERT INTO shipments (order_id, carrier, tracking_number, shipped_at, delivered_at) VALUES
    (1, 'DHL', 'DHL123', '2024-03-02 08:00:00+00', '2024-03-04 12:00:00+00'),   -- 1
    (3, 'UPS', NULL, '2024-04-16 08:00:00+00', NULL),                           -- 2: in transit
    (2, 'DHL', NULL, NULL, NULL),                                               -- 3: label only
    (6, 'Post', NULL, '2024-05-11 08:00:00+00', '2024-05-13 12:00:00+00');      -- 4

INSERT INTO reviews (product_id, customer_id, rating, title, body, helpful_votes, created_at) VALUES
    (1, 1, 5, 'Great', 'Love them', 3, '2024-03-10 09:00:00+00'),
    (1, 2, NULL, 'Meh', NULL, 0, '2024-04-20 09:00:00+00'),
    (2, 1, 4, 'Dry', NULL, 1, '2024-04-20 10:00:00+00'),
    (1, NULL, 2, 'Anonymous', 'Too small', 0, '2024-04-25 09:00:00+00');

-- wishlist_items stays empty.

REFRESH MATERIALIZED VIEW product_sales;

