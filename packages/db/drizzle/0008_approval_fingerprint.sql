-- Existing rows keep a NULL fingerprint: a database may already hold two pending copies of one
-- request (the old check was per process), and a backfill would then fail to build the index.
ALTER TABLE `approvals` ADD `fingerprint` text;--> statement-breakpoint
CREATE UNIQUE INDEX `approvals_pending_fingerprint` ON `approvals` (`agent_id`,`fingerprint`) WHERE status = 'pending';