-- Adversarial forum data: NULL in every nullable column somewhere, parents without
-- children (a board without threads, a thread without posts, a user without posts,
-- a tag on no thread, posts without votes), and post_reports left empty.

INSERT INTO users (username, email, display_name, avatar_url, role, created_at, deleted_at) VALUES
    ('alice', 'alice@example.com', 'Alice A.', 'https://cdn.example.com/a.png', 'admin', '2024-01-01 09:00+00', NULL),
    ('bob', 'bob@example.org', NULL, NULL, 'moderator', '2024-01-02 10:00+00', NULL),
    ('carol', 'carol@example.com', 'Carol', NULL, 'member', '2024-01-03 11:00+00', NULL),
    ('dave', 'dave@example.net', NULL, 'https://cdn.example.com/d.png', 'member', '2024-01-04 12:00+00', '2024-03-01 00:00+00'),
    ('erin', 'erin@example.com', NULL, NULL, 'member', '2024-02-01 08:00+00', NULL),   -- never posts
    ('frank', 'frank@example.org', 'Frank', NULL, 'member', '2024-02-10 08:00+00', '2024-02-20 00:00+00');

INSERT INTO boards (id, slug, title, description, parent_board_id, position, is_private) VALUES
    (1, 'general', 'General', 'Anything goes', NULL, 1, false),
    (2, 'help', 'Help', NULL, NULL, 2, false),
    (3, 'help-sql', 'SQL help', 'Questions about SQL', 2, 1, false),
    (4, 'staff', 'Staff room', NULL, NULL, 9, true);   -- no threads
SELECT setval(pg_get_serial_sequence('boards', 'id'), 4);

INSERT INTO threads (id, board_id, author_id, title, pinned, locked, created_at, last_post_at, view_count) VALUES
    (1, 1, 1, 'Welcome to the forum', true, true, '2024-01-05 09:00+00', '2024-01-06 12:00+00', 120),
    (2, 3, 3, 'Why is my LEFT JOIN returning NULLs?', false, false, '2024-01-10 14:00+00', '2024-01-12 09:30+00', 45),
    (3, 2, 4, 'Lost my password', false, true, '2024-02-01 10:00+00', '2024-02-01 10:00+00', 3),
    (4, 1, 2, 'Empty thread, nobody answered', false, false, '2024-02-15 16:00+00', NULL, 0),   -- no posts
    (5, 3, 1, 'Recursive CTE tips', true, false, '2024-03-01 08:00+00', '2024-03-02 18:00+00', 77);
SELECT setval(pg_get_serial_sequence('threads', 'id'), 5);

-- Reply trees: thread 1 is 1 <- 2 <- 3 <- 4 and 1 <- 5; thread 2 is 6 <- 7, 6 <- 8; thread 5 has two roots.
INSERT INTO posts (id, thread_id, author_id, parent_post_id, body, created_at, edited_at, hidden) VALUES
    (1, 1, 1, NULL, 'Welcome everyone! Read the rules.', '2024-01-05 09:00+00', NULL, false),
    (2, 1, 2, 1, 'Thanks, glad to be here.', '2024-01-05 10:00+00', '2024-01-05 10:05+00', false),
    (3, 1, 3, 2, 'Same here @bob', '2024-01-05 11:00+00', NULL, false),
    (4, 1, 4, 3, 'BUY CHEAP WATCHES', '2024-01-06 12:00+00', NULL, true),
    (5, 1, 3, 1, 'Where are the rules?', '2024-01-05 12:00+00', NULL, false),
    (6, 2, 3, NULL, 'My LEFT JOIN gives NULLs, see https://paste.example.com/abc', '2024-01-10 14:00+00', '2024-01-10 15:00+00', false),
    (7, 2, 1, 6, 'That is how outer joins work.', '2024-01-11 09:00+00', NULL, false),
    (8, 2, 2, 6, 'Filter the nullable side in ON, not WHERE.', '2024-01-12 09:30+00', '2024-01-12 10:00+00', false),
    (9, 3, 4, NULL, 'I lost my password, help', '2024-02-01 10:00+00', NULL, false),
    (10, 5, 1, NULL, 'Use UNION ALL in the recursive term.', '2024-03-01 08:00+00', NULL, false),
    (11, 5, 6, NULL, 'Second root post', '2024-03-02 18:00+00', NULL, false);
SELECT setval(pg_get_serial_sequence('posts', 'id'), 11);

INSERT INTO tags (id, name, color) VALUES
    (1, 'announcement', '#ff0000'),
    (2, 'sql', '#0000ff'),
    (3, 'account', NULL),
    (4, 'unused', NULL);   -- on no thread
SELECT setval(pg_get_serial_sequence('tags', 'id'), 4);

INSERT INTO thread_tags (thread_id, tag_id) VALUES
    (1, 1), (2, 2), (5, 2), (5, 1), (3, 3);

-- Posts 5, 9, 10 and 11 have no votes; post 4 only downvotes.
INSERT INTO votes (user_id, post_id, value, voted_at) VALUES
    (2, 1, 1, '2024-01-05 10:00+00'),
    (3, 1, 1, '2024-01-05 11:00+00'),
    (5, 1, 1, '2024-02-02 11:00+00'),
    (1, 2, 1, '2024-01-05 12:00+00'),
    (1, 4, -1, '2024-01-06 13:00+00'),
    (2, 4, -1, '2024-01-06 14:00+00'),
    (1, 6, 1, '2024-01-10 16:00+00'),
    (2, 7, 1, '2024-01-11 10:00+00'),
    (3, 7, 1, '2024-01-11 11:00+00'),
    (3, 8, -1, '2024-01-12 12:00+00'),
    (4, 3, 1, '2024-01-05 13:00+00');

INSERT INTO moderation_actions (moderator_id, action, target_user_id, target_post_id, target_thread_id, reason, created_at, expires_at) VALUES
    (NULL, 'spam_filter', 4, 4, 1, NULL, '2024-01-06 12:01+00', NULL),
    (2, 'hide_post', 4, 4, 1, 'Spam', '2024-01-06 12:30+00', NULL),
    (2, 'ban_user', 4, NULL, NULL, 'Repeated spam', '2024-01-06 12:31+00', '2024-04-01 00:00+00'),
    (1, 'lock_thread', NULL, NULL, 1, NULL, '2024-01-07 00:00+00', NULL),
    (2, 'warn', 6, NULL, NULL, 'Off topic', '2024-02-15 09:00+00', '2024-02-22 09:00+00');

INSERT INTO notifications (recipient_id, kind, actor_id, post_id, payload, created_at, read_at) VALUES
    (1, 'reply', 2, 2, '{"thread_id": 1, "preview": "Thanks, glad"}', '2024-01-05 10:00+00', '2024-01-05 18:00+00'),
    (2, 'reply', 3, 3, '{"thread_id": 1}', '2024-01-05 11:00+00', NULL),
    (2, 'mention', 3, 3, '{"thread_id": 1, "preview": null}', '2024-01-05 11:00+00', NULL),
    (3, 'vote', NULL, 6, '{"delta": 1}', '2024-01-10 16:00+00', NULL),
    (4, 'moderation', NULL, NULL, '{"reason": "Spam", "action": "ban_user"}', '2024-01-06 12:31+00', '2024-01-07 08:00+00'),
    (1, 'reply', 3, 5, '{}', '2024-01-05 12:00+00', NULL);

REFRESH MATERIALIZED VIEW user_reputation;
