CREATE TABLE tenant_alerting_settings (
    tenant_id uuid PRIMARY KEY,
    threshold integer NOT NULL
);

CREATE TABLE v1_dag_data (
    id serial PRIMARY KEY,
    tenant_id uuid NOT NULL,
    payload integer
);
