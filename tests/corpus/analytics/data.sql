-- Adversarial analytics data for 2024-03-01 .. 2024-03-07: anonymous sessions (NULL user_id,
-- NULL country), open sessions (NULL ended_at and duration), a session without events or
-- page views, a day (2024-03-04) with no sessions, events or page views, events whose
-- properties lack keys or hold JSON null, NULL referrers and load times, an experiment
-- without assignments, a variant that never converted, daily metrics missing for days that
-- had sessions (2024-03-06) and a metric with no all-devices row, and refunds left empty.

INSERT INTO sessions (id, user_id, device, country, started_at, ended_at) VALUES
    ('00000000-0000-0000-0000-000000000001', 1, 'desktop', 'US', '2024-03-01 09:00+00', '2024-03-01 09:30+00'),
    ('00000000-0000-0000-0000-000000000002', NULL, 'mobile', NULL, '2024-03-01 10:00+00', NULL),
    ('00000000-0000-0000-0000-000000000003', 2, 'mobile', 'DE', '2024-03-02 12:00+00', '2024-03-02 12:05+00'),
    ('00000000-0000-0000-0000-000000000004', 1, 'tablet', 'US', '2024-03-03 20:00+00', '2024-03-03 20:45+00'),
    ('00000000-0000-0000-0000-000000000005', NULL, 'bot', NULL, '2024-03-05 03:00+00', '2024-03-05 03:00:01+00'),
    ('00000000-0000-0000-0000-000000000006', 3, 'desktop', 'FR', '2024-03-06 08:00+00', NULL),   -- no events, no page views
    ('00000000-0000-0000-0000-000000000007', 2, 'desktop', 'DE', '2024-03-07 23:30+00', '2024-03-08 00:10+00');

INSERT INTO events (session_id, user_id, name, properties, referrer, device, occurred_at, revenue_cents) VALUES
    -- 1: session 1, user 1
    ('00000000-0000-0000-0000-000000000001', 1, 'page_open', '{"path": "/", "utm": {"source": "newsletter", "campaign": "march"}}', 'https://news.example.com/issue/12', 'desktop', '2024-03-01 09:00+00', NULL),
    ('00000000-0000-0000-0000-000000000001', 1, 'click', '{"button": "buy"}', NULL, 'desktop', '2024-03-01 09:05+00', NULL),
    ('00000000-0000-0000-0000-000000000001', 1, 'purchase', '{"plan": "pro", "amount": 1900, "currency": "USD"}', NULL, 'desktop', '2024-03-01 09:10+00', 1900),
    -- 4: session 2, anonymous
    ('00000000-0000-0000-0000-000000000002', NULL, 'page_open', '{"path": "/pricing"}', 'https://www.google.com/search?q=tool', 'mobile', '2024-03-01 10:00+00', NULL),
    ('00000000-0000-0000-0000-000000000002', NULL, 'click', '{"button": null}', NULL, 'mobile', '2024-03-01 10:02+00', NULL),
    -- 6: session 3, user 2
    ('00000000-0000-0000-0000-000000000003', 2, 'signup', '{"method": "email"}', 'android-app://com.example', 'mobile', '2024-03-02 12:01+00', NULL),
    ('00000000-0000-0000-0000-000000000003', 2, 'purchase', '{"currency": "EUR"}', NULL, 'mobile', '2024-03-02 12:04+00', NULL),
    -- 8: session 4, user 1
    ('00000000-0000-0000-0000-000000000004', 1, 'purchase', '{"plan": "team", "amount": 4900}', NULL, 'tablet', '2024-03-03 20:30+00', 4900),
    -- 9: session 5, bot
    ('00000000-0000-0000-0000-000000000005', NULL, 'page_open', '{}', NULL, 'bot', '2024-03-05 03:00+00', NULL),
    -- 10: session 7, user 2, crosses midnight
    ('00000000-0000-0000-0000-000000000007', 2, 'page_open', '{"path": "/blog/launch"}', 'https://news.example.com/issue/13', 'desktop', '2024-03-07 23:31+00', NULL),
    ('00000000-0000-0000-0000-000000000007', 2, 'click', '{"button": "share"}', NULL, 'desktop', '2024-03-08 00:05+00', NULL);

INSERT INTO page_views (id, session_id, path, referrer, viewed_at, load_ms) VALUES
    (1, '00000000-0000-0000-0000-000000000001', '/', 'https://news.example.com/issue/12', '2024-03-01 09:00+00', 120),
    (2, '00000000-0000-0000-0000-000000000001', '/pricing', NULL, '2024-03-01 09:04+00', 95),
    (3, '00000000-0000-0000-0000-000000000001', '/checkout', NULL, '2024-03-01 09:09+00', 1500),
    (4, '00000000-0000-0000-0000-000000000002', '/pricing', 'https://www.google.com/search?q=tool', '2024-03-01 10:00+00', NULL),
    (5, '00000000-0000-0000-0000-000000000003', '/blog/hello-world', 'android-app://com.example', '2024-03-02 12:00+00', 300),
    (6, '00000000-0000-0000-0000-000000000003', '/checkout', NULL, '2024-03-02 12:03+00', NULL),
    (7, '00000000-0000-0000-0000-000000000004', '/blog', NULL, '2024-03-03 20:01+00', 80),
    (8, '00000000-0000-0000-0000-000000000005', '/robots.txt', NULL, '2024-03-05 03:00+00', NULL),
    (9, '00000000-0000-0000-0000-000000000007', '/blog/launch', 'https://news.example.com/issue/13', '2024-03-07 23:31+00', 2200);
SELECT setval(pg_get_serial_sequence('page_views', 'id'), 9);

INSERT INTO experiments (id, key, description, status, traffic, started_on, ended_on) VALUES
    (1, 'checkout_button', NULL, 'running', 50, '2024-03-01', NULL),
    (2, 'new_onboarding', 'Shorter signup form', 'stopped', 100, '2024-02-01', '2024-02-28'),
    (3, 'pricing_page', 'Annual plans first', 'draft', 0, NULL, NULL);   -- no assignments
SELECT setval(pg_get_serial_sequence('experiments', 'id'), 3);

INSERT INTO experiment_assignments (experiment_id, user_id, variant, assigned_at, converted_at) VALUES
    (1, 1, 'green', '2024-03-01 09:00+00', '2024-03-01 09:10+00'),
    (1, 2, 'blue', '2024-03-02 12:00+00', NULL),
    (1, 3, 'blue', '2024-03-06 08:00+00', '2024-03-06 08:20+00'),
    (1, 4, 'green', '2024-03-06 09:00+00', NULL),
    (2, 1, 'control', '2024-02-02 10:00+00', NULL),
    (2, 2, 'treatment', '2024-02-03 10:00+00', NULL);

INSERT INTO daily_metrics (day, metric, device, value, target) VALUES
    ('2024-03-01', 'dau', NULL, 2, 3),
    ('2024-03-01', 'dau', 'desktop', 1, NULL),
    ('2024-03-01', 'dau', 'mobile', 1, NULL),
    ('2024-03-01', 'revenue', NULL, 19.00, 25),
    ('2024-03-02', 'dau', NULL, 1, 3),
    ('2024-03-02', 'revenue', NULL, 0, 25),
    ('2024-03-03', 'dau', NULL, 1, NULL),
    ('2024-03-03', 'revenue', NULL, 49.00, NULL),
    ('2024-03-05', 'dau', NULL, 0, 3),
    ('2024-03-07', 'dau', NULL, 1, 3),
    ('2024-03-07', 'dau', 'desktop', 1, 2),
    ('2024-03-07', 'signups', 'mobile', 1, NULL);   -- only a per-device row, no total

REFRESH MATERIALIZED VIEW variant_conversion;

-- A clock-skewed client: a NOT NULL timestamptz can still hold 'infinity', and
-- extract(hour FROM 'infinity') is NULL.
INSERT INTO events (session_id, user_id, name, properties, referrer, device, occurred_at, revenue_cents) VALUES
    ('00000000-0000-0000-0000-000000000001', NULL, 'clock_skew', '{}', NULL, 'desktop', 'infinity', NULL);
