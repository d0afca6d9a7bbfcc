-- name: CreateReview :one
INSERT INTO reviews (book_id, customer_id, rating, title, body, sentiment_score)
VALUES (@book_id, sqlc.narg(customer_id), @rating, sqlc.narg(title), sqlc.narg(body), sqlc.narg(sentiment_score))
RETURNING *;

-- name: ListReviewsForBook :many
-- Reviews for a book, most helpful first; the reviewer may have deleted their account.
SELECT r.id, r.rating, r.title, r.body, r.helpful_votes, r.created_at, c.display_name AS reviewer_name
FROM reviews r
LEFT JOIN customers c ON c.id = r.customer_id
WHERE r.book_id = $1
ORDER BY r.helpful_votes DESC, r.created_at DESC
LIMIT $2 OFFSET $3;

-- name: GetBookRatingSummary :one
SELECT count(*) AS review_count, avg(rating) AS average_rating, min(rating) AS lowest, max(rating) AS highest
FROM reviews
WHERE book_id = $1;

-- name: VoteReviewHelpful :execrows
UPDATE reviews SET helpful_votes = helpful_votes + 1 WHERE id = $1;

-- name: DeleteReview :execresult
DELETE FROM reviews WHERE id = @id AND customer_id = @customer_id;

-- name: RefreshAverageRatings :execrows
-- Recompute the cached average_rating on every reviewed book.
WITH ratings AS (
    SELECT book_id, avg(rating)::real AS average_rating
    FROM reviews
    GROUP BY book_id
)
UPDATE books b
SET average_rating = ratings.average_rating
FROM ratings
WHERE b.id = ratings.book_id;
