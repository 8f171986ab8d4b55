#!/usr/bin/env python3
"""Echo agent over the webhook runtime, standard library only (the seed's Flask example, no Flask).

    CC_TOKEN=cc_... PORT=8787 python3 examples/python_agent.py

Provision the agent with adapter `webhook` and callbackUrl http://<this host>:8787.
CC_URL is read for symmetry with the other examples; this agent never calls the server.
Answers mentions and DMs by quoting them, stays silent otherwise, never answers itself.
"""
import hashlib
import hmac
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = os.environ.get("CC_TOKEN", "")
CC_URL = os.environ.get("CC_URL", "")
HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8787"))
SILENT = {"status": "HEARTBEAT_OK"}


def echo_reply(packet):
    if packet.get("trigger") not in ("mention", "dm"):
        return SILENT
    inbox = packet.get("inbox") or []
    conv = next((c for c in inbox if c["conversationId"] == packet.get("triggerConversationId")), inbox[0] if inbox else None)
    if not conv or not conv["messages"]:
        return SILENT
    msgs = conv["messages"]
    last = next((m for m in msgs if m["id"] == packet.get("triggerMessageId")), msgs[-1])
    me = packet["agent"]
    if last["memberId"] == me["memberId"]:
        return SILENT  # never answer yourself: that loops
    said = last["bodyMd"].replace("@" + me["handle"], "").strip()
    action = {"type": "post_message", "conversation_id": conv["conversationId"], "body_md": f"Got it — you said: _{said}_"}
    if last.get("parentId"):
        action["reply_to"] = last["parentId"]
    return {"actions": [action]}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        if self.path not in ("/heartbeat", "/event"):
            return self.send_json(404, {"error": "not_found", "message": "POST /heartbeat or /event"})
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        if TOKEN:
            # x-cc-signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the bot token>
            expected = "sha256=" + hmac.new(TOKEN.encode(), raw, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, self.headers.get("x-cc-signature", "")):
                return self.send_json(401, {"error": "bad_signature", "message": "x-cc-signature does not match"})
        try:
            packet = json.loads(raw)
        except ValueError:
            return self.send_json(400, {"error": "invalid_json", "message": "the body must be the JSON packet"})
        self.send_json(200, echo_reply(packet))

    def send_json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass  # one line per packet is noise; errors still reach stderr via send_error


if __name__ == "__main__":
    server = ThreadingHTTPServer((HOST, PORT), Handler)
    print(f"python_agent listening on http://{HOST}:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
