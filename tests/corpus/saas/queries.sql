-- name: GetOrganizationBySlug :one
-- column id: bigint not null
-- column slug: text not null
-- column name: text not null
-- column plan: plan_tier not null
-- column billing_email: text null
-- column seat_limit: integer null
-- column created_at: timestamp with time zone not null
-- column deleted_at: timestamp with time zone null
-- param $1 slug: text not null
-- args: ["acme"]
-- args: ["globex"]
-- args: ["empty-co"]
SELECT id, slug, name, plan, billing_email, seat_limit, created_at, deleted_at
FROM organizations
WHERE slug = $1;

-- name: ListOrganizationMembers :many
-- column id: bigint not null
-- column email: text not null
-- column shown_name: text not null
-- column role: member_role not null
-- column joined_at: timestamp with time zone not null
-- column invited_by_name: text null
-- column last_login_at: timestamp with time zone null
-- param $1 org_id: bigint not null
-- param $2 page_size: bigint not null
-- param $3 page_offset: bigint not null
-- args: [1, 10, 0]
-- args: [2, 10, 0]
-- args: [1, 1, 1]
SELECT u.id, u.email, coalesce(u.display_name, u.full_name) AS shown_name, m.role, m.joined_at,
       inviter.full_name AS invited_by_name, u.last_login_at
FROM memberships m
JOIN users u ON u.id = m.user_id
LEFT JOIN users inviter ON inviter.id = m.invited_by
WHERE m.org_id = @org_id
ORDER BY m.joined_at
LIMIT @page_size OFFSET @page_offset;

-- name: OpenTasksForProject :many
-- column id: bigint not null
-- column number: integer not null
-- column title: text not null
-- column status: task_status not null
-- column priority: smallint null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column due_date: date null
-- column assignee_name: text null
-- column assignee_email: text null
-- param $1 project_id: bigint not null
-- args: [1]
-- args: [2]
-- args: [4]
SELECT id, number, title, status, priority, due_date, assignee_name, assignee_email
FROM open_tasks
WHERE project_id = $1
ORDER BY priority DESC, number;

-- name: SearchTasks :many
-- column id: bigint not null
-- column number: integer not null
-- column title: text not null
-- column status: task_status not null
-- column priority: smallint not null
-- column assignee_id: bigint null
-- column due_date: date null
-- column project_key: character varying not null
-- param $1 org_id: bigint not null
-- param $2 status: task_status null
-- param $3 assignee_id: bigint null
-- param $4 query: text null
-- param $5 min_priority: smallint null
-- param $6 max_results: bigint not null
-- args: [1, null, null, null, null, 50]
-- args: [1, "todo", null, "copy", 1, 10]
-- args: [2, null, 5, null, null, 5]
-- args: [1, "blocked", 2, "proof", 0, 5]
SELECT t.id, t.number, t.title, t.status, t.priority, t.assignee_id, t.due_date, p.key AS project_key
FROM tasks t
JOIN projects p ON p.id = t.project_id
WHERE p.org_id = sqlc.arg(org_id)
  AND (sqlc.narg(status)::task_status IS NULL OR t.status = sqlc.narg(status))
  AND (sqlc.narg(assignee_id)::bigint IS NULL OR t.assignee_id = sqlc.narg(assignee_id))
  AND (sqlc.narg(query)::text IS NULL OR t.search_title LIKE '%' || lower(sqlc.narg(query)) || '%')
  AND t.priority >= coalesce(sqlc.narg(min_priority)::smallint, 0)
ORDER BY t.priority DESC, t.id
LIMIT sqlc.arg(max_results);

-- name: TaskTree :many
-- column id: bigint not null
-- column parent_task_id: bigint null
-- column title: text not null
-- column parent_title: text null
-- column depth: integer not null
-- column path: bigint[] not null
-- param $1 root_id: bigint not null
-- args: [1]
-- args: [3]
-- args: [6]
WITH RECURSIVE tree AS (
    SELECT t.id, t.parent_task_id, t.title, NULL::text AS parent_title, 0 AS depth, ARRAY[t.id] AS path
    FROM tasks t
    WHERE t.id = @root_id
  UNION ALL
    SELECT c.id, c.parent_task_id, c.title, tree.title, tree.depth + 1, tree.path || c.id
    FROM tasks c
    JOIN tree ON c.parent_task_id = tree.id
)
SELECT id, parent_task_id, title, parent_title, depth, path
FROM tree
ORDER BY path;

-- name: ProjectDashboard :many
-- column id: bigint not null
-- column key: character varying not null
-- column name: text not null
-- column total_tasks: bigint not null
-- column done_tasks: bigint not null
-- column total_points: bigint null
-- column open_points: bigint null
-- column next_due: date null
-- column top_priority: smallint null
-- column avg_priority: numeric null
-- param $1 org_id: bigint not null
-- args: [1]
-- args: [2]
SELECT p.id, p.key, p.name,
       count(t.id) AS total_tasks,
       count(t.id) FILTER (WHERE t.status = 'done') AS done_tasks,
       sum(t.estimate_points) AS total_points,
       sum(t.estimate_points) FILTER (WHERE t.status <> 'done') AS open_points,
       min(t.due_date) AS next_due,
       max(t.priority) AS top_priority,
       round(avg(t.priority), 2) AS avg_priority
FROM projects p
LEFT JOIN tasks t ON t.project_id = p.id
WHERE p.org_id = $1
GROUP BY p.id
ORDER BY p.key;

-- name: TimeTrackedForProject :one
-- column entries: bigint not null
-- column minutes: bigint null
-- column first_day: date null
-- column last_day: date null
-- column minutes_or_zero: bigint not null
-- param $1 project_id: bigint not null
-- args: [1]
SELECT count(*) AS entries,
       sum(te.minutes) AS minutes,
       min(te.logged_on) AS first_day,
       max(te.logged_on) AS last_day,
       coalesce(sum(te.minutes), 0) AS minutes_or_zero
FROM time_entries te
JOIN tasks t ON t.id = te.task_id
WHERE t.project_id = $1;

-- name: OrgBillingSummary :one
-- column invoices: bigint not null
-- column billed: numeric null
-- column paid: numeric null
-- column last_payment: timestamp with time zone null
-- column avg_net: numeric null
-- column numbers: text null
-- column ids: bigint[] null
-- column has_open: boolean null
-- param $1 org_id: bigint not null
-- args: [1]
-- args: [2]
-- args: [3]
SELECT count(*) AS invoices,
       sum(total) AS billed,
       sum(total) FILTER (WHERE status = 'paid') AS paid,
       max(paid_at) AS last_payment,
       avg(total - coalesce(discount, 0)) AS avg_net,
       string_agg(number, ', ' ORDER BY number) AS numbers,
       array_agg(id ORDER BY id) AS ids,
       bool_or(status = 'open') AS has_open
FROM invoices
WHERE org_id = $1;

-- name: InvoiceAging :many
-- column id: bigint not null
-- column number: text not null
-- column total: numeric not null
-- column grace_days: integer null
-- column due_on: date null
-- column payment_state: text null
-- column age_days: integer not null
-- column amount_due: numeric not null
-- param $1 as_of: date not null
-- param $2 org_id: bigint not null
-- args: ["2024-03-15", 1]
-- args: ["2024-03-15", 2]
SELECT id, number, total, grace_days, due_on,
       CASE WHEN paid_at IS NOT NULL THEN 'paid'
            WHEN due_on < @as_of THEN 'overdue'
       END AS payment_state,
       @as_of - issued_on AS age_days,
       total - coalesce(discount, 0) AS amount_due
FROM invoices
WHERE status IN ('draft', 'open', 'paid') AND org_id = @org_id
ORDER BY issued_on;

-- name: CreateTask :one
-- column id: bigint not null
-- column number: integer not null
-- column status: task_status not null
-- column priority: smallint not null
-- column search_title: text not null
-- column parent_task_id: bigint null
-- column assignee_id: bigint null
-- column due_date: date null
-- column completed_at: timestamp with time zone null
-- column created_at: timestamp with time zone not null
-- param $1 project_id: bigint not null
-- param $2 parent_task_id: bigint null
-- param $3 title: text not null
-- param $4 description: text null
-- param $5 priority: priority not null
-- param $6 assignee_id: bigint null
-- param $7 reporter_id: bigint not null
-- param $8 due_date: date null
-- args: [1, 1, "New subtask", null, 2, null, 2, null]
-- args: [2, null, "API docs", "Write them", 3, 1, 1, "2024-09-01"]
INSERT INTO tasks (project_id, parent_task_id, number, title, description, priority, assignee_id,
                   reporter_id, due_date)
VALUES (@project_id, @parent_task_id,
        (SELECT coalesce(max(number), 0) + 1 FROM tasks WHERE project_id = @project_id),
        @title, @description, @priority, @assignee_id, @reporter_id, @due_date)
RETURNING id, number, status, priority, search_title, parent_task_id, assignee_id, due_date,
          completed_at, created_at;

-- name: UpdateTaskStatus :one
-- column id: bigint not null
-- column status: task_status not null
-- column completed_at: timestamp with time zone null
-- column assignee_id: bigint null
-- param $1 status: task_status not null
-- param $2 id: bigint not null
-- args: ["done", 3]
-- args: ["todo", 2]
UPDATE tasks
SET status = $1,
    completed_at = CASE WHEN $1 = 'done'::task_status THEN now() END
WHERE id = $2
RETURNING id, status, completed_at, assignee_id;

-- name: AssignTask :execrows
-- param $1 assignee_id: bigint null
-- param $2 id: bigint not null
-- param $3 org_id: bigint not null
-- args: [2, 3, 1]
-- args: [null, 1, 1]
-- args: [3, 1, 2]
UPDATE tasks
SET assignee_id = $1
WHERE id = $2 AND project_id IN (SELECT id FROM projects WHERE org_id = $3);

-- name: UpsertLabel :one
-- column id: integer not null
-- column org_id: bigint not null
-- column name: text not null
-- column color: text null
-- param $1 org_id: bigint not null
-- param $2 name: text not null
-- param $3 color: hex_color null
-- args: [1, "bug", null]
-- args: [1, "feature", null]
-- args: [2, "urgent", "#abcdef"]
INSERT INTO labels (org_id, name, color)
VALUES ($1, $2, $3)
ON CONFLICT (org_id, name) DO UPDATE SET color = coalesce(EXCLUDED.color, labels.color)
RETURNING id, org_id, name, color;

-- name: AddTaskLabel :many
-- column task_id: bigint not null
-- column label_id: integer not null
-- column added_at: timestamp with time zone not null
-- param $1 task_id: bigint not null
-- param $2 label_id: integer not null
-- args: [1, 2]
-- args: [3, 1]
INSERT INTO task_labels (task_id, label_id)
VALUES (@task_id, @label_id)
ON CONFLICT DO NOTHING
RETURNING task_id, label_id, added_at;

-- name: RecordAuditEvent :one
-- column id: bigint not null
-- column occurred_at: timestamp with time zone not null
-- column org_id: bigint null
-- column reason: text null
-- param $1 org_id: bigint null
-- param $2 actor_id: bigint null
-- param $3 action: text not null
-- param $4 entity_type: text not null
-- param $5 entity_id: bigint null
-- param $6 details: jsonb not null
-- param $7 ip: inet null
-- args: [1, 1, "task.delete", "task", 3, "{\"reason\": \"duplicate\"}", "10.0.0.9"]
-- args: [null, null, "system.boot", "system", null, "{}", null]
INSERT INTO audit_log (org_id, actor_id, action, entity_type, entity_id, details, ip)
VALUES (sqlc.narg(org_id), sqlc.narg(actor_id), sqlc.arg(action), sqlc.arg(entity_type),
        sqlc.narg(entity_id), sqlc.arg(details), sqlc.narg(ip))
RETURNING id, occurred_at, org_id, details ->> 'reason' AS reason;

-- name: AuditTrail :many
-- column id: bigint not null
-- column action: text not null
-- column occurred_at: timestamp with time zone not null
-- column actor: text not null
-- column title: text null
-- column new_status: text null
-- column details_type: text not null
-- column ip_address: text null
-- column has_changes: boolean not null
-- param $1 org_id: bigint null
-- param $2 occurred_at: timestamp with time zone not null
-- param $3 occurred_at_2: timestamp with time zone not null
-- args: [1, "2023-01-01T00:00:00Z", "2025-01-01T00:00:00Z"]
-- args: [null, "2023-01-01T00:00:00Z", "2025-01-01T00:00:00Z"]
-- args: [2, "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"]
SELECT a.id, a.action, a.occurred_at,
       coalesce(u.display_name, u.full_name, 'system') AS actor,
       a.details ->> 'title' AS title,
       a.details -> 'changes' -> 'status' ->> 1 AS new_status,
       jsonb_typeof(a.details) AS details_type,
       host(a.ip) AS ip_address,
       a.details ? 'changes' AS has_changes
FROM audit_log a
LEFT JOIN users u ON u.id = a.actor_id
WHERE a.org_id IS NOT DISTINCT FROM $1
  AND a.occurred_at >= $2 AND a.occurred_at < $3
ORDER BY a.occurred_at DESC;

-- name: UserActivity :many
-- column kind: text not null
-- column id: bigint not null
-- column task_id: bigint not null
-- column summary: text not null
-- column at: timestamp with time zone not null
-- column changed_at: timestamp with time zone null
-- param $1 author_id: bigint not null
-- param $2 limit: bigint not null
-- args: [1, 20]
-- args: [2, 20]
-- args: [4, 20]
SELECT 'comment' AS kind, c.id, c.task_id, c.body AS summary, c.created_at AS at, c.edited_at AS changed_at
FROM comments c
WHERE c.author_id = $1 AND c.deleted_at IS NULL
UNION ALL
SELECT 'task', t.id, t.id, t.title, t.created_at, t.completed_at
FROM tasks t
WHERE t.reporter_id = $1
ORDER BY at DESC
LIMIT $2;

-- name: TasksWithoutLabels :many
-- column id: bigint not null
-- column title: text not null
-- column due_date: date null
-- param $1 org_id: bigint not null
-- args: [1]
-- args: [2]
SELECT t.id, t.title, t.due_date
FROM tasks t
JOIN projects p ON p.id = t.project_id
WHERE p.org_id = $1
EXCEPT
SELECT t.id, t.title, t.due_date
FROM tasks t
JOIN task_labels tl ON tl.task_id = t.id
ORDER BY id;

-- name: ReportersWhoAreAssignees :many
-- column user_id: bigint not null
-- param $1 project_id: bigint not null
-- args: [1]
-- args: [2]
-- args: [3]
SELECT reporter_id AS user_id FROM tasks WHERE project_id = $1
INTERSECT
SELECT assignee_id FROM tasks WHERE project_id = $1
ORDER BY user_id;

-- name: TasksWithLatestComment :many
-- column id: bigint not null
-- column title: text not null
-- column latest_comment: text null
-- column commented_at: timestamp with time zone null
-- column author_name: text null
-- param $1 project_id: bigint not null
-- args: [1]
-- args: [2]
SELECT t.id, t.title, lc.body AS latest_comment, lc.created_at AS commented_at, lc.author_name
FROM tasks t
LEFT JOIN LATERAL (
    SELECT c.body, c.created_at, u.full_name AS author_name
    FROM comments c
    LEFT JOIN users u ON u.id = c.author_id
    WHERE c.task_id = t.id AND c.deleted_at IS NULL
    ORDER BY c.created_at DESC
    LIMIT 1
) lc ON true
WHERE t.project_id = $1
ORDER BY t.number;

-- name: ProjectsWithTopTask :many
-- column id: bigint not null
-- column name: text not null
-- column top_title: text not null
-- column top_priority: smallint null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column top_assignee: bigint null
-- param $1 org_id: bigint not null
-- args: [1]
-- args: [2]
SELECT p.id, p.name, top.title AS top_title, top.priority AS top_priority, top.assignee_id AS top_assignee
FROM projects p
CROSS JOIN LATERAL (
    SELECT t.title, t.priority, t.assignee_id
    FROM tasks t
    WHERE t.project_id = p.id AND t.status <> 'cancelled'
    ORDER BY t.priority DESC, t.id
    LIMIT 1
) top
WHERE p.org_id = $1
ORDER BY p.id;

-- name: GetTaskDetail :one
-- column id: bigint not null
-- column title: text not null
-- column comment_count: bigint not null
-- column last_comment_at: timestamp with time zone null
-- column labelled: boolean not null
-- column project_name: text not null
-- column label_names: text null
-- column label_ids: integer[] not null
-- column first_label: text null
-- param $1 id: bigint not null
-- args: [1]
-- args: [3]
-- args: [4]
SELECT t.id, t.title,
       (SELECT count(*) FROM comments c WHERE c.task_id = t.id AND c.deleted_at IS NULL) AS comment_count,
       (SELECT c.created_at FROM comments c WHERE c.task_id = t.id ORDER BY c.created_at DESC LIMIT 1)
           AS last_comment_at,
       EXISTS (SELECT 1 FROM task_labels tl WHERE tl.task_id = t.id) AS labelled,
       (SELECT p.name FROM projects p WHERE p.id = t.project_id) AS project_name,
       (SELECT string_agg(l.name, ', ' ORDER BY l.name)
        FROM task_labels tl JOIN labels l ON l.id = tl.label_id
        WHERE tl.task_id = t.id) AS label_names,
       ARRAY(SELECT tl.label_id FROM task_labels tl WHERE tl.task_id = t.id ORDER BY 1) AS label_ids,
       (SELECT l.name FROM task_labels tl JOIN labels l ON l.id = tl.label_id
        WHERE tl.task_id = t.id ORDER BY l.name LIMIT 1) AS first_label
FROM tasks t
WHERE t.id = $1;

-- name: LabelUsage :many
-- column label_id: integer not null
-- column name: text not null
-- column color: text null
-- column uses: bigint not null
-- column last_used_at: timestamp with time zone null
-- param $1 org_id: bigint not null
-- args: [1]
-- args: [3]
SELECT l.id AS label_id, l.name, l.color, count(tl.task_id) AS uses, max(tl.added_at) AS last_used_at
FROM task_labels tl
RIGHT JOIN labels l ON l.id = tl.label_id
WHERE l.org_id = $1
GROUP BY l.id, l.name, l.color
ORDER BY uses DESC, l.name;

-- name: PlannedVersusLogged :many
-- column user_id: bigint not null
-- column points: bigint null
-- column minutes: bigint not null
WITH planned AS (
    SELECT t.assignee_id AS user_id, sum(t.estimate_points) AS points
    FROM tasks t
    WHERE t.assignee_id IS NOT NULL
    GROUP BY t.assignee_id
), logged AS (
    SELECT te.user_id, sum(te.minutes) AS minutes
    FROM time_entries te
    GROUP BY te.user_id
)
SELECT coalesce(p.user_id, l.user_id) AS user_id, p.points, coalesce(l.minutes, 0) AS minutes
FROM planned p
FULL JOIN logged l ON l.user_id = p.user_id
ORDER BY 1;

-- name: CompareOrgMembers :many
-- column user_id: bigint not null
-- column role_in_first: member_role null
-- column role_in_second: member_role null
-- param $1 first_org: bigint not null
-- param $2 second_org: bigint not null
-- args: [1, 2]
SELECT coalesce(a.user_id, b.user_id) AS user_id, a.role AS role_in_first, b.role AS role_in_second
FROM (SELECT user_id, role FROM memberships WHERE org_id = @first_org) a
FULL JOIN (SELECT user_id, role FROM memberships WHERE org_id = @second_org) b ON a.user_id = b.user_id
ORDER BY 1;

-- name: OrgProjectTaskMatrix :many
-- column org_name: text not null
-- column project_key: character varying null
-- column task_number: integer null
-- column title: text null
-- column assignee: text null
-- column priority: smallint null
SELECT o.name AS org_name, p.key AS project_key, t.number AS task_number, t.title,
       a.full_name AS assignee, t.priority
FROM organizations o
LEFT JOIN projects p ON p.org_id = o.id
LEFT JOIN tasks t ON t.project_id = p.id
LEFT JOIN users a ON a.id = t.assignee_id
ORDER BY o.id, p.id, t.number;

-- name: OrgsWithOpenWork :many
-- column org_id: bigint not null
-- column name: text not null
-- column project_key: character varying null
-- column task_id: bigint null
-- column title: text null
-- column status: task_status null
SELECT o.id AS org_id, o.name, p.key AS project_key, t.id AS task_id, t.title, t.status
FROM organizations o
LEFT JOIN (projects p JOIN tasks t ON t.project_id = p.id)
    ON p.org_id = o.id AND t.status IN ('todo', 'in_progress', 'blocked')
ORDER BY o.id, t.id;

-- name: TasksWithLabel :many
-- column id: bigint not null
-- column title: text not null
-- column label: text not null
-- column label_id: integer not null
-- column added_at: timestamp with time zone not null
-- param $1 name: text not null
-- args: ["feature"]
-- args: ["unused"]
SELECT t.id, t.title, l.name AS label, l.id AS label_id, tl.added_at
FROM tasks t
LEFT JOIN task_labels tl ON tl.task_id = t.id
LEFT JOIN labels l ON l.id = tl.label_id
WHERE l.name = $1
ORDER BY t.id;

-- name: ProjectsWithLead :many
-- column id: bigint not null
-- column name: text not null
-- column lead_name: text not null
-- column lead_display_name: text null
-- column lead_email: text not null
-- param $1 org_id: bigint not null
-- args: [1]
-- args: [2]
SELECT p.id, p.name, u.full_name AS lead_name, u.display_name AS lead_display_name, u.email AS lead_email
FROM projects p
LEFT JOIN users u ON u.id = p.lead_id
WHERE u.id IS NOT NULL AND p.org_id = $1
ORDER BY p.id;

-- name: TaskRankingByProject :many
-- column id: bigint not null
-- column project_id: bigint not null
-- column title: text not null
-- column position: bigint not null
-- column priority_rank: bigint not null
-- column previous_title: text null
-- column next_due_date: date null
-- column previous_number: integer not null
-- column previous_estimate: integer null
-- column points_so_far: bigint null
-- column project_tasks: bigint not null
-- column running_priority: bigint null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column first_title: text not null
-- param $1 project_id: bigint[] not null
-- args: ["{1,3}"]
-- args: ["{2}"]
SELECT t.id, t.project_id, t.title,
       row_number() OVER w AS position,
       rank() OVER (PARTITION BY t.project_id ORDER BY t.priority DESC) AS priority_rank,
       lag(t.title) OVER w AS previous_title,
       lead(t.due_date) OVER w AS next_due_date,
       lag(t.number, 1, 0) OVER w AS previous_number,
       lag(t.estimate_points, 1, 0) OVER w AS previous_estimate,
       sum(t.estimate_points) OVER w AS points_so_far,
       count(*) OVER (PARTITION BY t.project_id) AS project_tasks,
       sum(t.priority) OVER w AS running_priority,
       first_value(t.title) OVER w AS first_title
FROM tasks t
WHERE t.project_id = ANY($1)
WINDOW w AS (PARTITION BY t.project_id ORDER BY t.number)
ORDER BY t.project_id, t.number;

-- name: InvoiceRevenueRollup :many
-- column org_name: text null
-- column status: invoice_status null
-- column invoices: bigint not null
-- column revenue: numeric null
-- column level: integer not null
-- param $1 issued_on: date not null
-- param $2 issued_on_2: date not null
-- args: ["2024-01-01", "2025-01-01"]
-- args: ["2030-01-01", "2031-01-01"]
SELECT o.name AS org_name, i.status, count(*) AS invoices, sum(i.total) AS revenue,
       grouping(o.name, i.status) AS level
FROM invoices i
JOIN organizations o ON o.id = i.org_id
WHERE i.issued_on >= $1 AND i.issued_on < $2
GROUP BY ROLLUP (o.name, i.status)
ORDER BY level, org_name, status;

-- name: TaskCountsByStatusAndAssignee :many
-- column status: task_status null
-- column assignee: text null
-- column tasks: bigint not null
-- column points: bigint null
-- param $1 org_id: bigint not null
-- args: [1]
-- args: [2]
-- args: [3]
SELECT t.status, u.full_name AS assignee, count(*) AS tasks, sum(t.estimate_points) AS points
FROM tasks t
JOIN projects p ON p.id = t.project_id
LEFT JOIN users u ON u.id = t.assignee_id
WHERE p.org_id = $1
GROUP BY GROUPING SETS ((t.status, u.full_name), (t.status), ())
ORDER BY 1, 2;

-- name: MembershipCube :many
-- column plan: plan_tier null
-- column role: member_role null
-- column members: bigint not null
-- column first_joined: timestamp with time zone null
-- param $1 joined_at: timestamp with time zone not null
-- args: ["2000-01-01T00:00:00Z"]
-- args: ["2099-01-01T00:00:00Z"]
SELECT o.plan, m.role, count(*) AS members, min(m.joined_at) AS first_joined
FROM memberships m
JOIN organizations o ON o.id = m.org_id
WHERE m.joined_at >= $1
GROUP BY CUBE (o.plan, m.role)
ORDER BY 1, 2;

-- name: OrgMemberStats :many
-- column org_id: bigint not null
-- column name: text not null
-- column members: bigint not null
-- column admins: bigint not null
-- column last_joined_at: timestamp with time zone null
SELECT org_id, name, members, admins, last_joined_at
FROM org_member_stats
ORDER BY org_id;

-- name: MemberWorkload :many
-- column id: bigint not null
-- column full_name: text not null
-- column role: member_role not null
-- column open_tasks: bigint not null
-- column next_due: date null
-- column max_priority: smallint null
-- column assignee_id: bigint null
-- param $1 org_id: bigint not null
-- args: [1]
-- args: [2]
WITH open_work AS (
    SELECT assignee_id, count(*) AS open_tasks, min(due_date) AS next_due, max(priority) AS max_priority
    FROM tasks
    WHERE status IN ('todo', 'in_progress', 'blocked') AND assignee_id IS NOT NULL
    GROUP BY assignee_id
)
SELECT u.id, u.full_name, m.role, coalesce(w.open_tasks, 0) AS open_tasks, w.next_due, w.max_priority,
       w.assignee_id
FROM memberships m
JOIN users u ON u.id = m.user_id
LEFT JOIN open_work w ON w.assignee_id = u.id
WHERE m.org_id = $1
ORDER BY 4 DESC, u.id;

-- name: SoftDeleteComment :execrows
-- param $1 id: bigint not null
-- param $2 author_id: bigint not null
-- args: [1, 1]
-- args: [4, 1]
UPDATE comments
SET deleted_at = now()
WHERE id = $1 AND author_id = $2 AND deleted_at IS NULL;

-- name: DeleteTask :one
-- column id: bigint not null
-- column parent_task_id: bigint null
-- column title: text not null
-- column assignee_id: bigint null
-- column priority: smallint null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- param $1 id: bigint not null
-- args: [1]
-- args: [3]
DELETE FROM tasks
WHERE id = $1
RETURNING id, parent_task_id, title, assignee_id, priority;

-- name: UpdateProject :one
-- column id: bigint not null
-- column name: text not null
-- column description: text null
-- column lead_id: bigint null
-- column archived_at: timestamp with time zone null
-- param $1 name: text null
-- param $2 description: text null
-- param $3 lead_id: bigint null
-- param $4 id: bigint not null
-- args: [null, null, null, 2]
-- args: ["Site", "New marketing site", 1, 1]
UPDATE projects
SET name = coalesce(@name, name),
    description = coalesce(@description, description),
    lead_id = @lead_id
WHERE id = @id
RETURNING id, name, description, lead_id, archived_at;

-- name: ArchiveProject :exec
-- param $1 archived_at: timestamp with time zone null
-- param $2 id: bigint not null
-- param $3 org_id: bigint not null
-- args: ["2024-06-30T00:00:00Z", 2, 1]
-- args: [null, 4, 1]
UPDATE projects
SET archived_at = $1
WHERE id = $2 AND org_id = $3;

-- name: UserProfiles :many
-- column id: bigint not null
-- column email_lower: text not null
-- column initial: text not null
-- column name_length: integer not null
-- column nickname: text null
-- column custom_timezone: text null
-- column mailbox: text not null
-- column extras: text not null
-- column domain: text not null
-- column avatar_file: text null
-- column email_tag: text null
-- column signup_month: timestamp with time zone not null
-- column account_age: interval not null
-- column last_seen: timestamp with time zone not null
SELECT id,
       lower(email) AS email_lower,
       upper(left(full_name, 1)) || '.' AS initial,
       length(full_name) AS name_length,
       nullif(display_name, '') AS nickname,
       nullif(timezone, 'UTC') AS custom_timezone,
       concat(full_name, ' <', email, '>') AS mailbox,
       concat_ws(' / ', display_name, avatar_url) AS extras,
       split_part(email, '@', 2) AS domain,
       substring(avatar_url FROM '[^/]+$') AS avatar_file,
       (regexp_match(email, '^[^@]+\+([^@]+)@'))[1] AS email_tag,
       date_trunc('month', created_at) AS signup_month,
       now() - created_at AS account_age,
       coalesce(last_login_at, created_at) AS last_seen
FROM users
ORDER BY id;

-- name: TaskLabelArrays :many
-- column id: bigint not null
-- column title: text not null
-- column label_names: text[] not null
-- column label_count: integer null
-- column label_cardinality: integer not null
-- param $1 project_id: bigint not null
-- args: [1]
SELECT t.id, t.title,
       ARRAY(SELECT l.name FROM task_labels tl JOIN labels l ON l.id = tl.label_id
             WHERE tl.task_id = t.id ORDER BY l.name) AS label_names,
       array_length(ARRAY(SELECT tl.label_id FROM task_labels tl WHERE tl.task_id = t.id), 1) AS label_count,
       cardinality(ARRAY(SELECT tl.label_id FROM task_labels tl WHERE tl.task_id = t.id)) AS label_cardinality
FROM tasks t
WHERE t.project_id = $1
ORDER BY t.number;

-- name: OrgSettings :one
-- column id: bigint not null
-- column theme: text null
-- column features: jsonb null
-- column sso_enabled: boolean null
-- column locale: text not null
-- column summary: jsonb not null
-- column settings: jsonb not null
-- param $1 id: bigint not null
-- args: [1]
-- args: [2]
-- args: [3]
SELECT id,
       settings ->> 'theme' AS theme,
       settings -> 'features' AS features,
       (settings #>> '{features,sso}')::boolean AS sso_enabled,
       coalesce(settings ->> 'locale', 'en-US') AS locale,
       jsonb_build_object('plan', plan, 'seats', seat_limit) AS summary,
       settings
FROM organizations
WHERE id = $1;

-- name: ListProjectTasks :many
-- column id: bigint not null
-- column number: integer not null
-- column title: text not null
-- column status: task_status not null
-- column priority: smallint null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column due_date: date null
-- column assignee_id: bigint null
-- param $1 project_id: bigint not null
-- param $2 limit: bigint not null
-- param $3 offset: bigint not null
-- args: [1, 10, 0]
-- args: [1, 2, 2]
SELECT id, number, title, status, priority, due_date, assignee_id
FROM tasks
WHERE project_id = $1 AND status <> 'cancelled'
ORDER BY number
LIMIT $2 OFFSET $3;

-- name: TaskBreadcrumb :one
-- column breadcrumb: text null
-- column depth: integer null
-- param $1 task_id: bigint not null
-- args: [4]
-- args: [999]
WITH RECURSIVE up AS (
    SELECT id, parent_task_id, title, 1 AS level
    FROM tasks
    WHERE id = @task_id
  UNION ALL
    SELECT p.id, p.parent_task_id, p.title, up.level + 1
    FROM tasks p
    JOIN up ON p.id = up.parent_task_id
)
SELECT string_agg(title, ' / ' ORDER BY level DESC) AS breadcrumb, max(level) AS depth
FROM up;

-- name: UpsertMembership :one
-- needs: PostgreSQL 18 (RETURNING old/new)
-- column org_id: bigint not null
-- column user_id: bigint not null
-- column role: member_role not null
-- column previous_role: member_role null
-- column invited_by: bigint null
-- column joined_at: timestamp with time zone not null
-- param $1 org_id: bigint not null
-- param $2 user_id: bigint not null
-- param $3 role: member_role not null
-- param $4 invited_by: bigint null
-- args: [1, 2, "admin", null]
-- args: [1, 4, "guest", 1]
-- args: [2, 1, "member", null]
INSERT INTO memberships (org_id, user_id, role, invited_by)
VALUES (@org_id, @user_id, @role, @invited_by)
ON CONFLICT (org_id, user_id) DO UPDATE SET role = EXCLUDED.role
RETURNING org_id, user_id, role, old.role AS previous_role, invited_by, joined_at;

-- name: InvoicePeriods :many
-- column number: text not null
-- column service_period: daterange not null
-- column period_start: date null
-- column period_end: date null
-- column open_ended: boolean not null
-- column is_empty: boolean not null
-- param $1 org_ids: bigint[] not null
-- args: ["{1,2}"]
SELECT number, service_period,
       lower(service_period) AS period_start,
       upper(service_period) AS period_end,
       upper_inf(service_period) AS open_ended,
       isempty(service_period) AS is_empty
FROM invoices
WHERE org_id = ANY(@org_ids::bigint[])
ORDER BY number;

-- name: TaskParticipants :many
-- column user_id: bigint null
-- column email: text null
-- column role: text not null
-- param $1 id: bigint not null
-- args: [3]
-- args: [2]
-- args: [1]
SELECT u.id AS user_id, u.email, 'reporter' AS role
FROM tasks t JOIN users u ON u.id = t.reporter_id
WHERE t.id = $1
UNION
SELECT a.id, a.email, 'assignee'
FROM tasks t LEFT JOIN users a ON a.id = t.assignee_id
WHERE t.id = $1
UNION
SELECT c.author_id, NULL, 'commenter'
FROM comments c
WHERE c.task_id = $1
ORDER BY 3, 1;

-- name: DueSoon :many
-- column id: bigint not null
-- column title: text not null
-- column due_date: date not null
-- column days_left: integer not null
-- column today: date not null
-- column checked_at: timestamp with time zone not null
-- column tag: text not null
-- column answer: integer not null
-- column weight: integer null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- column double_points: integer null
-- column priority_label: text null unwitnessed: a NOT NULL domain, no NOT NULL on the column
-- param $1 days: integer not null
-- args: [100000]
SELECT id, title, due_date,
       due_date - current_date AS days_left,
       current_date AS today,
       now() AS checked_at,
       'due-soon'::text AS tag,
       42 AS answer,
       priority::int * 10 AS weight,
       estimate_points * 2 AS double_points,
       (priority + 1)::text AS priority_label
FROM tasks
WHERE due_date IS NOT NULL AND due_date < current_date + sqlc.arg(days)::int
ORDER BY due_date;

-- name: TasksDueBy :many
-- column id: bigint not null
-- column title: text not null
-- column due_date: date null
-- column project_key: character varying not null
-- param $1 due_date: date null
-- param $2 org_id: bigint not null
-- args: [null, 1]
-- args: ["2024-06-30", 1]
-- args: ["2024-06-30", 3]
SELECT t.id, t.title, t.due_date, p.key AS project_key
FROM tasks t
JOIN projects p ON p.id = t.project_id
WHERE ($1::date IS NULL OR t.due_date <= $1) AND p.org_id = $2
ORDER BY t.due_date NULLS LAST, t.id;

-- name: TasksAssignedToMembers :many
-- column id: bigint not null
-- column title: text not null
-- column assignee_name: text not null
-- column assignee_display_name: text null
-- column role: member_role not null
-- param $1 org_id: bigint not null
-- args: [1]
-- args: [2]
SELECT t.id, t.title, u.full_name AS assignee_name, u.display_name AS assignee_display_name, m.role
FROM tasks t
LEFT JOIN users u ON u.id = t.assignee_id
JOIN memberships m ON m.user_id = u.id AND m.org_id = $1
ORDER BY t.id;

-- name: OpenTasksByAssigneeEmail :many
-- column id: bigint not null
-- column title: text not null
-- column assignee_name: text not null
-- column assignee_email: text not null
-- column due_date: date null
-- param $1 assignee_email: text not null
-- args: ["%@acme.test"]
-- args: ["erin@%"]
SELECT id, title, assignee_name, assignee_email, due_date
FROM open_tasks
WHERE assignee_email LIKE $1
ORDER BY id;
