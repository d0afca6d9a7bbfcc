-- name: GetBook :one
SELECT * FROM books WHERE id = $1;

-- name: GetBookByISBN :one
-- ISBNs are stored as 13 characters without dashes.
SELECT * FROM books WHERE isbn = @isbn;

-- name: GetBookWithPublisher :one
-- A book with its publisher's name; the publisher may be unknown.
SELECT b.id, b.title, b.price, p.name AS publisher_name, p.country_code AS publisher_country
FROM books b
LEFT JOIN publishers p ON p.id = b.publisher_id
WHERE b.id = $1;

-- name: ListBooksByPublisher :many
SELECT id, isbn, title, price, published_on
FROM books
WHERE publisher_id = $1
ORDER BY published_on DESC NULLS LAST, id
LIMIT $2 OFFSET $3;

-- name: FilterBooks :many
-- Catalogue filter: every criterion is optional.
SELECT id, title, genre, price, in_print
FROM books
WHERE (sqlc.narg(genre)::varchar IS NULL OR genre = sqlc.narg(genre))
  AND (sqlc.narg(max_price)::numeric IS NULL OR price <= sqlc.narg(max_price))
  AND (sqlc.narg(in_print)::boolean IS NULL OR in_print = sqlc.narg(in_print))
ORDER BY title;

-- name: SearchBooks :many
-- Catalogue search: every filter is optional, and the caller picks the order
-- ("-" reverses a key). Each combination runs its own statement (`-- @dynamic`).
-- @dynamic
SELECT id, title, genre, price, published_on
FROM books
WHERE (sqlc.narg(genre)::varchar IS NULL OR genre = sqlc.narg(genre))
  AND (sqlc.narg(max_price)::numeric IS NULL OR price <= sqlc.narg(max_price))
  AND (sqlc.narg(published_after)::date IS NULL OR published_on >= sqlc.narg(published_after))
  AND (sqlc.narg(title)::text IS NULL OR title ILIKE '%' || sqlc.narg(title) || '%')
ORDER BY sqlgen.sort(@order, title, published_on DESC NULLS LAST), id
LIMIT @max_results;

-- name: ListBooksByTag :many
SELECT id, title, tags FROM books WHERE @tag::text = ANY(tags) ORDER BY title;

-- name: ListBooksWithAuthors :many
-- Books with their authors' names in byline order.
SELECT b.id, b.title, string_agg(a.name, ', ' ORDER BY ba.author_position) AS authors
FROM books b
JOIN book_authors ba ON ba.book_id = b.id
JOIN authors a ON a.id = ba.author_id
GROUP BY b.id, b.title
ORDER BY b.title;

-- name: ListBookTitlesByAuthor :many
SELECT b.title
FROM books b
JOIN book_authors ba ON ba.book_id = b.id
WHERE ba.author_id = @author_id
ORDER BY b.published_on;

-- name: FindBooksByMetadata :many
-- Books whose metadata contains the given JSON document, e.g. {"language": "en"}.
SELECT id, title, metadata, metadata ->> 'language' AS language
FROM books
WHERE metadata @> @metadata_filter::jsonb
ORDER BY id;

-- name: CreateBook :one
-- Add a book; returns its new id.
INSERT INTO books (isbn, title, subtitle, publisher_id, genre, tags, price, page_count, published_on, reading_time, metadata)
VALUES (@isbn, @title, sqlc.narg(subtitle), sqlc.narg(publisher_id), sqlc.narg(genre), @tags, @price,
        sqlc.narg(page_count), sqlc.narg(published_on), sqlc.narg(reading_time), @metadata)
RETURNING id;

-- name: UpdateBookPrice :one
UPDATE books
SET price = @price, updated_at = now()
WHERE id = @id
RETURNING id, price, updated_at;

-- name: AddBookTag :execrows
-- Append a tag unless the book already has it.
UPDATE books
SET tags = array_append(tags, @tag::text), updated_at = now()
WHERE id = @id AND NOT (@tag::text = ANY(tags));

-- name: MergeBookMetadata :exec
-- Shallow-merge keys into the book's metadata document.
UPDATE books
SET metadata = metadata || @patch::jsonb, updated_at = now()
WHERE id = @id;

-- name: SetBookCover :execresult
UPDATE books SET cover_image = @cover_image, updated_at = now() WHERE id = @id;

-- name: LinkBookAuthor :exec
-- Credit an author on a book, or move them in the byline if already credited.
INSERT INTO book_authors (book_id, author_id, author_position)
VALUES ($1, $2, $3)
ON CONFLICT (book_id, author_id) DO UPDATE SET author_position = EXCLUDED.author_position;

-- name: UpsertPublisher :one
INSERT INTO publishers (name, country_code, founded_year)
VALUES (@name, sqlc.narg(country_code), sqlc.narg(founded_year))
ON CONFLICT (name) DO UPDATE
SET country_code = EXCLUDED.country_code, founded_year = EXCLUDED.founded_year, is_active = true
RETURNING *;

-- name: GenreStats :many
-- Per-genre catalogue statistics.
SELECT genre,
       count(*) AS book_count,
       avg(price) AS average_price,
       sum(page_count) AS total_pages,
       max(published_on) AS latest_publication
FROM books
WHERE genre IS NOT NULL
GROUP BY genre
ORDER BY book_count DESC, genre;

-- name: RetireBooksPublishedBefore :execrows
-- Mark old books as out of print.
UPDATE books SET in_print = false, updated_at = now()
WHERE in_print AND published_on < $1;

-- name: ListBooksByFormat :many
-- Books available in a format, as the main edition or another one.
SELECT id, title, format, also_available_as
FROM books
WHERE format = @format OR @format = ANY(also_available_as)
ORDER BY title;

-- name: SetBookFormats :execrows
UPDATE books SET format = @format, also_available_as = @others WHERE id = @id;

-- name: GetBooksByIds :many
-- Books by id, in one round trip: the list is sent as one array parameter.
SELECT id, title, price FROM books WHERE id IN (sqlc.slice(ids)) ORDER BY id;

-- name: CountBooksOutside :one
SELECT count(*) FROM books WHERE genre NOT IN (sqlc.slice(genres));

-- name: ListBooksWithPublisher :many
-- Each book with its publisher, None when the book has none (sqlc.embed, LEFT JOIN).
SELECT sqlc.embed(b), sqlc.embed(p)
FROM books b
LEFT JOIN publishers p ON p.id = b.publisher_id
ORDER BY b.id;

-- name: GetBookAuthorLink :one
-- One author of a book, with the link's position (sqlc.embed on both sides of an inner join).
SELECT ba.author_position, sqlc.embed(authors), sqlc.embed(books)
FROM book_authors ba
JOIN authors ON authors.id = ba.author_id
JOIN books ON books.id = ba.book_id
WHERE ba.book_id = @book_id AND ba.author_id = @author_id;
