-- name: UpsertSetting :one
INSERT INTO tenant_alerting_settings (tenant_id, threshold) VALUES (@tenant_id, @threshold)
ON CONFLICT (tenant_id) DO UPDATE SET threshold = EXCLUDED.threshold
RETURNING *;
