-- name: AddDagData :one
INSERT INTO v1_dag_data (tenant_id, payload) VALUES (@tenant_id, sqlc.narg(payload)) RETURNING *;

-- name: ListDagData :many
SELECT * FROM v1_dag_data WHERE tenant_id = @tenant_id ORDER BY id;
