-- Catalogue: publishers, authors, books and who wrote what.

CREATE TABLE publishers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         varchar(200) NOT NULL UNIQUE,
    country_code char(2),
    founded_year smallint CHECK (founded_year BETWEEN 1400 AND 2100),
    is_active    boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE authors (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL,
    bio              text,
    birth_date       date,
    country_code     char(2),
    website          varchar(255),
    popularity_score double precision NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX authors_name_idx ON authors (name);

CREATE TABLE books (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    isbn         char(13) NOT NULL UNIQUE,
    title        text NOT NULL,
    subtitle     text,
    publisher_id bigint REFERENCES publishers (id) ON DELETE SET NULL,
    genre        varchar(50),
    tags         text[] NOT NULL DEFAULT '{}',
    price        numeric(10, 2) NOT NULL CHECK (price >= 0),
    page_count   integer CHECK (page_count > 0),
    published_on date,
    reading_time interval,
    cover_image  bytea,
    metadata     jsonb NOT NULL DEFAULT '{}'::jsonb,
    in_print     boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz
);

CREATE INDEX books_publisher_id_idx ON books (publisher_id);
CREATE INDEX books_tags_idx ON books USING gin (tags);

CREATE TABLE book_authors (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    book_id         bigint NOT NULL REFERENCES books (id) ON DELETE CASCADE,
    author_id       bigint NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
    author_position smallint NOT NULL DEFAULT 1,
    UNIQUE (book_id, author_id)
);

CREATE INDEX book_authors_author_id_idx ON book_authors (author_id);
