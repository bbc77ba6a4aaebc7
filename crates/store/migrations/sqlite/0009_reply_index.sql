-- Replies are found by the entry they answer (threads, "needs reply" until answered).
CREATE INDEX entries_replies ON entries(reply_to);
