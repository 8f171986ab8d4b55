CREATE TABLE "admin_audit" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"actor_id" text NOT NULL,
	"action" text NOT NULL,
	"target_kind" text NOT NULL,
	"target_id" text NOT NULL,
	"detail" jsonb NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "agent_memory" (
	"agent_id" text NOT NULL,
	"scope" text NOT NULL,
	"scope_id" text DEFAULT '' NOT NULL,
	"key" text NOT NULL,
	"value" jsonb,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "agent_memory_agent_id_scope_scope_id_key_pk" PRIMARY KEY("agent_id","scope","scope_id","key")
);
--> statement-breakpoint
CREATE TABLE "agent_runs" (
	"id" text PRIMARY KEY NOT NULL,
	"agent_id" text NOT NULL,
	"trigger" text NOT NULL,
	"conversation_id" text,
	"message_id" text,
	"status" text NOT NULL,
	"attempts" bigint DEFAULT 0 NOT NULL,
	"packet" jsonb,
	"reply" text,
	"applied" jsonb,
	"errors" jsonb,
	"trace" jsonb,
	"usage" jsonb,
	"cost_micro_usd" bigint,
	"started_at" bigint,
	"finished_at" bigint,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "agents" (
	"id" text PRIMARY KEY NOT NULL,
	"member_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"adapter" text NOT NULL,
	"callback_url" text,
	"brief" text DEFAULT '' NOT NULL,
	"model" text,
	"scopes" jsonb NOT NULL,
	"heartbeat_interval_sec" bigint DEFAULT 30 NOT NULL,
	"token_hash" text NOT NULL,
	"token_cipher" text DEFAULT '' NOT NULL,
	"status" text DEFAULT 'idle' NOT NULL,
	"last_error" text,
	"last_run_at" bigint,
	"created_at" bigint NOT NULL,
	CONSTRAINT "agents_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "approvals" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"agent_id" text NOT NULL,
	"run_id" text,
	"conversation_id" text,
	"message_id" text,
	"scope" text NOT NULL,
	"action" text NOT NULL,
	"payload" jsonb,
	"pending_action" jsonb,
	"status" text NOT NULL,
	"executed_at" bigint,
	"result" jsonb,
	"note" text,
	"decided_by" text,
	"decided_at" bigint,
	"created_at" bigint NOT NULL,
	"fingerprint" text
);
--> statement-breakpoint
CREATE TABLE "conversation_members" (
	"conversation_id" text NOT NULL,
	"member_id" text NOT NULL,
	"joined_at" bigint NOT NULL,
	CONSTRAINT "conversation_members_conversation_id_member_id_pk" PRIMARY KEY("conversation_id","member_id")
);
--> statement-breakpoint
CREATE TABLE "conversations" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"topic" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"is_private" boolean NOT NULL,
	"created_by" text NOT NULL,
	"created_at" bigint NOT NULL,
	"live_segment" bigint DEFAULT 0 NOT NULL,
	"dm_key" text,
	"archived_at" bigint
);
--> statement-breakpoint
CREATE TABLE "doc_clients" (
	"doc" text NOT NULL,
	"client_id" bigint NOT NULL,
	"member_id" text NOT NULL,
	CONSTRAINT "doc_clients_doc_client_id_pk" PRIMARY KEY("doc","client_id")
);
--> statement-breakpoint
CREATE TABLE "doc_updates" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"doc" text NOT NULL,
	"data" "bytea" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "file_refs" (
	"file_key" text NOT NULL,
	"ref" text NOT NULL,
	"scope" text NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"task_id" text,
	"created_at" bigint NOT NULL,
	CONSTRAINT "file_refs_file_key_ref_pk" PRIMARY KEY("file_key","ref")
);
--> statement-breakpoint
CREATE TABLE "files" (
	"key" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"owner" text NOT NULL,
	"sha256" text NOT NULL,
	"name" text NOT NULL,
	"content_type" text NOT NULL,
	"size" bigint NOT NULL,
	"width" bigint,
	"height" bigint,
	"thumb_sha256" text,
	"voice" jsonb,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"member_id" text NOT NULL,
	"key" text NOT NULL,
	"message_id" text NOT NULL,
	"fingerprint" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "idempotency_keys_member_id_key_pk" PRIMARY KEY("member_id","key")
);
--> statement-breakpoint
CREATE TABLE "inbound_addresses" (
	"conversation_id" text PRIMARY KEY NOT NULL,
	"secret_hash" text NOT NULL,
	"secret_cipher" text NOT NULL,
	"member_id" text NOT NULL,
	"enabled" boolean NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "inbound_addresses_secret_hash_unique" UNIQUE("secret_hash")
);
--> statement-breakpoint
CREATE TABLE "invites" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"email" text NOT NULL,
	"role" text NOT NULL,
	"created_by" text NOT NULL,
	"expires_at" bigint NOT NULL,
	"used_at" bigint,
	"kind" text DEFAULT 'email' NOT NULL,
	"channel_ids" jsonb,
	"uses" bigint DEFAULT 0 NOT NULL,
	"created_at" bigint,
	"revoked_at" bigint
);
--> statement-breakpoint
CREATE TABLE "members" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"user_id" text,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"handle" text NOT NULL,
	"role" text NOT NULL,
	"avatar" text,
	"title" text,
	"reports_to" text,
	"deactivated" boolean DEFAULT false NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "message_mentions" (
	"message_id" text NOT NULL,
	"target" text NOT NULL,
	"conversation_id" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "message_mentions_message_id_target_pk" PRIMARY KEY("message_id","target")
);
--> statement-breakpoint
CREATE TABLE "messages" (
	"id" text PRIMARY KEY NOT NULL,
	"conversation_id" text NOT NULL,
	"doc" text NOT NULL,
	"parent_id" text,
	"author" text NOT NULL,
	"created_at" bigint NOT NULL,
	"edited_at" bigint,
	"deleted" boolean DEFAULT false NOT NULL,
	"body" text NOT NULL,
	"mentions" jsonb NOT NULL,
	"attachments" jsonb NOT NULL,
	"reactions" jsonb NOT NULL,
	"thread_count" bigint DEFAULT 0 NOT NULL,
	"last_reply_at" bigint,
	"card" jsonb
);
--> statement-breakpoint
CREATE TABLE "oidc_identities" (
	"issuer" text NOT NULL,
	"subject" text NOT NULL,
	"user_id" text NOT NULL,
	"email" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "oidc_identities_issuer_subject_pk" PRIMARY KEY("issuer","subject")
);
--> statement-breakpoint
CREATE TABLE "oidc_pending" (
	"id" text PRIMARY KEY NOT NULL,
	"purpose" text NOT NULL,
	"data" jsonb NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "password_resets" (
	"token_hash" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"used_at" bigint
);
--> statement-breakpoint
CREATE TABLE "pins" (
	"message_id" text PRIMARY KEY NOT NULL,
	"conversation_id" text NOT NULL,
	"pinned_by" text NOT NULL,
	"pinned_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sessions" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"expires_at" bigint NOT NULL,
	"created_at" bigint,
	"last_seen_at" bigint,
	"user_agent" text,
	"ip" text
);
--> statement-breakpoint
CREATE TABLE "task_assignees" (
	"task_id" text NOT NULL,
	"member_id" text NOT NULL,
	CONSTRAINT "task_assignees_task_id_member_id_pk" PRIMARY KEY("task_id","member_id")
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"board" text NOT NULL,
	"conversation_id" text,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"status" text NOT NULL,
	"blocked" boolean DEFAULT false NOT NULL,
	"position" text NOT NULL,
	"progress" bigint DEFAULT 0 NOT NULL,
	"due_at" bigint,
	"parent_id" text,
	"created_by" text NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"deleted" boolean DEFAULT false NOT NULL,
	"labels" jsonb NOT NULL,
	"comments" text DEFAULT '' NOT NULL,
	"comment_count" bigint DEFAULT 0 NOT NULL,
	"archived_at" bigint,
	"archive" jsonb
);
--> statement-breakpoint
CREATE TABLE "thread_follows" (
	"root_id" text NOT NULL,
	"member_id" text NOT NULL,
	"conversation_id" text NOT NULL,
	"following" boolean NOT NULL,
	"at" bigint NOT NULL,
	CONSTRAINT "thread_follows_root_id_member_id_pk" PRIMARY KEY("root_id","member_id")
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" text PRIMARY KEY NOT NULL,
	"email" text NOT NULL,
	"password_hash" text NOT NULL,
	"created_at" bigint NOT NULL,
	"mention_digest" boolean DEFAULT false NOT NULL,
	"digest_through" bigint,
	CONSTRAINT "users_email_unique" UNIQUE("email")
);
--> statement-breakpoint
CREATE TABLE "workspaces" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"handle" text NOT NULL,
	"icon" text,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agent_memory" ADD CONSTRAINT "agent_memory_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_runs" ADD CONSTRAINT "agent_runs_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agents" ADD CONSTRAINT "agents_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_agent_id_agents_id_fk" FOREIGN KEY ("agent_id") REFERENCES "public"."agents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversation_members" ADD CONSTRAINT "conversation_members_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversation_members" ADD CONSTRAINT "conversation_members_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "conversations" ADD CONSTRAINT "conversations_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inbound_addresses" ADD CONSTRAINT "inbound_addresses_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inbound_addresses" ADD CONSTRAINT "inbound_addresses_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "invites" ADD CONSTRAINT "invites_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "members" ADD CONSTRAINT "members_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "members" ADD CONSTRAINT "members_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oidc_identities" ADD CONSTRAINT "oidc_identities_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "password_resets" ADD CONSTRAINT "password_resets_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pins" ADD CONSTRAINT "pins_conversation_id_conversations_id_fk" FOREIGN KEY ("conversation_id") REFERENCES "public"."conversations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "admin_audit_ws" ON "admin_audit" USING btree ("workspace_id","id");--> statement-breakpoint
CREATE INDEX "agent_runs_agent" ON "agent_runs" USING btree ("agent_id","created_at");--> statement-breakpoint
CREATE INDEX "approvals_ws" ON "approvals" USING btree ("workspace_id","status");--> statement-breakpoint
CREATE UNIQUE INDEX "approvals_pending_fingerprint" ON "approvals" USING btree ("agent_id","fingerprint") WHERE status = 'pending';--> statement-breakpoint
CREATE INDEX "conversation_members_member" ON "conversation_members" USING btree ("member_id");--> statement-breakpoint
CREATE INDEX "conversations_ws" ON "conversations" USING btree ("workspace_id");--> statement-breakpoint
CREATE UNIQUE INDEX "conversations_dm_key" ON "conversations" USING btree ("workspace_id","dm_key");--> statement-breakpoint
CREATE INDEX "doc_updates_doc" ON "doc_updates" USING btree ("doc","id");--> statement-breakpoint
CREATE INDEX "file_refs_scope" ON "file_refs" USING btree ("scope","created_at");--> statement-breakpoint
CREATE INDEX "file_refs_ref" ON "file_refs" USING btree ("ref");--> statement-breakpoint
CREATE INDEX "files_owner" ON "files" USING btree ("owner","created_at");--> statement-breakpoint
CREATE INDEX "files_sha256" ON "files" USING btree ("sha256");--> statement-breakpoint
CREATE INDEX "files_thumb" ON "files" USING btree ("thumb_sha256");--> statement-breakpoint
CREATE INDEX "idempotency_keys_created" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "invites_ws" ON "invites" USING btree ("workspace_id","kind");--> statement-breakpoint
CREATE UNIQUE INDEX "members_ws_handle" ON "members" USING btree ("workspace_id","handle");--> statement-breakpoint
CREATE INDEX "members_user" ON "members" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "message_mentions_target_time" ON "message_mentions" USING btree ("target","created_at");--> statement-breakpoint
CREATE INDEX "messages_conv_time" ON "messages" USING btree ("conversation_id","parent_id","created_at");--> statement-breakpoint
CREATE INDEX "messages_parent" ON "messages" USING btree ("parent_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "oidc_identities_user" ON "oidc_identities" USING btree ("issuer","user_id");--> statement-breakpoint
CREATE INDEX "oidc_pending_expires" ON "oidc_pending" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "password_resets_user" ON "password_resets" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "pins_conversation" ON "pins" USING btree ("conversation_id","pinned_at");--> statement-breakpoint
CREATE INDEX "sessions_user" ON "sessions" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "task_assignees_member" ON "task_assignees" USING btree ("member_id");--> statement-breakpoint
CREATE INDEX "tasks_board" ON "tasks" USING btree ("board","status");--> statement-breakpoint
CREATE INDEX "tasks_workspace_updated" ON "tasks" USING btree ("workspace_id","updated_at");--> statement-breakpoint
CREATE INDEX "thread_follows_member" ON "thread_follows" USING btree ("member_id","following");