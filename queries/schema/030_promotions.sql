-- Promotions and delivery: a domain, a composite type, a range, arrays and a jsonb
-- document that [tool.sqlgen.overrides] maps to bookshop.documents.PromotionRules.

CREATE DOMAIN percentage AS numeric(5, 2) NOT NULL CHECK (VALUE > 0 AND VALUE <= 100);

CREATE TYPE postal_address AS (
    line1        text,
    line2        text,
    city         text,
    postcode     text,
    country_code char(2)
);

ALTER TABLE orders ADD COLUMN delivery_address postal_address;

CREATE TABLE promotions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code          text NOT NULL UNIQUE,
    percent_off   percentage,
    active_during tstzrange NOT NULL,
    book_ids      bigint[] NOT NULL DEFAULT '{}',
    rules         jsonb NOT NULL DEFAULT '{}'
);
