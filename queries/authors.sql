-- name: GetAuthor :one
-- Fetch one author by primary key.
SELECT * FROM authors WHERE id = $1;

-- name: GetAuthorByName :one
-- Look an author up by exact name.
SELECT id, name, bio, website FROM authors WHERE name = @name;

-- name: ListAuthors :many
-- Page through all authors in alphabetical order.
SELECT * FROM authors
ORDER BY name, id
LIMIT $1 OFFSET $2;

-- name: ListAuthorNames :many
-- Just the names, for autocomplete.
SELECT name FROM authors ORDER BY name;

-- name: CountAuthors :one
SELECT count(*) FROM authors;

-- name: GetAuthorsByIDs :many
-- Fetch several authors at once.
SELECT * FROM authors WHERE id = ANY(@ids::bigint[]) ORDER BY id;

-- name: SearchAuthors :many
-- Case-insensitive name search, optionally restricted to one country.
SELECT id, name, country_code, popularity_score
FROM authors
WHERE name ILIKE '%' || @query::text || '%'
  AND (sqlc.narg(country_code)::char(2) IS NULL OR country_code = sqlc.narg(country_code))
ORDER BY popularity_score DESC, name;

-- name: CreateAuthor :one
-- Add a new author and return the stored row.
INSERT INTO authors (name, bio, birth_date, country_code, website)
VALUES (sqlc.arg(name), sqlc.narg(bio), sqlc.narg(birth_date), sqlc.narg(country_code), sqlc.narg(website))
RETURNING *;

-- name: UpdateAuthorBio :execrows
-- Replace (or clear) an author's biography; returns the number of rows changed.
UPDATE authors SET bio = sqlc.narg(bio) WHERE id = sqlc.arg(id);

-- name: BumpAuthorPopularity :one
UPDATE authors
SET popularity_score = popularity_score + @delta::double precision
WHERE id = @id
RETURNING id, popularity_score;

-- name: DeleteAuthor :exec
DELETE FROM authors WHERE id = $1;

-- name: ListAuthorsWithBookCounts :many
-- Every author with how many books they (co-)wrote, including authors with none.
SELECT a.id, a.name, count(ba.book_id) AS book_count
FROM authors a
LEFT JOIN book_authors ba ON ba.author_id = a.id
GROUP BY a.id, a.name
ORDER BY book_count DESC, a.name;
