-- The indexers upsert whole rows, so every reaction, thread reply count, card move or assignee
-- change set `body` (messages) or `title`/`body`/`comments` (tasks) to the same text, and the
-- FTS5 triggers re-indexed it: a 'delete' and an insert of every word on each card move. The
-- update triggers now run only when the text changed.
DROP TRIGGER `messages_fts_au`;
--> statement-breakpoint
CREATE TRIGGER `messages_fts_au` AFTER UPDATE OF body ON `messages` WHEN old.body IS NOT new.body BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, body, scope) VALUES ('delete', old.rowid, old.body, old.scope);
  INSERT INTO messages_fts(rowid, body, scope) VALUES (new.rowid, new.body, new.scope);
END;
--> statement-breakpoint
DROP TRIGGER `tasks_fts_au`;
--> statement-breakpoint
CREATE TRIGGER `tasks_fts_au` AFTER UPDATE OF title, body, comments ON `tasks`
  WHEN old.title IS NOT new.title OR old.body IS NOT new.body OR old.comments IS NOT new.comments BEGIN
  INSERT INTO tasks_fts(tasks_fts, rowid, title, body, comments) VALUES ('delete', old.rowid, old.title, old.body, old.comments);
  INSERT INTO tasks_fts(rowid, title, body, comments) VALUES (new.rowid, new.title, new.body, new.comments);
END;
