-- Streams, COPY and batches: the commands that run over many rows or many parameter sets.

-- name: CopyAuthors :copyfrom
-- Load authors with binary COPY.
INSERT INTO authors (name, bio, country_code) VALUES (@name, @bio, @country_code);

-- name: CopyBooks :copyfrom
INSERT INTO books (isbn, title, price, tags, metadata, format)
VALUES (@isbn, @title, @price, @tags, @metadata, @format);

-- name: IterBooks :iter
-- Every book at or above a price, read through a server-side cursor.
SELECT id, title, price FROM books WHERE price >= @min_price ORDER BY id;

-- name: IterAuthorNames :iter
SELECT name FROM authors ORDER BY id;

-- name: ExportBooks :copyto
-- The books of a genre as CSV with a header line.
SELECT id, isbn, title, price FROM books WHERE genre = @genre ORDER BY id;

-- name: SetBookPrices :batchexec
UPDATE books SET price = @price WHERE id = @id;

-- name: AddPublishers :batchone
-- The new publisher's id, or None when the name is taken.
INSERT INTO publishers (name) VALUES (@name) ON CONFLICT (name) DO NOTHING RETURNING id;

-- name: GetBooksBatch :batchone
SELECT * FROM books WHERE id = @id;

-- name: ListAuthorBooksBatch :batchmany
SELECT b.id, b.title
FROM books b
JOIN book_authors ba ON ba.book_id = b.id
WHERE ba.author_id = @author_id
ORDER BY b.id;
