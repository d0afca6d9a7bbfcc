-- Adversarial data: every nullable column is NULL somewhere; parents without children
-- (an organization with no members, projects, labels or invoices; a user with no
-- memberships; a project with no tasks; a task with no comments or labels; a label on no
-- task); time_entries is left empty.

INSERT INTO organizations (slug, name, plan, billing_email, settings, seat_limit, created_at, deleted_at) VALUES
    ('acme', 'Acme Corp', 'team', 'billing@acme.test',
     '{"theme": "dark", "features": {"sso": true, "beta": false}, "locale": "en-US"}', 50,
     '2023-01-10 09:00:00+00', NULL),                                                     -- 1
    ('globex', 'Globex', 'enterprise', NULL, '{"locale": "de-DE"}', NULL,
     '2023-03-05 12:00:00+00', NULL),                                                     -- 2
    ('empty-co', 'Empty Co', 'free', NULL, '{}', NULL,
     '2024-02-01 08:00:00+00', '2024-04-01 08:00:00+00');                                 -- 3

INSERT INTO users (email, full_name, display_name, avatar_url, timezone, last_login_at, created_at) VALUES
    ('alice@acme.test', 'Alice Anderson', 'alice', 'https://img.test/alice.png', 'Europe/Berlin',
     '2024-06-01 10:00:00+00', '2023-01-10 09:05:00+00'),                                 -- 1
    ('bob@acme.test', 'Bob Brown', NULL, NULL, 'UTC', NULL, '2023-02-01 09:00:00+00'),   -- 2
    ('carol@globex.test', 'Carol Chen', 'carol', NULL, 'America/New_York',
     '2024-05-20 15:30:00+00', '2023-03-05 12:10:00+00'),                                 -- 3
    ('dave@example.test', 'Dave Doe', NULL, NULL, 'UTC', NULL, '2024-01-01 00:00:00+00'), -- 4: no memberships, no tasks
    ('erin@globex.test', 'Erin Evans', NULL, 'https://img.test/erin.png', 'UTC',
     '2024-06-02 08:00:00+00', '2023-04-01 10:00:00+00');                                 -- 5

INSERT INTO memberships (org_id, user_id, role, invited_by, joined_at) VALUES
    (1, 1, 'owner', NULL, '2023-01-10 09:05:00+00'),
    (1, 2, 'member', 1, '2023-02-01 09:00:00+00'),
    (1, 5, 'guest', 1, '2023-05-01 09:00:00+00'),
    (2, 3, 'owner', NULL, '2023-03-05 12:10:00+00'),
    (2, 5, 'member', 3, '2023-04-01 10:00:00+00');

INSERT INTO projects (org_id, key, name, description, lead_id, archived_at, created_at) VALUES
    (1, 'WEB', 'Website', 'Marketing site', 1, NULL, '2023-01-11 09:00:00+00'),           -- 1
    (1, 'API', 'Public API', NULL, NULL, NULL, '2023-02-11 09:00:00+00'),                 -- 2
    (2, 'OPS', 'Operations', 'Infrastructure work', 3, NULL, '2023-03-06 09:00:00+00'),   -- 3
    (1, 'OLD', 'Legacy site', NULL, 2, '2023-06-01 00:00:00+00', '2023-01-12 09:00:00+00'); -- 4: no tasks

INSERT INTO tasks (project_id, parent_task_id, number, title, description, status, priority, assignee_id,
                   reporter_id, estimate_points, due_date, created_at, completed_at) VALUES
    (1, NULL, 1, 'Launch website', 'The big launch', 'in_progress', 3, 1, 1, 8, '2024-07-01',
     '2024-01-02 09:00:00+00', NULL),                                                     -- 1: root
    (1, 1, 2, 'Design homepage', NULL, 'done', 2, 2, 1, 3, '2024-06-01',
     '2024-01-03 09:00:00+00', '2024-05-30 17:00:00+00'),                                 -- 2
    (1, 1, 3, 'Write copy', NULL, 'todo', 1, NULL, 2, NULL, NULL,
     '2024-01-04 09:00:00+00', NULL),                                                     -- 3: unassigned
    (1, 3, 4, 'Proofread copy', NULL, 'blocked', 0, 2, 2, 1, NULL,
     '2024-01-05 09:00:00+00', NULL),                                                     -- 4: grandchild
    (2, NULL, 1, 'Rate limiting', 'Add rate limits', 'todo', 4, NULL, 1, 5, '2024-05-15',
     '2024-02-01 09:00:00+00', NULL),                                                     -- 5: unassigned root
    (3, NULL, 1, 'Migrate database', NULL, 'cancelled', 2, 3, 3, NULL, '2024-04-01',
     '2024-03-01 09:00:00+00', NULL),                                                     -- 6
    (3, NULL, 2, 'On-call rotation', 'Set up paging', 'in_progress', 1, 5, 3, 2, '2024-08-01',
     '2024-03-02 09:00:00+00', NULL);                                                     -- 7

INSERT INTO comments (task_id, author_id, body, created_at, edited_at, deleted_at) VALUES
    (1, 1, 'Kick-off on Monday', '2024-01-02 10:00:00+00', NULL, NULL),
    (1, 2, 'I will take the design', '2024-01-02 11:00:00+00', '2024-01-02 11:05:00+00', NULL),
    (2, NULL, 'Comment by a deleted user', '2024-01-10 10:00:00+00', NULL, NULL),
    (5, 1, 'Spam', '2024-02-02 10:00:00+00', NULL, '2024-02-03 10:00:00+00'),
    (7, 5, 'Rotation draft attached', '2024-03-03 10:00:00+00', NULL, NULL);

INSERT INTO labels (org_id, name, color) VALUES
    (1, 'bug', '#ff0000'),      -- 1
    (1, 'feature', NULL),       -- 2
    (1, 'unused', '#00ff00'),   -- 3: on no task
    (2, 'infra', '#0000ff');    -- 4

INSERT INTO task_labels (task_id, label_id, added_at) VALUES
    (1, 2, '2024-01-02 09:30:00+00'),
    (2, 2, '2024-01-03 09:30:00+00'),
    (4, 1, '2024-01-05 09:30:00+00'),
    (6, 4, '2024-03-01 09:30:00+00');

-- time_entries stays empty.

INSERT INTO invoices (org_id, number, status, currency, subtotal, tax, discount, issued_on, due_on, service_period, paid_at, notes) VALUES
    (1, 'INV-001', 'paid', 'USD', 100.00, 8.00, NULL, '2024-01-01', '2024-01-31', '[2024-01-01,2024-02-01)', '2024-01-20 12:00:00+00', NULL),
    (1, 'INV-002', 'open', 'USD', 200.00, 16.00, 10.00, '2024-02-01', '2024-03-02', '[2024-02-01,)', NULL, 'net 30'),
    (2, 'INV-003', 'draft', 'EUR', 50.00, 0, NULL, '2024-02-15', NULL, 'empty', NULL, NULL),
    (2, 'INV-004', 'void', 'EUR', 75.00, 6.00, NULL, '2024-03-01', '2024-03-31', '[2024-03-01,2024-04-01)', NULL, 'duplicate');

INSERT INTO audit_log (org_id, actor_id, action, entity_type, entity_id, details, ip, occurred_at) VALUES
    (1, 1, 'task.create', 'task', 1, '{"title": "Launch website", "changes": {"status": ["todo", "in_progress"]}}',
     '10.0.0.1', '2024-01-02 09:00:00+00'),
    (1, 2, 'task.update', 'task', 2, '{"changes": {"status": ["in_progress", "done"]}}',
     NULL, '2024-05-30 17:00:00+00'),
    (NULL, NULL, 'system.maintenance', 'system', NULL, '{"note": "vacuum"}', NULL, '2024-04-01 03:00:00+00'),
    (2, 3, 'member.invite', 'membership', NULL, '{"email": "erin@globex.test", "role": "member"}',
     '192.168.1.7', '2023-04-01 09:59:00+00'),
    (1, NULL, 'invoice.paid', 'invoice', 1, '{"amount": 108.00, "via": "stripe"}', NULL, '2024-01-20 12:00:00+00');
