CREATE TABLE tenant_alerting_settings (
    tenant_id uuid PRIMARY KEY,
    threshold integer NOT NULL
);

CREATE TABLE v1_dag_data (
    id serial PRIMARY KEY,
    tenant_id uuid NOT NULL,
    payload integer
);

-- sqlc reads this file as schema and as queries: the annotated statements are never applied.

-- name: CountDagData :one
SELECT count(*) FROM v1_dag_data WHERE tenant_id = $1 AND payload > sqlc.arg(min_payload);

/* name: SeedSetting :exec */
INSERT INTO tenant_alerting_settings (tenant_id, threshold) VALUES ('00000000-0000-0000-0000-000000000000', 1);
