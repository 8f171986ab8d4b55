export { idPrefix, newId, isId, randomToken } from './ids.js'
export type { IdKind } from './ids.js'
export { parseDocName, formatDocName, docName } from './doc-names.js'
export type { DocName } from './doc-names.js'
export {
  MESSAGES, META, REACTIONS, MAX_BODY_CHARS, MAX_CLOCK_SKEW_MS, messageFieldOwner,
  reactionKey, parseReactionKey, isValidEmoji, messagesOf, metaOf, readMessage, listMessages, uniqueMessages,
  findMessage, appendMessage, setCard, editMessage, deleteMessage, toggleReaction, noteThreadReply,
  extractMentionHandles
} from './docs/messages.js'
export type { Message, MessageCard, ApprovalMessageCard, EmailMessageCard, Attachment, Reaction, NewMessage, MessageField } from './docs/messages.js'
export { FILE_KINDS, fileKind, MIN_VOICE_PEAKS, MAX_VOICE_PEAKS, MAX_VOICE_MS, voiceProblem, sameVoice } from './files.js'
export type { FileKind, VoiceInfo } from './files.js'
export { BROADCAST_MENTIONS, partitionMentions, expandMentions } from './mentions.js'
export { DEFAULT_SEGMENT_SIZE, readSegmentMeta, initSegment, sealSegment } from './docs/segments.js'
export type { SegmentMeta } from './docs/segments.js'
export { dirMembersOf, dirChannelsOf, dirWorkspaceOf, putMember, putChannel, removeChannel, putWorkspace } from './docs/directory.js'
export type { DirMember, DirChannel } from './docs/directory.js'
export {
  memberWritableMeKeys, meConversationsOf, meUnreadOf, meReadsOf, meMutesOf, meStarsOf, meDraftsOf, MAX_PINS,
  meBoardVisitsOf, meTaskMentionsOf, putConversation, removeConversation, setUnread, markRead, noteTaskMention, MAX_TASK_MENTIONS,
  meSeenOf, markSeen, SEEN_VIEWS
} from './docs/me.js'
export type { ConversationSummary, UnreadCount, MemberWritableMeKey, TaskMention, SeenView } from './docs/me.js'
export { meThreadsOf, meThreadReadsOf, putFollowedThread, markThreadRead, threadUnread, MAX_FOLLOWED_THREADS } from './docs/me-threads.js'
export type { FollowedThread } from './docs/me-threads.js'
export { meReactionsToMeOf, noteReactionsToMe, MAX_REACTIONS_TO_ME } from './docs/me-activity.js'
export type { ReactionToMe } from './docs/me-activity.js'
export {
  MAX_MENTIONS, MAX_ATTACHMENTS, fieldValueProblem, reactionProblem, snapshotMessage, messageViolations,
  snapshotMessageDoc, messageDocViolations
} from './docs/message-rules.js'
export type { MessageWriteContext, MessageSnapshot, MessageDocSnapshot } from './docs/message-rules.js'
export { isMemberWritableMeRoot, meValueProblem, snapshotMeDoc, meDocViolations } from './docs/me-rules.js'
export type { MeDocSnapshot } from './docs/me-rules.js'
export {
  TASKS, COMMENTS, LABELS, ACTIVITY, BOARD_META, TASK_STATUSES, LINK_KINDS, MAX_TITLE_CHARS, MAX_DESCRIPTION_CHARS,
  MAX_COMMENT_CHARS, MAX_ASSIGNEES, MAX_TASK_LABELS, MAX_LINKS, MAX_BOARD_LABELS, MAX_LABEL_CHARS, taskFieldOwner,
  TASK_TEXTS, TASK_SETS, commentFieldOwner, tasksOf, commentsOf, boardLabelsOf, activityOf, boardMetaOf, isTaskStatus,
  isLinkKind, isPosition, readTask, compareTasks, listTasks, followTasks, findTask, readComment, listComments, findComment,
  subtasksOf, positionBetween, positionAtEdge, createTask, replaceText, updateTask, setTaskKeys, addTaskLink,
  removeTaskLink, deleteTask, addComment, editComment, editCommentAttachments, deleteComment, appendActivity, MAX_ACTIVITY, activityOfTask, taskChanges,
  setBoardLabel, initBoard, LABEL_COLOURS, isLabelColour, isLabelName, archivableTasks, removeTasks
} from './docs/board.js'
export type {
  TaskStatus, LinkKind, TaskField, TaskSource, TaskLink, Task, TaskComment, ActivityEntry, NewTask, TaskPatch, ArchivedTask
} from './docs/board.js'
export {
  taskTextBound, taskSetBound, isTaskText, isTaskSet, REMOVABLE_TASK_FIELDS, NEW_TASK_FIELDS, taskFieldProblem, taskSetProblem,
  commentFieldProblem, paletteProblem, snapshotTask, snapshotComment, taskViolations, commentViolations, paletteViolations,
  snapshotBoardDoc, boardDocViolations
} from './docs/board-rules.js'
export type { BoardWriteContext, TaskText, TaskSet, TextSnapshot, TaskSnapshot, CommentSnapshot, BoardDocSnapshot } from './docs/board-rules.js'
