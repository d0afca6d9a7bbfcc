-- name: GetUserByUsername :one
-- column id: bigint not null
-- column username: text not null
-- column email: text not null
-- column display_name: text null
-- column avatar_url: text null
-- column role: user_role not null
-- column created_at: timestamp with time zone not null
-- column deleted_at: timestamp with time zone null
-- column shown_name: text null unwitnessed: computed from a NOT NULL domain column without NOT NULL
-- column email_domain: text not null
-- param $1 username: text not null
-- args: ["bob"]
-- args: ["dave"]
-- args: ["nobody"]
SELECT id, username, email, display_name, avatar_url, role, created_at, deleted_at, shown_name, email_domain
FROM users
WHERE username = $1;

-- name: ListActiveUsers :many
-- column id: bigint not null
-- column username: text null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column name: text null unwitnessed: computed from a NOT NULL domain column without NOT NULL
-- column avatar_url: text null
-- param $1 limit: bigint not null
-- param $2 offset: bigint not null
-- args: [10, 0]
-- args: [2, 1]
SELECT id, username, coalesce(display_name, username) AS name, avatar_url
FROM users
WHERE deleted_at IS NULL
ORDER BY created_at
LIMIT $1 OFFSET $2;

-- name: FindUserByEmail :one
-- column id: bigint not null
-- column username: text null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column display_name: text null
-- column member_for: interval not null
-- param $1 email: text not null
-- args: ["BOB@example.org"]
-- args: ["carol@EXAMPLE.com"]
SELECT id, username, display_name, now() - created_at AS member_for
FROM users
WHERE lower(email) = lower($1);

-- name: CreateUser :one
-- column id: bigint not null
-- column username: text not null
-- column display_name: text null
-- column role: user_role not null
-- column shown_name: text not null
-- column email_domain: text not null
-- param $1 username: handle not null
-- param $2 email: text not null
-- param $3 display_name: text null
-- args: ["newbie", "newbie@example.com", null]
-- args: ["newer", "newer@example.org", "Newer"]
INSERT INTO users (username, email, display_name)
VALUES ($1, $2, $3)
RETURNING id, username, display_name, role, shown_name, email_domain;

-- name: UpdateProfile :one
-- needs: PostgreSQL 18 (RETURNING old/new)
-- column id: bigint not null
-- column display_name: text null
-- column avatar_url: text null
-- column shown_name: text null unwitnessed: computed from a NOT NULL domain column without NOT NULL
-- column previous_avatar_url: text null
-- param $1 display_name: text null
-- param $2 avatar_url: text null
-- param $3 id: bigint not null
-- args: [null, null, 2]
-- args: ["Alice", "https://cdn.example.com/a2.png", 1]
-- args: ["Bobby", null, 2]
UPDATE users
SET display_name = coalesce(sqlc.narg(display_name), display_name),
    avatar_url = sqlc.narg(avatar_url)
WHERE id = sqlc.arg(id)
RETURNING id, display_name, avatar_url, shown_name, old.avatar_url AS previous_avatar_url;

-- name: SoftDeleteUser :execrows
-- param $1 id: bigint not null
-- args: [3]
-- args: [4]
UPDATE users SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL;

-- name: ListBoards :many
-- column id: integer not null
-- column slug: text not null
-- column title: text not null
-- column description: text null
-- column parent_slug: text null
-- column thread_count: bigint not null
-- column last_activity: timestamp with time zone null
-- column pinned_threads: bigint not null
SELECT b.id, b.slug, b.title, b.description,
       parent.slug AS parent_slug,
       count(t.id) AS thread_count,
       max(t.last_post_at) AS last_activity,
       count(*) FILTER (WHERE t.pinned) AS pinned_threads
FROM boards b
LEFT JOIN boards parent ON parent.id = b.parent_board_id
LEFT JOIN threads t ON t.board_id = b.id
GROUP BY b.id, parent.slug
ORDER BY b.position, b.id;

-- name: BoardTree :many
-- column id: integer not null
-- column slug: text not null
-- column parent_board_id: integer null
-- column depth: integer not null
-- column path: text not null
WITH RECURSIVE tree AS (
    SELECT id, slug, parent_board_id, 0 AS depth, slug AS path
    FROM boards
    WHERE parent_board_id IS NULL
    UNION ALL
    SELECT b.id, b.slug, b.parent_board_id, tree.depth + 1, tree.path || '/' || b.slug
    FROM boards b
    JOIN tree ON b.parent_board_id = tree.id
)
SELECT id, slug, parent_board_id, depth, path FROM tree ORDER BY path;

-- name: ThreadReplyTree :many
-- column id: bigint not null
-- column parent_post_id: bigint null
-- column depth: integer not null
-- column path: bigint[] not null
-- column author: text null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column replying_to: text null
-- column edited_at: timestamp with time zone null
-- param $1 thread_id: bigint not null
-- args: [1]
-- args: [2]
-- args: [4]
WITH RECURSIVE tree AS (
    SELECT p.id, p.parent_post_id, p.author_id, p.edited_at, 1 AS depth, ARRAY[p.id] AS path
    FROM posts p
    WHERE p.thread_id = $1 AND p.parent_post_id IS NULL
    UNION ALL
    SELECT c.id, c.parent_post_id, c.author_id, c.edited_at, tree.depth + 1, tree.path || c.id
    FROM posts c
    JOIN tree ON c.parent_post_id = tree.id
)
SELECT tree.id, tree.parent_post_id, tree.depth, tree.path,
       u.username AS author,
       parent_author.username AS replying_to,
       tree.edited_at
FROM tree
JOIN users u ON u.id = tree.author_id
LEFT JOIN posts pp ON pp.id = tree.parent_post_id
LEFT JOIN users parent_author ON parent_author.id = pp.author_id
ORDER BY tree.path;

-- name: PostAncestors :many
-- column id: bigint not null
-- column parent_post_id: bigint null
-- column distance: integer not null
-- column body: text not null
-- param $1 id: bigint not null
-- args: [4]
-- args: [9]
WITH RECURSIVE up AS (
    SELECT id, parent_post_id, 0 AS distance FROM posts WHERE id = $1
    UNION ALL
    SELECT p.id, p.parent_post_id, up.distance + 1
    FROM posts p
    JOIN up ON p.id = up.parent_post_id
)
SELECT up.id, up.parent_post_id, up.distance, p.body
FROM up
JOIN posts p ON p.id = up.id
ORDER BY up.distance DESC;

-- name: ThreadPage :many
-- column id: bigint not null
-- column body: text not null
-- column created_at: timestamp with time zone not null
-- column edited_at: timestamp with time zone null
-- column username: text null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column avatar_url: text null
-- column score: bigint not null
-- column raw_score: bigint null
-- column vote_count: bigint not null
-- param $1 thread_id: bigint not null
-- param $2 limit: bigint not null
-- args: [1, 50]
-- args: [5, 50]
SELECT p.id, p.body, p.created_at, p.edited_at, u.username, u.avatar_url,
       coalesce(sum(v.value), 0) AS score,
       sum(v.value) AS raw_score,
       count(v.user_id) AS vote_count
FROM posts p
JOIN users u ON u.id = p.author_id
LEFT JOIN votes v ON v.post_id = p.id
WHERE p.thread_id = $1 AND NOT p.hidden
GROUP BY p.id, u.id
ORDER BY p.created_at
LIMIT $2;

-- name: BoardThreadSummaries :many
-- column thread_id: bigint not null
-- column board_slug: text not null
-- column title: text not null
-- column pinned: boolean not null
-- column last_post_at: timestamp with time zone null
-- column last_post_id: bigint null
-- column last_poster: text null
-- column last_poster_display_name: text null
-- column post_count: bigint not null
-- param $1 board_id: integer not null
-- args: [1]
-- args: [3]
SELECT thread_id, board_slug, title, pinned, last_post_at, last_post_id, last_poster,
       last_poster_display_name, post_count
FROM thread_summaries
WHERE board_id = $1
ORDER BY pinned DESC, last_post_at DESC NULLS LAST;

-- name: ReputationLeaderboard :many
-- column user_id: bigint not null
-- column username: text null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column score: bigint not null
-- column upvotes: bigint not null
-- column post_count: bigint not null
-- column last_post_at: timestamp with time zone null
-- column position: bigint not null
-- param $1 limit: bigint not null
-- args: [10]
SELECT r.user_id, r.username, r.score, r.upvotes, r.post_count, r.last_post_at,
       rank() OVER (ORDER BY r.score DESC) AS position
FROM user_reputation r
JOIN users u ON u.id = r.user_id
WHERE u.deleted_at IS NULL
ORDER BY position, r.user_id
LIMIT $1;

-- name: UsersWithPositiveReputation :many
-- column id: bigint not null
-- column username: text null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column positive_score: bigint null
-- column upvotes: bigint null
SELECT u.id, u.username, r.score AS positive_score, r.upvotes
FROM users u
LEFT JOIN user_reputation r ON r.user_id = u.id AND r.score > 0
ORDER BY u.id;

-- name: UnansweredThreads :many
-- column id: bigint not null
-- column title: text not null
-- column created_at: timestamp with time zone not null
-- column author: text null unwitnessed: a NOT NULL domain, no NOT NULL on the column
SELECT t.id, t.title, t.created_at, u.username AS author
FROM threads t
JOIN users u ON u.id = t.author_id
LEFT JOIN posts p ON p.thread_id = t.id
WHERE p.id IS NULL
ORDER BY t.created_at;

-- name: UpvotesInThread :many
-- column post_id: bigint not null
-- column voter_id: bigint not null
-- column value: smallint not null
-- column voted_at: timestamp with time zone not null
-- param $1 thread_id: bigint not null
-- args: [1]
-- args: [2]
SELECT p.id AS post_id, v.user_id AS voter_id, v.value, v.voted_at
FROM posts p
LEFT JOIN votes v ON v.post_id = p.id
WHERE p.thread_id = $1 AND v.value > 0
ORDER BY p.id, v.user_id;

-- name: RecentlyEditedPosts :many
-- column id: bigint not null
-- column edited_at: timestamp with time zone not null
-- column edit_delay: interval not null
-- column editor: text null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- param $1 edited_at: timestamp with time zone not null
-- args: ["2024-01-01 00:00+00"]
SELECT p.id, p.edited_at, p.edited_at - p.created_at AS edit_delay, u.username AS editor
FROM posts p
JOIN users u ON u.id = p.author_id
WHERE p.edited_at IS NOT NULL AND p.edited_at >= $1
ORDER BY p.edited_at DESC;

-- name: ModerationLog :many
-- column id: bigint not null
-- column action: moderation_kind not null
-- column reason: text null
-- column reason_text: text not null
-- column moderator: text null
-- column moderator_name: text not null
-- column target_user: text null
-- column target_post_body: text null
-- column target_thread_title: text null
-- column expires_at: timestamp with time zone null
SELECT m.id, m.action, m.reason,
       coalesce(m.reason, 'no reason given') AS reason_text,
       moderator.username AS moderator,
       coalesce(moderator.username, 'automod') AS moderator_name,
       target.username AS target_user,
       p.body AS target_post_body,
       t.title AS target_thread_title,
       m.expires_at
FROM moderation_actions m
LEFT JOIN users moderator ON moderator.id = m.moderator_id
LEFT JOIN users target ON target.id = m.target_user_id
LEFT JOIN posts p ON p.id = m.target_post_id
LEFT JOIN threads t ON t.id = m.target_thread_id
ORDER BY m.created_at DESC;

-- name: ModerationByKind :many
-- column action: moderation_kind not null
-- column total: bigint not null
-- column automated: bigint not null
-- column latest_expiry: timestamp with time zone null
-- column reasons: text null
-- column ids: bigint[] not null
-- column first_at: timestamp with time zone not null
-- column moderators: bigint[] null
SELECT m.action,
       count(*) AS total,
       count(*) FILTER (WHERE m.moderator_id IS NULL) AS automated,
       max(m.expires_at) AS latest_expiry,
       string_agg(m.reason, '; ' ORDER BY m.created_at) AS reasons,
       array_agg(m.id ORDER BY m.id) AS ids,
       min(m.created_at) AS first_at,
       array_agg(DISTINCT m.moderator_id) FILTER (WHERE m.moderator_id IS NOT NULL) AS moderators
FROM moderation_actions m
GROUP BY m.action
ORDER BY m.action;

-- name: ReportStats :one
-- column reports: bigint not null
-- column worst: integer null
-- column mean_severity: numeric null
-- column total_severity: bigint null
-- column first_report: timestamp with time zone null
-- column any_notes: boolean null
-- column ids: bigint[] null
-- column notes: text null
SELECT count(*) AS reports,
       max(severity) AS worst,
       avg(severity) AS mean_severity,
       sum(severity) AS total_severity,
       min(created_at) AS first_report,
       bool_or(note IS NOT NULL) AS any_notes,
       array_agg(id) AS ids,
       string_agg(coalesce(note, ''), ',') AS notes
FROM post_reports;

-- name: PostVoteRange :many
-- column first_vote: timestamp with time zone not null
-- column best: smallint not null
-- column worst: smallint not null
-- column voters: bigint not null
-- param $1 post_id: bigint not null
-- args: [1]
-- args: [4]
-- args: [5]
SELECT min(voted_at) AS first_vote, max(value) AS best, min(value) AS worst, count(*) AS voters
FROM votes
WHERE post_id = $1
HAVING count(*) > 0;

-- name: AuthorPostStats :one
-- column posts: bigint not null
-- column latest: timestamp with time zone null
-- column total_length: bigint null
-- column average_length: numeric null
-- column total_length_or_zero: bigint not null
-- param $1 author_id: bigint not null
-- args: [1]
-- args: [5]
SELECT count(*) AS posts,
       max(created_at) AS latest,
       sum(body_length) AS total_length,
       avg(body_length) AS average_length,
       coalesce(sum(body_length), 0) AS total_length_or_zero
FROM posts
WHERE author_id = $1;

-- name: TagsWithThreads :many
-- column id: integer not null
-- column name: text not null
-- column color: text null
-- column threads: bigint not null
-- column thread_ids: bigint[] null
-- column all_thread_ids: bigint[] not null
SELECT tg.id, tg.name, tg.color,
       count(tt.thread_id) AS threads,
       array_agg(tt.thread_id ORDER BY tt.thread_id) FILTER (WHERE tt.thread_id IS NOT NULL) AS thread_ids,
       array_agg(tt.thread_id) AS all_thread_ids
FROM tags tg
LEFT JOIN thread_tags tt ON tt.tag_id = tg.id
GROUP BY tg.id
ORDER BY tg.name;

-- name: ThreadsWithTagList :many
-- column id: bigint not null
-- column title: text not null
-- column tags: text null
-- column tags_or_empty: text not null
-- column tag_count: bigint not null
SELECT t.id, t.title,
       string_agg(tg.name, ', ' ORDER BY tg.name) AS tags,
       coalesce(string_agg(tg.name, ', ' ORDER BY tg.name), '') AS tags_or_empty,
       count(tg.id) AS tag_count
FROM threads t
LEFT JOIN thread_tags tt ON tt.thread_id = t.id
LEFT JOIN tags tg ON tg.id = tt.tag_id
GROUP BY t.id
ORDER BY t.id;

-- name: ThreadsByTags :many
-- column id: bigint not null
-- column title: text not null
-- column tag: text not null
-- column color: text null
-- param $1 name: text[] not null
-- args: ["{sql,account}"]
SELECT t.id, t.title, tg.name AS tag, tg.color
FROM threads t
JOIN thread_tags tt ON tt.thread_id = t.id
JOIN tags tg ON tg.id = tt.tag_id
WHERE tg.name = ANY($1)
ORDER BY t.id, tg.name;

-- name: NotificationFeed :many
-- column id: bigint not null
-- column kind: notification_kind not null
-- column preview: text null
-- column thread_id: bigint null
-- column preview_json: jsonb null
-- column has_preview_key: boolean not null
-- column actor: text null
-- column is_read: boolean not null
-- column created_at: timestamp with time zone not null
-- param $1 recipient_id: bigint not null
-- args: [1]
-- args: [2]
-- args: [4]
SELECT n.id, n.kind,
       n.payload ->> 'preview' AS preview,
       (n.payload ->> 'thread_id')::bigint AS thread_id,
       n.payload -> 'preview' AS preview_json,
       n.payload ? 'preview' AS has_preview_key,
       actor.username AS actor,
       n.read_at IS NOT NULL AS is_read,
       n.created_at
FROM notifications n
LEFT JOIN users actor ON actor.id = n.actor_id
WHERE n.recipient_id = $1
ORDER BY n.created_at DESC, n.id;

-- name: MarkNotificationsRead :execrows
-- param $1 recipient_id: bigint not null
-- param $2 before: timestamp with time zone null
-- args: [2, null]
-- args: [1, "2024-01-05 11:00+00"]
UPDATE notifications
SET read_at = now()
WHERE recipient_id = @recipient_id
  AND read_at IS NULL
  AND (sqlc.narg(before)::timestamptz IS NULL OR created_at < sqlc.narg(before));

-- name: UnreadSummary :one
-- column unread: bigint not null
-- column has_mentions: boolean not null
-- column oldest_unread: timestamp with time zone null
-- param $1 recipient_id: bigint not null
-- args: [2]
-- args: [4]
SELECT count(*) AS unread,
       EXISTS (SELECT 1 FROM notifications m WHERE m.recipient_id = $1 AND m.kind = 'mention' AND m.read_at IS NULL) AS has_mentions,
       min(created_at) AS oldest_unread
FROM notifications
WHERE recipient_id = $1 AND read_at IS NULL;

-- name: UserProfileCard :one
-- column id: bigint not null
-- column username: text null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column post_count: bigint not null
-- column last_post_at: timestamp with time zone null
-- column first_thread_title: text null
-- column ever_banned: boolean not null
-- column last_vote_at: timestamp with time zone null
-- column recent_post_ids: bigint[] not null
-- param $1 id: bigint not null
-- args: [1]
-- args: [5]
-- args: [6]
SELECT u.id, u.username,
       (SELECT count(*) FROM posts p WHERE p.author_id = u.id) AS post_count,
       (SELECT p.created_at FROM posts p WHERE p.author_id = u.id ORDER BY p.created_at DESC LIMIT 1) AS last_post_at,
       (SELECT t.title FROM threads t WHERE t.author_id = u.id ORDER BY t.created_at LIMIT 1) AS first_thread_title,
       EXISTS (SELECT 1 FROM moderation_actions m WHERE m.target_user_id = u.id AND m.action = 'ban_user') AS ever_banned,
       (SELECT max(v.voted_at) FROM votes v WHERE v.user_id = u.id) AS last_vote_at,
       ARRAY(SELECT p.id FROM posts p WHERE p.author_id = u.id ORDER BY p.id DESC LIMIT 3) AS recent_post_ids
FROM users u
WHERE u.id = $1;

-- name: FirstReplyPerThread :many
-- column id: bigint not null
-- column title: text not null
-- column first_replier_id: bigint null
-- column first_reply_at: timestamp with time zone null
-- param $1 board_id: integer not null
-- args: [1]
-- args: [2]
SELECT t.id, t.title, first_reply.author_id AS first_replier_id, first_reply.created_at AS first_reply_at
FROM threads t
LEFT JOIN LATERAL (
    SELECT p.author_id, p.created_at
    FROM posts p
    WHERE p.thread_id = t.id AND p.parent_post_id IS NOT NULL
    ORDER BY p.created_at
    LIMIT 1
) first_reply ON true
WHERE t.board_id = $1
ORDER BY t.id;

-- name: TopPostsPerThread :many
-- column thread_id: bigint not null
-- column post_id: bigint not null
-- column score: bigint not null
-- column edited_at: timestamp with time zone null
-- param $1 limit: bigint not null
-- args: [2]
SELECT t.id AS thread_id, top.id AS post_id, top.score, top.edited_at
FROM threads t
CROSS JOIN LATERAL (
    SELECT p.id, p.edited_at, coalesce(sum(v.value), 0) AS score
    FROM posts p
    LEFT JOIN votes v ON v.post_id = p.id
    WHERE p.thread_id = t.id
    GROUP BY p.id
    ORDER BY score DESC, p.id
    LIMIT $1
) top
ORDER BY t.id, top.score DESC, top.id;

-- name: BoardRootPosts :many
-- column slug: text not null
-- column thread_id: bigint null
-- column root_post_id: bigint null
-- column author: text null
-- column author_avatar: text null
SELECT b.slug, t.id AS thread_id, p.id AS root_post_id, u.username AS author, u.avatar_url AS author_avatar
FROM boards b
LEFT JOIN (threads t JOIN posts p ON p.thread_id = t.id AND p.parent_post_id IS NULL) ON t.board_id = b.id
LEFT JOIN users u ON u.id = p.author_id
ORDER BY b.id, t.id;

-- name: ThreadsWithRootAuthor :many
-- column id: bigint not null
-- column title: text not null
-- column root_post_id: bigint not null
-- column root_edited_at: timestamp with time zone null
-- column username: text null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- param $1 board_id: integer not null
-- args: [1]
-- args: [3]
SELECT t.id, t.title, p.id AS root_post_id, p.edited_at AS root_edited_at, u.username
FROM threads t
LEFT JOIN posts p ON p.thread_id = t.id AND p.parent_post_id IS NULL
JOIN users u ON u.id = p.author_id
WHERE t.board_id = $1
ORDER BY t.id, p.id;

-- name: TagUsage :many
-- column tag: text not null
-- column thread_id: bigint null
-- column title: text null
SELECT tg.name AS tag, t.id AS thread_id, t.title
FROM thread_tags tt
JOIN threads t ON t.id = tt.thread_id
RIGHT JOIN tags tg ON tg.id = tt.tag_id
ORDER BY tg.name, t.id;

-- name: ThreadsVersusPostsSince :many
-- column user_id: bigint not null
-- column threads: bigint null
-- column posts: bigint null
-- column either_count: bigint not null
-- param $1 created_at: timestamp with time zone not null
-- args: ["2024-02-10 00:00+00"]
-- args: ["2024-01-01 00:00+00"]
SELECT user_id, tc.threads, pc.posts, coalesce(tc.threads, pc.posts) AS either_count
FROM (SELECT author_id AS user_id, count(*) AS threads FROM threads WHERE created_at >= $1 GROUP BY author_id) tc
FULL JOIN (SELECT author_id AS user_id, count(*) AS posts FROM posts WHERE created_at >= $1 GROUP BY author_id) pc
    USING (user_id)
ORDER BY user_id;

-- name: UserActivity :many
-- column kind: text not null
-- column id: bigint not null
-- column headline: text null
-- column happened_at: timestamp with time zone null
-- param $1 author_id: bigint not null
-- args: [2]
-- args: [6]
SELECT 'thread' AS kind, t.id, t.title AS headline, t.last_post_at AS happened_at
FROM threads t
WHERE t.author_id = $1
UNION ALL
SELECT 'post', p.id, NULL, p.created_at
FROM posts p
WHERE p.author_id = $1
ORDER BY happened_at DESC NULLS LAST, id;

-- name: ModeratorsWhoStartedThreads :many
-- column moderator_id: bigint not null
SELECT moderator_id FROM moderation_actions
INTERSECT
SELECT author_id FROM threads
ORDER BY moderator_id;

-- name: TargetedNonAdmins :many
-- column target_user_id: bigint null
SELECT target_user_id FROM moderation_actions
EXCEPT
SELECT id FROM users WHERE role = 'admin'
ORDER BY target_user_id NULLS FIRST;

-- name: ThreadTimeline :many
-- column id: bigint not null
-- column n: bigint not null
-- column previous_at: timestamp with time zone null
-- column gap: interval null
-- column next_author_id: bigint null
-- column op_id: bigint not null
-- column thread_posts: bigint not null
-- column running_length: bigint not null
-- param $1 thread_id: bigint not null
-- args: [1]
-- args: [3]
SELECT p.id,
       row_number() OVER w AS n,
       lag(p.created_at) OVER w AS previous_at,
       p.created_at - lag(p.created_at) OVER w AS gap,
       lead(p.author_id) OVER w AS next_author_id,
       first_value(p.author_id) OVER w AS op_id,
       count(*) OVER (PARTITION BY p.thread_id) AS thread_posts,
       sum(p.body_length) OVER w AS running_length
FROM posts p
WHERE p.thread_id = $1
WINDOW w AS (PARTITION BY p.thread_id ORDER BY p.created_at, p.id)
ORDER BY n;

-- name: ThreadBadges :many
-- column id: bigint not null
-- column badge: text null
-- column heat: text not null
-- column views_or_null: integer null
-- column activity_at: timestamp with time zone not null
-- column capped_last_post: timestamp with time zone not null
-- column stale_days: integer null
-- param $1 cutoff: timestamp with time zone not null
-- args: ["2024-02-01 00:00+00"]
SELECT t.id,
       CASE WHEN t.locked THEN 'locked' WHEN t.pinned THEN 'pinned' END AS badge,
       CASE WHEN t.view_count >= 100 THEN 'hot' WHEN t.view_count >= 10 THEN 'warm' ELSE 'cold' END AS heat,
       nullif(t.view_count, 0) AS views_or_null,
       greatest(t.last_post_at, t.created_at) AS activity_at,
       least(t.last_post_at, @cutoff::timestamptz) AS capped_last_post,
       (@cutoff::timestamptz)::date - t.last_post_at::date AS stale_days
FROM threads t
ORDER BY t.id;

-- name: PostLinksAndMentions :many
-- column id: bigint not null
-- column linked_host: text null
-- column mentioned: text null
-- column voter_count: integer null
-- column voter_cardinality: integer not null
-- column first_word: text not null
-- column mention_at: integer not null
SELECT p.id,
       (regexp_match(p.body, 'https?://([^/ ]+)'))[1] AS linked_host,
       substring(p.body FROM '@([a-z0-9_]+)') AS mentioned,
       array_length(ARRAY(SELECT v.user_id FROM votes v WHERE v.post_id = p.id), 1) AS voter_count,
       cardinality(ARRAY(SELECT v.user_id FROM votes v WHERE v.post_id = p.id)) AS voter_cardinality,
       split_part(p.body, ' ', 1) AS first_word,
       position('@' IN p.body) AS mention_at
FROM posts p
ORDER BY p.id;

-- name: UserLabels :many
-- column id: bigint not null
-- column label: text not null
-- column strict_label: text null
-- column extras: text not null
-- column shout: text null
-- column deleted_on: text null
-- column joined_month: timestamp with time zone not null
-- column joined_year: numeric not null
-- column email_length: integer not null
-- column formatted: text not null
SELECT id,
       concat(display_name, ' <', email, '>') AS label,
       display_name || ' <' || email || '>' AS strict_label,
       concat_ws(' ', display_name, avatar_url) AS extras,
       upper(display_name) AS shout,
       to_char(deleted_at, 'YYYY-MM-DD') AS deleted_on,
       date_trunc('month', created_at) AS joined_month,
       extract(year FROM created_at) AS joined_year,
       length(email) AS email_length,
       format('%s (%s)', display_name, role) AS formatted
FROM users
ORDER BY id;

-- name: UserModerationFlags :many
-- column id: bigint not null
-- column has_moderated: boolean null
-- column never_targeted: boolean null
-- column posted: boolean not null
-- param $1 action: moderation_kind not null
-- args: ["lock_thread"]
-- args: ["ban_user"]
SELECT u.id,
       u.id IN (SELECT m.moderator_id FROM moderation_actions m) AS has_moderated,
       u.id NOT IN (SELECT m.target_user_id FROM moderation_actions m WHERE m.action = $1) AS never_targeted,
       u.id IN (SELECT p.author_id FROM posts p) AS posted
FROM users u
ORDER BY u.id;

-- name: CreatePost :one
-- column id: bigint not null
-- column parent_post_id: bigint null
-- column created_at: timestamp with time zone not null
-- column edited_at: timestamp with time zone null
-- column body_length: integer not null
-- param $1 thread_id: bigint not null
-- param $2 author_id: bigint not null
-- param $3 parent_post_id: bigint null
-- param $4 body: text not null
-- args: [2, 5, 6, "Me too"]
-- args: [4, 5, null, "First!"]
INSERT INTO posts (thread_id, author_id, parent_post_id, body)
VALUES ($1, $2, $3, $4)
RETURNING id, parent_post_id, created_at, edited_at, body_length;

-- name: EditPost :one
-- needs: PostgreSQL 18 (RETURNING old/new)
-- column id: bigint not null
-- column body: text not null
-- column edited_at: timestamp with time zone not null
-- column previous_edit: timestamp with time zone null
-- column body_length: integer not null
-- column previous_length: integer not null
-- param $1 body: text not null
-- param $2 id: bigint not null
-- param $3 author_id: bigint not null
-- args: ["Welcome! Rules are pinned.", 1, 1]
-- args: ["Thanks!", 2, 2]
UPDATE posts
SET body = $1, edited_at = now()
WHERE id = $2 AND author_id = $3
RETURNING id, body, edited_at, old.edited_at AS previous_edit, body_length, old.body_length AS previous_length;

-- name: LockBoardThreads :many
-- needs: PostgreSQL 18 (RETURNING old/new)
-- column id: bigint not null
-- column board_title: text not null
-- column last_post_at: timestamp with time zone null
-- column was_locked: boolean not null
-- param $1 slug: text not null
-- args: ["general"]
UPDATE threads t
SET locked = true
FROM boards b
WHERE b.id = t.board_id AND b.slug = $1
RETURNING t.id, b.title AS board_title, t.last_post_at, old.locked AS was_locked;

-- name: RefreshThreadLastPost :one
-- column id: bigint not null
-- column last_post_at: timestamp with time zone null
-- param $1 id: bigint not null
-- args: [1]
-- args: [4]
UPDATE threads t
SET last_post_at = (SELECT max(p.created_at) FROM posts p WHERE p.thread_id = t.id)
WHERE t.id = $1
RETURNING t.id, t.last_post_at;

-- name: PurgeDeletedUsersNotifications :many
-- column id: bigint not null
-- column kind: notification_kind not null
-- column deleted_at: timestamp with time zone not null
-- column actor_id: bigint null
DELETE FROM notifications n
USING users u
WHERE u.id = n.recipient_id AND u.deleted_at IS NOT NULL
RETURNING n.id, n.kind, u.deleted_at, n.actor_id;

-- name: DeletePosts :many
-- column id: bigint not null
-- column thread_id: bigint not null
-- column parent_post_id: bigint null
-- column edited_at: timestamp with time zone null
-- param $1 id: bigint[] not null
-- args: ["{10,4}"]
DELETE FROM posts WHERE id = ANY($1) RETURNING id, thread_id, parent_post_id, edited_at;

-- name: UpsertTag :one
-- needs: PostgreSQL 18 (RETURNING old/new)
-- column id: integer not null
-- column name: text not null
-- column color: text null
-- column previous_color: text null
-- column inserted: boolean not null
-- param $1 name: text not null
-- param $2 color: text null
-- args: ["sql", null]
-- args: ["brand-new", "#00ff00"]
INSERT INTO tags (name, color)
VALUES ($1, $2)
ON CONFLICT (name) DO UPDATE SET color = EXCLUDED.color
RETURNING id, name, color, old.color AS previous_color, old.id IS NULL AS inserted;

-- name: CastVote :one
-- needs: PostgreSQL 18 (RETURNING old/new)
-- column post_id: bigint not null
-- column value: smallint not null
-- column previous_value: smallint null
-- column previous_voted_at: timestamp with time zone null
-- param $1 user_id: bigint not null
-- param $2 post_id: bigint not null
-- param $3 value: vote_value not null
-- args: [5, 2, 1]
-- args: [1, 2, -1]
INSERT INTO votes (user_id, post_id, value)
VALUES (@user_id, @post_id, @value)
ON CONFLICT (user_id, post_id) DO UPDATE SET value = EXCLUDED.value, voted_at = now()
RETURNING post_id, value, old.value AS previous_value, old.voted_at AS previous_voted_at;

-- name: RemoveVote :execrows
-- param $1 user_id: bigint not null
-- param $2 post_id: bigint not null
-- args: [1, 2]
DELETE FROM votes WHERE user_id = $1 AND post_id = $2;

-- name: MonthlyPostsByBoard :many
-- column board: text not null
-- column month: timestamp with time zone null
-- column posts: bigint not null
-- column level: integer not null
-- column longest: integer null
-- param $1 created_at: timestamp with time zone not null
-- args: ["2024-01-01 00:00+00"]
-- args: ["2100-01-01 00:00+00"]
SELECT coalesce(b.slug, 'all boards') AS board,
       date_trunc('month', p.created_at) AS month,
       count(*) AS posts,
       GROUPING(b.slug, date_trunc('month', p.created_at)) AS level,
       max(p.body_length) AS longest
FROM posts p
JOIN threads t ON t.id = p.thread_id
JOIN boards b ON b.id = t.board_id
WHERE p.created_at >= $1
GROUP BY ROLLUP (b.slug, date_trunc('month', p.created_at))
ORDER BY level, board, month;

-- name: LatestPostPerThread :many
-- column thread_id: bigint not null
-- column id: bigint not null
-- column edited_at: timestamp with time zone null
-- column author: text null unwitnessed: a NOT NULL domain, no NOT NULL on the column
SELECT DISTINCT ON (p.thread_id) p.thread_id, p.id, p.edited_at, u.username AS author
FROM posts p
JOIN users u ON u.id = p.author_id
ORDER BY p.thread_id, p.created_at DESC, p.id DESC;

-- name: ThreadScores :many
-- column id: bigint not null
-- column score: bigint null
-- column score_or_zero: bigint not null
-- column downvoted: boolean null
-- param $1 thread_id: bigint not null
-- args: [1]
-- args: [5]
WITH vote_totals AS (
    SELECT post_id, sum(value) AS score, bool_or(value < 0) AS downvoted
    FROM votes
    GROUP BY post_id
)
SELECT p.id, vt.score, coalesce(vt.score, 0) AS score_or_zero, vt.downvoted
FROM posts p
LEFT JOIN vote_totals vt ON vt.post_id = p.id
WHERE p.thread_id = $1
ORDER BY p.id;

-- name: SearchThreads :many
-- column id: bigint not null
-- column title: text not null
-- column board_id: integer not null
-- column last_post_at: timestamp with time zone null
-- param $1 board_id: integer null
-- param $2 pinned: boolean null
-- param $3 q: text not null
-- args: [null, null, ""]
-- args: [1, true, "welcome"]
SELECT t.id, t.title, t.board_id, t.last_post_at
FROM threads t
WHERE (sqlc.narg(board_id)::int IS NULL OR t.board_id = sqlc.narg(board_id))
  AND (sqlc.narg(pinned)::boolean IS NULL OR t.pinned = sqlc.narg(pinned))
  AND t.title ILIKE '%' || sqlc.arg(q) || '%'
ORDER BY t.id;

-- name: RecordModeration :one
-- column id: bigint not null
-- column moderator_id: bigint null
-- column action: moderation_kind not null
-- column target_post_id: bigint null
-- column reason: text null
-- column expires_at: timestamp with time zone null
-- param $1 moderator_id: bigint null
-- param $2 action: moderation_kind not null
-- param $3 target_user_id: bigint null
-- param $4 reason: text null
-- args: [null, "spam_filter", 4, null]
-- args: [2, "warn", 3, "Be nice"]
INSERT INTO moderation_actions (moderator_id, action, target_user_id, reason)
VALUES ($1, $2, $3, $4)
RETURNING id, moderator_id, action, target_post_id, reason, expires_at;

-- name: PostAuthorsForDisplay :many
-- column id: bigint not null
-- column author_name: text null
-- column author_label: text null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column thread_title: text not null
-- param $1 thread_id: bigint not null
-- args: [1]
-- args: [5]
SELECT p.id,
       CASE WHEN u.deleted_at IS NULL THEN u.username END AS author_name,
       CASE WHEN u.deleted_at IS NULL THEN u.username ELSE '[deleted]' END AS author_label,
       t.title AS thread_title
FROM posts p
JOIN users u ON u.id = p.author_id
JOIN threads t ON t.id = p.thread_id
WHERE p.thread_id = $1
ORDER BY p.id;

-- name: UsersWithoutPosts :many
-- column id: bigint not null
-- column username: text null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column display_name: text null
SELECT u.id, u.username, u.display_name
FROM users u
WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.author_id = u.id)
   OR u.display_name IS NULL
ORDER BY u.id;
