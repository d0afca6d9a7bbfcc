CREATE TABLE items (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL,
    score double precision NOT NULL,
    amount numeric(12, 2) NOT NULL,
    created_at timestamptz NOT NULL,
    born date NOT NULL,
    active boolean NOT NULL,
    ref uuid NOT NULL,
    note text
);
