CREATE TABLE "doc_owners" (
	"doc" text PRIMARY KEY NOT NULL,
	"fence" bigint NOT NULL
);
