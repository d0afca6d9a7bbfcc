-- name: DailyActivity :many
-- column day: date not null
-- column users: bigint not null
-- column events: bigint not null
-- column revenue_cents: bigint null
-- column revenue_or_zero: bigint not null
-- column first_event_at: timestamp with time zone null
-- param $1 from_day: date not null
-- param $2 to_day: date not null
-- args: ["2024-03-01", "2024-03-07"]
SELECT d::date AS day,
       count(DISTINCT e.user_id) AS users,
       count(e.id) AS events,
       sum(e.revenue_cents) AS revenue_cents,
       coalesce(sum(e.revenue_cents), 0) AS revenue_or_zero,
       min(e.occurred_at) AS first_event_at
FROM generate_series(@from_day::date, @to_day::date, interval '1 day') AS d
LEFT JOIN events e ON e.occurred_at >= d AND e.occurred_at < d + interval '1 day'
GROUP BY d
ORDER BY d;

-- name: EventsByDeviceRollup :many
-- column device: device_type null
-- column device_label: text not null
-- column name: text null
-- column events: bigint not null
-- column users: bigint not null
-- column is_subtotal: boolean not null
SELECT e.device,
       coalesce(e.device::text, 'all devices') AS device_label,
       e.name,
       count(*) AS events,
       count(DISTINCT e.user_id) AS users,
       GROUPING(e.name) = 1 AS is_subtotal
FROM events e
GROUP BY ROLLUP (e.device, e.name)
ORDER BY e.device NULLS LAST, e.name NULLS LAST;

-- name: SessionsCube :many
-- column device: device_type null
-- column country: character null
-- column sessions: bigint not null
-- column grouping_level: integer not null
-- column avg_seconds: numeric null
-- column longest: interval null
SELECT s.device,
       s.country,
       count(*) AS sessions,
       GROUPING(s.device, s.country) AS grouping_level,
       avg(extract(epoch FROM s.duration)) AS avg_seconds,
       max(s.duration) AS longest
FROM sessions s
GROUP BY CUBE (s.device, s.country)
ORDER BY grouping_level, s.device, s.country;

-- name: EventNamesByDeviceSets :many
-- column name: text not null
-- column device: device_type null
-- column events: bigint not null
-- column last_seen: timestamp with time zone not null
-- param $1 occurred_at: timestamp with time zone not null
-- args: ["2024-03-01 00:00+00"]
-- args: ["2030-01-01 00:00+00"]
SELECT e.name, e.device, count(*) AS events, max(e.occurred_at) AS last_seen
FROM events e
WHERE e.occurred_at >= $1
GROUP BY e.name, GROUPING SETS ((e.device), ())
ORDER BY e.name, e.device NULLS LAST;

-- name: RevenueByEventTotals :many
-- column name: text not null
-- column revenue_cents: bigint null
-- column events: bigint not null
-- column first_at: timestamp with time zone null
-- param $1 occurred_at: timestamp with time zone not null
-- param $2 occurred_at_2: timestamp with time zone not null
-- args: ["2024-03-01 00:00+00", "2024-04-01 00:00+00"]
-- args: ["2025-01-01 00:00+00", "2025-02-01 00:00+00"]
SELECT coalesce(e.name, 'total') AS name,
       sum(e.revenue_cents) AS revenue_cents,
       count(*) AS events,
       min(e.occurred_at) AS first_at
FROM events e
WHERE e.occurred_at >= $1 AND e.occurred_at < $2
GROUP BY ROLLUP (e.name)
ORDER BY GROUPING(e.name), e.name;

-- name: DailyFunnel :many
-- column day: date not null
-- column opens: bigint not null
-- column signups: bigint not null
-- column purchases: bigint not null
-- column purchase_revenue: bigint null
-- column purchase_users: bigint[] null
-- column anonymous_events: bigint not null
SELECT s.started_day AS day,
       count(*) FILTER (WHERE e.name = 'page_open') AS opens,
       count(*) FILTER (WHERE e.name = 'signup') AS signups,
       count(*) FILTER (WHERE e.name = 'purchase') AS purchases,
       sum(e.revenue_cents) FILTER (WHERE e.name = 'purchase') AS purchase_revenue,
       array_agg(DISTINCT e.user_id) FILTER (WHERE e.name = 'purchase') AS purchase_users,
       count(*) FILTER (WHERE e.user_id IS NULL) AS anonymous_events
FROM events e
JOIN sessions s ON s.id = e.session_id
GROUP BY s.started_day
ORDER BY day;

-- name: LoadTimePercentiles :many
-- column section: text not null
-- column median_ms: double precision null
-- column p95_ms: integer null
-- column top_path: text not null
-- column views: bigint not null
-- column timed_views: bigint not null
SELECT pv.section,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY pv.load_ms) AS median_ms,
       percentile_disc(0.95) WITHIN GROUP (ORDER BY pv.load_ms) AS p95_ms,
       mode() WITHIN GROUP (ORDER BY pv.path) AS top_path,
       count(*) AS views,
       count(pv.load_ms) AS timed_views
FROM page_views pv
GROUP BY pv.section
ORDER BY pv.section;

-- name: OverallLoadTime :one
-- column median_ms: double precision null
-- column slowest_ms: integer null
-- column views: bigint not null
-- param $1 viewed_at: timestamp with time zone not null
-- args: ["2024-03-01 00:00+00"]
-- args: ["2024-03-05 00:00+00"]
-- args: ["2030-01-01 00:00+00"]
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY load_ms) AS median_ms,
       max(load_ms) AS slowest_ms,
       count(*) AS views
FROM page_views
WHERE viewed_at >= $1;

-- name: UserEventTimeline :many
-- column id: bigint not null
-- column name: text not null
-- column seq: bigint not null
-- column previous_event: text null
-- column next_at: timestamp with time zone null
-- column next_or_self: timestamp with time zone not null
-- column first_event: text not null
-- column running_revenue: bigint null
-- column revenue_events: bigint not null
-- column second_event: text null
-- param $1 user_id: bigint not null
-- args: [1]
-- args: [2]
SELECT e.id, e.name,
       row_number() OVER w AS seq,
       lag(e.name) OVER w AS previous_event,
       lead(e.occurred_at) OVER w AS next_at,
       lead(e.occurred_at, 1, e.occurred_at) OVER w AS next_or_self,
       first_value(e.name) OVER w AS first_event,
       sum(e.revenue_cents) OVER w AS running_revenue,
       count(e.revenue_cents) OVER w AS revenue_events,
       nth_value(e.name, 2) OVER w AS second_event
FROM events e
WHERE e.user_id = $1
WINDOW w AS (PARTITION BY e.session_id ORDER BY e.occurred_at, e.id)
ORDER BY e.occurred_at, e.id;

-- name: MetricTrend :many
-- column day: date not null
-- column value: numeric not null
-- column previous_value: numeric null
-- column change: numeric null
-- column previous_or_zero: numeric not null
-- column trailing_avg: numeric null
-- column next_value: numeric null
-- column running_total: numeric not null
-- column best_so_far: numeric not null
-- column last_in_window: numeric not null
-- column target_gap: numeric null
-- param $1 metric: text not null
-- args: ["dau"]
-- args: ["revenue"]
SELECT m.day, m.value,
       lag(m.value) OVER w AS previous_value,
       m.value - lag(m.value) OVER w AS change,
       lag(m.value, 1, 0) OVER w AS previous_or_zero,
       avg(m.value) OVER (ORDER BY m.day ROWS BETWEEN 3 PRECEDING AND 1 PRECEDING) AS trailing_avg,
       sum(m.value) OVER (ORDER BY m.day ROWS BETWEEN 1 FOLLOWING AND 1 FOLLOWING) AS next_value,
       sum(m.value) OVER w AS running_total,
       max(m.value) OVER w AS best_so_far,
       last_value(m.value) OVER (ORDER BY m.day ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS last_in_window,
       m.target - m.value AS target_gap
FROM daily_metrics m
WHERE m.metric = $1 AND m.device IS NULL
WINDOW w AS (ORDER BY m.day)
ORDER BY m.day;

-- name: RevenueRanking :many
-- column user_id: bigint not null
-- column revenue: bigint null
-- column revenue_rank: bigint not null
-- column dense: bigint not null
-- column pct_rank: double precision not null
-- column quartile: integer not null
-- column share: numeric null
SELECT e.user_id,
       sum(e.revenue_cents) AS revenue,
       rank() OVER (ORDER BY sum(e.revenue_cents) DESC NULLS LAST) AS revenue_rank,
       dense_rank() OVER (ORDER BY sum(e.revenue_cents) DESC NULLS LAST) AS dense,
       percent_rank() OVER (ORDER BY sum(e.revenue_cents) DESC NULLS LAST) AS pct_rank,
       ntile(4) OVER (ORDER BY sum(e.revenue_cents) DESC NULLS LAST) AS quartile,
       round(100.0 * sum(e.revenue_cents) / sum(sum(e.revenue_cents)) OVER (), 1) AS share
FROM events e
WHERE e.user_id IS NOT NULL
GROUP BY e.user_id
ORDER BY revenue_rank, e.user_id;

-- name: TopPagesPerSession :many
-- column session_id: uuid not null
-- column path: text not null
-- column load_ms: integer null
-- column position: bigint not null
-- param $1 limit: bigint not null
-- args: [2]
SELECT s.id AS session_id, top.path, top.load_ms, top.position
FROM sessions s
CROSS JOIN LATERAL (
    SELECT pv.path, pv.load_ms, row_number() OVER (ORDER BY pv.load_ms DESC NULLS LAST, pv.id) AS position
    FROM page_views pv
    WHERE pv.session_id = s.id
    ORDER BY pv.load_ms DESC NULLS LAST, pv.id
    LIMIT $1
) top
ORDER BY s.started_at, top.position;

-- name: SessionsWithSlowestPage :many
-- column session_id: uuid not null
-- column device: device_type not null
-- column slowest_path: text null
-- column slowest_ms: integer null
-- column page_count: bigint not null
SELECT s.id AS session_id, s.device, slowest.path AS slowest_path, slowest.load_ms AS slowest_ms,
       (SELECT count(*) FROM page_views pv WHERE pv.session_id = s.id) AS page_count
FROM sessions s
LEFT JOIN LATERAL (
    SELECT pv.path, pv.load_ms
    FROM page_views pv
    WHERE pv.session_id = s.id AND pv.load_ms IS NOT NULL
    ORDER BY pv.load_ms DESC
    LIMIT 1
) slowest ON true
ORDER BY s.started_at;

-- name: KnownUsersInExperiments :many
-- column user_id: bigint not null
SELECT user_id FROM events
INTERSECT
SELECT user_id FROM experiment_assignments
ORDER BY user_id;

-- name: EventOnlyReferrers :many
-- column referrer: text null
SELECT referrer FROM events
EXCEPT
SELECT referrer FROM page_views WHERE referrer LIKE 'https://news.%'
ORDER BY referrer NULLS FIRST;

-- name: AllReferrers :many
-- column source: text not null
-- column referrer: text null
SELECT 'event' AS source, referrer FROM events
UNION
SELECT 'page_view', referrer FROM page_views
ORDER BY source, referrer NULLS FIRST;

-- name: VisitorsAndUsers :many
-- column kind: text not null
-- column visitor_id: bigint null
-- column first_seen: timestamp with time zone not null
SELECT 'session' AS kind, s.user_id AS visitor_id, min(s.started_at) AS first_seen
FROM sessions s
GROUP BY s.user_id
UNION ALL
SELECT 'assignment', a.user_id, min(a.assigned_at)
FROM experiment_assignments a
GROUP BY a.user_id
ORDER BY kind, visitor_id NULLS FIRST;

-- name: EventProperties :many
-- column id: bigint not null
-- column name: text not null
-- column plan: text null
-- column plan_or_free: text not null
-- column amount: integer null
-- column utm_source: text null
-- column button_type: text null
-- column has_plan: boolean not null
-- column properties_size: integer not null
-- column summary: jsonb not null
-- param $1 name: text[] not null
-- args: ["{purchase,click,page_open}"]
SELECT e.id, e.name,
       e.properties ->> 'plan' AS plan,
       coalesce(e.properties ->> 'plan', 'free') AS plan_or_free,
       (e.properties ->> 'amount')::int AS amount,
       e.properties #>> '{utm,source}' AS utm_source,
       jsonb_typeof(e.properties -> 'button') AS button_type,
       e.properties ? 'plan' AS has_plan,
       (SELECT count(*) FROM jsonb_object_keys(e.properties))::int AS properties_size,
       jsonb_build_object('event', e.name, 'referrer', e.referrer) AS summary
FROM events e
WHERE e.name = ANY($1)
ORDER BY e.id;

-- name: PurchasesByPlan :many
-- column plan: text null
-- column currency: text null
-- column purchases: bigint not null
-- column revenue_cents: bigint null
-- column declared_amount: numeric null
SELECT e.properties ->> 'plan' AS plan,
       e.properties ->> 'currency' AS currency,
       count(*) AS purchases,
       sum(e.revenue_cents) AS revenue_cents,
       sum((e.properties ->> 'amount')::bigint) AS declared_amount
FROM events e
WHERE e.name = 'purchase'
GROUP BY 1, 2
ORDER BY 1 NULLS FIRST, 2 NULLS FIRST;

-- name: HourlyHeatmap :many
-- column weekday: numeric null
-- column hour: double precision null
-- column week: timestamp with time zone not null
-- column events: bigint not null
-- param $1 device: device_type not null
-- args: ["desktop"]
SELECT extract(isodow FROM e.occurred_at) AS weekday,
       date_part('hour', e.occurred_at) AS hour,
       date_trunc('week', e.occurred_at) AS week,
       count(*) AS events
FROM events e
WHERE e.device = $1
GROUP BY 1, 2, 3
ORDER BY 1, 2;

-- name: SessionDurations :many
-- column id: uuid not null
-- column started_day: date not null
-- column duration: interval null
-- column seconds: numeric null
-- column bucket: text null
-- column bucket_or_open: text not null
-- column ended_or_now: timestamp with time zone not null
-- column started_hour: timestamp with time zone not null
SELECT s.id, s.started_day, s.duration,
       extract(epoch FROM s.duration) AS seconds,
       CASE
           WHEN s.duration < interval '1 minute' THEN 'bounce'
           WHEN s.duration < interval '30 minutes' THEN 'short'
           WHEN s.duration >= interval '30 minutes' THEN 'long'
       END AS bucket,
       CASE
           WHEN s.duration IS NULL THEN 'open'
           WHEN s.duration < interval '30 minutes' THEN 'short'
           ELSE 'long'
       END AS bucket_or_open,
       coalesce(s.ended_at, now()) AS ended_or_now,
       date_trunc('hour', s.started_at) AS started_hour
FROM sessions s
ORDER BY s.started_at;

-- name: LoadTimeBuckets :many
-- column bucket: text null
-- column views: bigint not null
-- column slowest: integer null
-- column paths: text not null
SELECT CASE
           WHEN pv.load_ms < 100 THEN 'fast'
           WHEN pv.load_ms < 1000 THEN 'ok'
           WHEN pv.load_ms >= 1000 THEN 'slow'
       END AS bucket,
       count(*) AS views,
       max(pv.load_ms) AS slowest,
       string_agg(DISTINCT pv.path, ' ') AS paths
FROM page_views pv
GROUP BY 1
ORDER BY 1 NULLS LAST;

-- name: ExperimentOverview :many
-- column id: integer not null
-- column key: text not null
-- column description: text null
-- column status: experiment_status not null
-- column traffic: numeric null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column days_running: integer null
-- column assigned: bigint not null
-- column converted: bigint not null
-- column first_assignment: timestamp with time zone null
-- column variants: text null
SELECT x.id, x.key, x.description, x.status, x.traffic,
       coalesce(x.ended_on, current_date) - x.started_on AS days_running,
       count(a.user_id) AS assigned,
       count(a.converted_at) AS converted,
       min(a.assigned_at) AS first_assignment,
       string_agg(DISTINCT a.variant, ',') AS variants
FROM experiments x
LEFT JOIN experiment_assignments a ON a.experiment_id = x.id
GROUP BY x.id
ORDER BY x.id;

-- name: VariantConversion :many
-- column experiment: text not null
-- column variant: text not null
-- column assigned: bigint not null
-- column converted: bigint not null
-- column conversion_pct: numeric not null
-- column first_conversion: timestamp with time zone null
-- column uplift_vs_best: numeric not null
SELECT experiment, variant, assigned, converted, conversion_pct, first_conversion,
       conversion_pct - max(conversion_pct) OVER (PARTITION BY experiment) AS uplift_vs_best
FROM variant_conversion
ORDER BY experiment, variant;

-- name: SessionOverview :many
-- column session_id: uuid not null
-- column user_id: bigint null
-- column device: device_type not null
-- column country: character null
-- column duration: interval null
-- column event_count: bigint not null
-- column first_event: text null
-- column first_event_at: timestamp with time zone null
-- param $1 started_at: timestamp with time zone not null
-- args: ["2024-03-01 00:00+00"]
SELECT session_id, user_id, device, country, duration, event_count, first_event, first_event_at
FROM session_overview
WHERE started_at >= $1
ORDER BY started_at;

-- name: RefundTotals :one
-- column refunds: bigint not null
-- column refunded_cents: bigint null
-- column largest: integer null
-- column last_refund_at: timestamp with time zone null
-- column average_cents: numeric null
-- column median_cents: double precision null
-- column reasons: text[] null
SELECT count(*) AS refunds,
       sum(amount_cents) AS refunded_cents,
       max(amount_cents) AS largest,
       max(refunded_at) AS last_refund_at,
       avg(amount_cents) AS average_cents,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY amount_cents) AS median_cents,
       array_agg(reason) AS reasons
FROM refunds;

-- name: PurchasesNetOfRefunds :many
-- column id: bigint not null
-- column revenue_cents: integer null
-- column refunded_cents: integer null
-- column net_cents: integer null
-- column refund_total: bigint null
-- column refund_count: bigint not null
-- column refunded: boolean not null
SELECT e.id, e.revenue_cents,
       r.amount_cents AS refunded_cents,
       e.revenue_cents - coalesce(r.amount_cents, 0) AS net_cents,
       (SELECT sum(r2.amount_cents) FROM refunds r2 WHERE r2.event_id = e.id) AS refund_total,
       (SELECT count(*) FROM refunds r2 WHERE r2.event_id = e.id) AS refund_count,
       EXISTS (SELECT 1 FROM refunds r2 WHERE r2.event_id = e.id) AS refunded
FROM events e
LEFT JOIN refunds r ON r.event_id = e.id
WHERE e.name = 'purchase'
ORDER BY e.id;

-- name: UpsertDailyMetric :one
-- needs: PostgreSQL 18 (RETURNING old/new)
-- column day: date not null
-- column metric: text not null
-- column device: device_type null
-- column value: numeric not null
-- column target: numeric null
-- column previous_value: numeric null
-- param $1 day: date not null
-- param $2 metric: text not null
-- param $3 device: device_type null
-- param $4 value: numeric not null
-- param $5 target: numeric null
-- args: ["2024-03-03", "dau", null, 5, null]
-- args: ["2024-03-09", "dau", "mobile", 1, 2]
INSERT INTO daily_metrics (day, metric, device, value, target)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (day, metric, device) DO UPDATE SET value = EXCLUDED.value
RETURNING day, metric, device, value, target, old.value AS previous_value;

-- name: RecordEvent :one
-- column id: bigint not null
-- column user_id: bigint null
-- column plan: text null
-- column referrer: text null
-- column occurred_at: timestamp with time zone not null
-- param $1 session_id: uuid not null
-- param $2 user_id: bigint null
-- param $3 name: text not null
-- param $4 properties: jsonb not null
-- param $5 referrer: text null
-- param $6 device: device_type not null
-- args: ["00000000-0000-0000-0000-000000000002", null, "click", "{}", null, "mobile"]
-- args: ["00000000-0000-0000-0000-000000000001", 1, "purchase", "{\"plan\": \"pro\"}", "https://example.com", "desktop"]
INSERT INTO events (session_id, user_id, name, properties, referrer, device, occurred_at)
VALUES ($1, $2, $3, $4, $5, $6, now())
RETURNING id, user_id, properties ->> 'plan' AS plan, referrer, occurred_at;

-- name: RollUpSessionCounts :many
-- column day: date not null
-- column device: device_type not null
-- column value: numeric not null
-- column target: numeric null
-- param $1 started_day: date not null
-- args: ["2024-03-01"]
-- args: ["2024-03-06"]
INSERT INTO daily_metrics (day, metric, device, value)
SELECT s.started_day, 'sessions', s.device, count(*)
FROM sessions s
WHERE s.started_day = $1
GROUP BY s.started_day, s.device
ON CONFLICT (day, metric, device) DO NOTHING
RETURNING day, device, value, target;

-- name: CloseSession :one
-- needs: PostgreSQL 18 (RETURNING old/new)
-- column id: uuid not null
-- column ended_at: timestamp with time zone not null
-- column duration: interval not null
-- column previous_end: timestamp with time zone null
-- column previous_duration: interval null
-- param $1 ended_at: timestamp with time zone null
-- param $2 id: uuid not null
-- args: [null, "00000000-0000-0000-0000-000000000002"]
-- args: ["2024-03-01 09:45+00", "00000000-0000-0000-0000-000000000001"]
UPDATE sessions
SET ended_at = coalesce(sqlc.narg(ended_at), now())
WHERE id = sqlc.arg(id)
RETURNING id, ended_at, duration, old.ended_at AS previous_end, old.duration AS previous_duration;

-- name: StopExperiment :one
-- column id: integer not null
-- column key: text not null
-- column description: text null
-- column started_on: date null
-- column ended_on: date not null
-- param $1 key: text not null
-- args: ["checkout_button"]
-- args: ["pricing_page"]
UPDATE experiments
SET status = 'stopped', ended_on = current_date
WHERE key = $1 AND status <> 'stopped'
RETURNING id, key, description, started_on, ended_on;

-- name: PurgePageViews :many
-- column id: bigint not null
-- column path: text not null
-- column load_ms: integer null
-- column section: text not null
-- param $1 viewed_at: timestamp with time zone not null
-- args: ["2024-03-02 00:00+00"]
DELETE FROM page_views WHERE viewed_at < $1 RETURNING id, path, load_ms, section;

-- name: DropUnconvertedAssignments :execrows
-- param $1 experiment_id: integer not null
-- args: [1]
-- args: [3]
DELETE FROM experiment_assignments WHERE experiment_id = $1 AND converted_at IS NULL;

-- name: SetMetricTarget :exec
-- param $1 target: numeric null
-- param $2 metric: text not null
-- param $3 day: date not null
-- param $4 day_2: date not null
-- args: [null, "dau", "2024-03-01", "2024-03-07"]
-- args: [4, "revenue", "2024-03-01", "2024-03-03"]
UPDATE daily_metrics SET target = $1 WHERE metric = $2 AND day BETWEEN $3 AND $4;

-- name: SessionEventsInExperiment :many
-- column session_id: uuid not null
-- column event_name: text null
-- column variant: text null
-- column converted_at: timestamp with time zone null
-- param $1 experiment_id: integer not null
-- args: [1]
-- args: [2]
SELECT s.id AS session_id, e.name AS event_name, a.variant, a.converted_at
FROM sessions s
LEFT JOIN (events e JOIN experiment_assignments a ON a.user_id = e.user_id AND a.experiment_id = $1)
    ON e.session_id = s.id
ORDER BY s.started_at, e.id;

-- name: ReportedVersusActualUsers :many
-- column day: date not null
-- column reported: numeric null
-- column actual: bigint null
-- column difference: numeric null
SELECT coalesce(m.day, s.day) AS day,
       m.value AS reported,
       s.users AS actual,
       m.value - s.users AS difference
FROM (SELECT day, value FROM daily_metrics WHERE metric = 'dau' AND device IS NULL) m
FULL JOIN (
    SELECT started_day AS day, count(DISTINCT user_id) AS users
    FROM sessions
    WHERE user_id IS NOT NULL
    GROUP BY started_day
) s ON s.day = m.day
ORDER BY day;

-- name: AssignmentsPerExperiment :many
-- column key: text not null
-- column status: experiment_status not null
-- column user_id: bigint null
-- column variant: text null
SELECT x.key, x.status, a.user_id, a.variant
FROM experiment_assignments a
RIGHT JOIN experiments x ON x.id = a.experiment_id
ORDER BY x.key, a.user_id;

-- name: ConversionsSince :many
-- column key: text not null
-- column user_id: bigint not null
-- column variant: text not null
-- column converted_at: timestamp with time zone not null
-- column time_to_convert: interval not null
-- param $1 converted_at: timestamp with time zone not null
-- args: ["2024-01-01 00:00+00"]
SELECT x.key, a.user_id, a.variant, a.converted_at, a.converted_at - a.assigned_at AS time_to_convert
FROM experiments x
LEFT JOIN experiment_assignments a ON a.experiment_id = x.id
WHERE a.converted_at > $1
ORDER BY a.converted_at;

-- name: SessionsWithEvents :many
-- column session_id: uuid not null
-- column event_id: bigint not null
-- column name: text not null
-- column referrer: text null
-- column country: character null
SELECT s.id AS session_id, e.id AS event_id, e.name, e.referrer, s.country
FROM sessions s
LEFT JOIN events e ON e.session_id = s.id
WHERE e.id IS NOT NULL
ORDER BY e.id;

-- name: SessionReferrerSummary :many
-- column id: uuid not null
-- column first_referrer: text null
-- column referrers: text null
-- column event_names: text[] null
-- column any_purchase: boolean not null
-- column last_activity: timestamp with time zone not null
SELECT s.id,
       (SELECT e.referrer FROM events e WHERE e.session_id = s.id AND e.referrer IS NOT NULL ORDER BY e.occurred_at LIMIT 1) AS first_referrer,
       (SELECT string_agg(DISTINCT e.referrer, ', ') FROM events e WHERE e.session_id = s.id) AS referrers,
       (SELECT array_agg(e.name ORDER BY e.occurred_at) FROM events e WHERE e.session_id = s.id) AS event_names,
       EXISTS (SELECT 1 FROM events e WHERE e.session_id = s.id AND e.name = 'purchase') AS any_purchase,
       greatest(s.ended_at, s.started_at, (SELECT max(e.occurred_at) FROM events e WHERE e.session_id = s.id)) AS last_activity
FROM sessions s
ORDER BY s.started_at;

-- name: ReferrerHosts :many
-- column id: bigint not null
-- column path: text not null
-- column blog_slug: text null
-- column referrer_host: text null
-- column section: text null
-- column issue_number: integer null
SELECT pv.id, pv.path,
       (regexp_match(pv.path, '^/blog/([^/]+)'))[1] AS blog_slug,
       substring(pv.referrer FROM '^https?://([^/]+)') AS referrer_host,
       nullif(pv.section, 'blog') AS section,
       (regexp_match(pv.referrer, '/issue/([0-9]+)'))[1]::int AS issue_number
FROM page_views pv
ORDER BY pv.id;

-- name: WeeklyRetention :many
-- column user_id: bigint not null
-- column cohort_day: date not null
-- column returned_on: date null
-- column days_later: integer null
-- column sessions_after: bigint not null
WITH first_seen AS (
    SELECT user_id, min(started_day) AS cohort_day
    FROM sessions
    WHERE user_id IS NOT NULL
    GROUP BY user_id
),
returns AS (
    SELECT user_id, min(started_day) AS returned_on, count(*) AS sessions_after
    FROM sessions s
    WHERE user_id IS NOT NULL
      AND started_day > (SELECT f.cohort_day FROM first_seen f WHERE f.user_id = s.user_id)
    GROUP BY user_id
)
SELECT f.user_id, f.cohort_day, r.returned_on, r.returned_on - f.cohort_day AS days_later,
       coalesce(r.sessions_after, 0) AS sessions_after
FROM first_seen f
LEFT JOIN returns r ON r.user_id = f.user_id
ORDER BY f.user_id;

-- name: MetricCalendar :many
-- column day: date not null
-- column dau: numeric null
-- column dau_or_zero: numeric not null
-- column target: numeric null
-- column hit_target: boolean null
-- param $1 from_day: date not null
-- param $2 to_day: date not null
-- args: ["2024-03-01", "2024-03-08"]
WITH RECURSIVE days(day) AS (
    SELECT sqlc.arg(from_day)::date
    UNION ALL
    SELECT day + 1 FROM days WHERE day < sqlc.arg(to_day)::date
)
SELECT days.day, m.value AS dau, coalesce(m.value, 0) AS dau_or_zero, m.target, m.value >= m.target AS hit_target
FROM days
LEFT JOIN daily_metrics m ON m.day = days.day AND m.metric = 'dau' AND m.device IS NULL
ORDER BY days.day;

-- name: MetricsByDeviceAverages :many
-- column metric: text not null
-- column total_avg: numeric null
-- column device_avg: numeric null
-- column days: bigint not null
-- column best_day: date not null
-- column devices: device_type[] not null
SELECT m.metric,
       avg(m.value) FILTER (WHERE m.device IS NULL) AS total_avg,
       avg(m.value) FILTER (WHERE m.device IS NOT NULL) AS device_avg,
       count(DISTINCT m.day) AS days,
       max(m.day) AS best_day,
       array_agg(DISTINCT m.device) AS devices
FROM daily_metrics m
GROUP BY m.metric
ORDER BY m.metric;

-- name: EventWindowBounds :one
-- column first_at: timestamp with time zone null
-- column last_at: timestamp with time zone null
-- column events: bigint not null
-- column span: interval null
-- column sessions: bigint not null
-- param $1 occurred_at: timestamp with time zone not null
-- param $2 occurred_at_2: timestamp with time zone not null
-- args: ["2024-03-01 00:00+00", "2024-03-08 00:00+00"]
-- args: ["2024-03-04 00:00+00", "2024-03-05 00:00+00"]
SELECT min(occurred_at) AS first_at,
       max(occurred_at) AS last_at,
       count(*) AS events,
       max(occurred_at) - min(occurred_at) AS span,
       count(DISTINCT session_id) AS sessions
FROM events
WHERE occurred_at >= $1 AND occurred_at < $2;

-- name: DeviceMonthRollupLabels :many
-- column device: text not null
-- column month: text not null
-- column page_views: bigint not null
-- column avg_load_ms: numeric null
-- column level: integer not null
SELECT coalesce(s.device::text, 'all devices') AS device,
       coalesce(to_char(date_trunc('month', pv.viewed_at), 'YYYY-MM'), 'all months') AS month,
       count(*) AS page_views,
       round(avg(pv.load_ms), 1) AS avg_load_ms,
       GROUPING(s.device, date_trunc('month', pv.viewed_at)) AS level
FROM page_views pv
JOIN sessions s ON s.id = pv.session_id
GROUP BY ROLLUP (s.device, date_trunc('month', pv.viewed_at))
ORDER BY level, device, month;

-- name: KnownUserIds :many
-- column user_id: bigint not null
-- column sessions: bigint not null
-- column countries: text not null
SELECT s.user_id, count(*) AS sessions, concat_ws(',', min(s.country), max(s.country)) AS countries
FROM sessions s
WHERE s.user_id IS NOT NULL
GROUP BY s.user_id
ORDER BY s.user_id;
