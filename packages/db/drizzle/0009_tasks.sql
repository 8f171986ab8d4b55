CREATE TABLE `task_assignees` (
	`task_id` text NOT NULL,
	`member_id` text NOT NULL,
	PRIMARY KEY(`task_id`, `member_id`)
);
--> statement-breakpoint
CREATE INDEX `task_assignees_member` ON `task_assignees` (`member_id`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`board` text NOT NULL,
	`conversation_id` text,
	`title` text NOT NULL,
	`body` text NOT NULL,
	`status` text NOT NULL,
	`blocked` integer DEFAULT false NOT NULL,
	`position` text NOT NULL,
	`progress` integer DEFAULT 0 NOT NULL,
	`due_at` integer,
	`parent_id` text,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`labels` text NOT NULL,
	`comments` text DEFAULT '' NOT NULL,
	`comment_count` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tasks_board` ON `tasks` (`board`,`status`);--> statement-breakpoint
CREATE INDEX `tasks_workspace_updated` ON `tasks` (`workspace_id`,`updated_at`);--> statement-breakpoint
-- Search over tasks, kept in step by triggers like messages_fts.
CREATE VIRTUAL TABLE `tasks_fts` USING fts5(title, body, comments, content='tasks', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
--> statement-breakpoint
CREATE TRIGGER `tasks_fts_ai` AFTER INSERT ON `tasks` BEGIN
  INSERT INTO tasks_fts(rowid, title, body, comments) VALUES (new.rowid, new.title, new.body, new.comments);
END;
--> statement-breakpoint
CREATE TRIGGER `tasks_fts_ad` AFTER DELETE ON `tasks` BEGIN
  INSERT INTO tasks_fts(tasks_fts, rowid, title, body, comments) VALUES ('delete', old.rowid, old.title, old.body, old.comments);
END;
--> statement-breakpoint
CREATE TRIGGER `tasks_fts_au` AFTER UPDATE OF title, body, comments ON `tasks` BEGIN
  INSERT INTO tasks_fts(tasks_fts, rowid, title, body, comments) VALUES ('delete', old.rowid, old.title, old.body, old.comments);
  INSERT INTO tasks_fts(rowid, title, body, comments) VALUES (new.rowid, new.title, new.body, new.comments);
END;
