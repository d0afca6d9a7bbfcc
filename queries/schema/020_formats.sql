-- Editions: which format a book's main edition has, and which others exist.

CREATE TYPE book_format AS ENUM ('hardcover', 'paperback', 'ebook', 'audiobook');

ALTER TABLE books
    ADD COLUMN format            book_format   NOT NULL DEFAULT 'paperback',
    ADD COLUMN also_available_as book_format[] NOT NULL DEFAULT '{}';
