import { describe, expect, it } from 'vitest'
import { checkBody } from './reply-guard.js'
import type { GuardCategory } from './reply-guard.js'

// One corpus per category: bodies that must be refused, and near-misses that must pass
// (ordinary chat that talks about the same things a derailed model emits).

const fence = '```'
const corpora: Record<Exclude<GuardCategory, 'near_duplicate'>, { rejected: string[]; accepted: string[] }> = {
  empty: {
    rejected: ['', '   ', '\n\n\t', '\u200b\u200b', `${fence}\n${fence}`, 'null', 'undefined', 'None'],
    accepted: ['ok', '👍', 'Done.', 'k', 'None of those worked for me.', 'null checks are missing in parse()']
  },
  heartbeat_leak: {
    rejected: [
      'HEARTBEAT_OK — nothing new here.',
      'Nothing new in #general. HEARTBEAT_OK',
      'HEARTBEAT',
      '**HEARTBEAT_OK**\n\nAll quiet.',
      'All tasks on track. heartbeat_ok',
      'Status: HEARTBEAT-OK',
      'HEARTBEAT OK'
    ],
    accepted: [
      'The heartbeat interval is 30 seconds by default.',
      'My heartbeat monitor app keeps crashing on Android 14.',
      'Agents reply `HEARTBEAT_OK` when they have nothing to say.',
      'Heartbeat checks look fine on staging.',
      'Is the heartbeat ok on node 3? It flapped twice overnight.',
      'The old bot kept posting "HEARTBEAT_OK" into #general — the guard blocks that now.'
    ]
  },
  traceback: {
    rejected: [
      'Traceback (most recent call last):\n  File "/app/agent.py", line 42, in run\n    resp = client.post(url)\nKeyError: \'choices\'',
      'Sorry, hit this:\nTraceback (most recent call last):\n  File "bridge.py", line 9, in <module>\n    main()\nValueError: bad packet',
      '  File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode\n    raise JSONDecodeError("Expecting value", s, err.value)',
      `${fence}\nTraceback (most recent call last):\n  File "x.py", line 1, in <module>\nZeroDivisionError: division by zero\n${fence}`,
      "KeyError: 'choices'",
      'openai.APIConnectionError: Connection error.'
    ],
    accepted: [
      'When you see a traceback, read it bottom-up: the last line is the actual error.',
      `Here is what the browser shows:\n${fence}js\nTypeError: Cannot read properties of undefined (reading 'map')\n    at render (App.jsx:12:5)\n${fence}\nThat means \`items\` is undefined on the first render; default it to [].`,
      "I think the KeyError comes from the missing 'user' field in the webhook payload.",
      "Python's traceback module can format the exception for the log instead of printing it.",
      `You pasted this:\n${fence}\nTraceback (most recent call last):\n  File "app.py", line 3, in <module>\nImportError: No module named flask\n${fence}\nInstall flask in the same virtualenv and it goes away.`
    ]
  },
  provider_error: {
    rejected: [
      'API call failed after 3 retries: 529 Overloaded',
      'HTTP 502: Bad Gateway',
      'HTTP 500 - Internal Server Error',
      '503 Service Unavailable',
      'Error: 429 Too Many Requests',
      'Error code: 400 - {"error": {"message": "This model\'s maximum context length is 8192 tokens", "type": "invalid_request_error"}}',
      '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
      'Request failed with status code 504',
      'upstream connect error or disconnect/reset before headers',
      'connect ECONNREFUSED 127.0.0.1:11434'
    ],
    accepted: [
      "The API returned HTTP 500 for a while this morning; it's fixed now.",
      'We hit the rate limit on the GitHub API yesterday, so I batched the requests.',
      'Our gateway retries 3 times before giving up — should we raise it to 5?',
      'Can you check why staging shows a 502 Bad Gateway after the deploy?',
      'The error was `ECONNREFUSED` because Postgres was not running.',
      'Error budgets for Q4 are in the SRE doc.'
    ]
  },
  refusal: {
    rejected: [
      "As an AI language model, I can't attend meetings.",
      "I'm sorry, but I can't assist with that request.",
      'I cannot help with that.',
      'I must respectfully decline to share that information.',
      "I don't have access to real-time data, so I can't check the deploy status.",
      "I'm unable to post messages in this channel.",
      'Unfortunately the tool call failed, so I could not update the board.',
      'I was unable to complete the tool call.'
    ],
    accepted: [
      "Sorry, I can't make the 3pm sync — can we push to 4?",
      "I can't access the staging DB from here; @dana could you grant read access?",
      'As an admin, you can rotate the bot token from Settings.',
      "I won't be able to review it until Monday, but it's on my list.",
      'The old bot kept saying "As an AI language model, I cannot…" and the guard blocks it now.',
      "Unfortunately the vendor can't ship before Q3."
    ]
  },
  tool_call: {
    rejected: [
      '<tool_call>{"name": "search", "arguments": {"q": "launch"}}</tool_call>',
      'Let me check.\n<function_calls><invoke name="search"><parameter name="q">x</parameter></invoke></function_calls>',
      '{"tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "post", "arguments": "{}"}}]}',
      '{"name": "get_weather", "arguments": {"city": "Oslo"}}',
      '[TOOL_CALLS] [{"name": "lookup", "arguments": {}}]',
      '<|python_tag|>search.call(query="launch date")',
      '```tool_code\nprint(search("launch"))\n```'
    ],
    accepted: [
      'We should add tool calling to the support bot next sprint.',
      'The `tool_calls` field was empty in the response, so the model never called search.',
      "I'll call the invoice function tomorrow, then ping you.",
      `Here's the request the SDK sends:\n${fence}json\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n${fence}\nThe model fills in \`arguments\`.`,
      'Use <b>bold</b> sparingly in the HTML email template.',
      'Function calls in the hot loop cost us 20% — inline them?'
    ]
  },
  action_json: {
    rejected: [
      'Sure! {"type": "post_message", "conversation_id": "c_1", "body_md": "hi"}',
      'Here you go <actions>[]</actions>',
      'Posting now: </actions>',
      '{"actions": [{"type": "react", "message_id": "msg_1", "emoji": "👍"}]}',
      'I will add {"type":"task_comment","task_id":"task_1","body_md":"done"}',
      '{"task_id": "task_9", "status": "done"}'
    ],
    accepted: [
      'I created the task and assigned it to @sam.',
      'Actions for this week: ship the beta, write the recap, book the venue.',
      'The `<actions>` block format is in docs/agents.md.',
      `The webhook should answer like this:\n${fence}json\n{"actions": [{"type": "post_message", "conversation_id": "c_1", "body_md": "hi"}]}\n${fence}\nand \`HEARTBEAT_OK\` to stay quiet.`,
      'Moved the card to review and left a comment on the task.',
      'Type "post message" into the command palette to find it.'
    ]
  },
  repetition: {
    rejected: [
      'I will look into this right away.\nI will look into this right away.\nI will look into this right away.',
      'Checking the deploy status now. Checking the deploy status now. Checking the deploy status now.',
      Array.from({ length: 8 }, () => 'Let me know if you need anything else!').join('\n'),
      'Summary:\n- the build is green on main\n- the build is green on main\n- tests pass\n- the build is green on main',
      'Thanks for the update on the launch!\n\nThanks for the update on the launch!\n\nThanks for the update on the launch!'
    ],
    accepted: [
      '| step | status |\n|---|---|\n| build | done |\n| test | done |\n| deploy | done |',
      'Standup notes for Monday\nStandup notes for Tuesday\nStandup notes for Wednesday',
      'Thanks @ana! Thanks @ben! Thanks @cy! Great week.',
      'The build is green on main.\nThe build is green on main — and on release/2.1 too.',
      `Repro:\n${fence}js\nexpect(parse(input)).toEqual(expected)\nexpect(parse(input)).toEqual(expected)\nexpect(parse(input)).toEqual(expected)\n${fence}\nThe third call fails because parse mutates its input.`,
      '- [ ] write recap\n- [ ] write recap draft 2\n- [ ] book the venue'
    ]
  },
  meta_narration: {
    rejected: [
      'Message sent.',
      'Reply posted successfully to #general.',
      "I've posted my reply to the thread.",
      '(Posting in #general)',
      'The launch is on Thursday. Actions completed successfully.',
      'Your message has been posted to the channel.',
      'I will now post the summary.'
    ],
    accepted: [
      'I sent the invoice to the client yesterday.',
      'The release notes were posted to #announcements this morning.',
      'Did the message to the vendor get delivered? Their inbox bounced last time.',
      'Posted the slides in the drive — link below.',
      'The webhook retried and delivered on the second attempt.',
      'Sending the contract to legal today.'
    ]
  },
  chain_of_thought: {
    rejected: [
      'The user wants me to summarize the thread. Here is the summary: launch Thursday.',
      'Okay, the user is asking about the deploy. The deploy finished at 10:00.',
      '<thinking>Need to check the tasks first</thinking>\nThe deploy is done.',
      'Let me think step by step. The release is Thursday.',
      'Looking at the inbox, @sam asked about the ETA. It is Friday.',
      'I need to reply to this message. The ETA is Friday.',
      'My system prompt says to be brief: launch is Thursday.',
      'I should respond with the date: Thursday.'
    ],
    accepted: [
      'The users want dark mode — three requests this week alone.',
      'The user reported a crash on login; repro steps are in the ticket.',
      'Let me think about it and get back to you tomorrow.',
      'I should have the draft ready by Friday.',
      'Wireshark capture: the packet shows a RST right after the handshake.',
      'I need to reply to the auditors by Friday — can someone review the draft?'
    ]
  }
}

describe('reply-guard corpora', () => {
  for (const [category, { rejected, accepted }] of Object.entries(corpora)) {
    describe(category, () => {
      it.each(rejected)(`rejects %j as ${category}`, (body) => {
        const r = checkBody(body)
        expect(r.ok ? 'accepted' : r.category).toBe(category)
      })
      it.each(accepted)('accepts %j', (body) => {
        const r = checkBody(body)
        expect(r.ok ? 'accepted' : `${r.category}: ${r.reason}`).toBe('accepted')
      })
    })
  }

  it('every corpus has at least five of each', () => {
    for (const { rejected, accepted } of Object.values(corpora)) {
      expect(rejected.length).toBeGreaterThanOrEqual(5)
      expect(accepted.length).toBeGreaterThanOrEqual(5)
    }
  })

  it('every rejection carries a reason that says what to do', () => {
    const r = checkBody('HEARTBEAT_OK and more')
    expect(!r.ok && r.reason).toMatch(/on its own/)
  })
})

describe('secret scrubbing', () => {
  const secrets: Array<[string, string]> = [
    ['curl -H "Authorization: Bearer abcdef0123456789xyz" https://x', 'curl -H "[redacted]" https://x'],
    ['my token is cc_0123456789abcdefghijklmnopqrstuv ok', 'my token is [redacted] ok'],
    ['key: sk-proj-AbC123dEf456GhI789jKl', 'key: [redacted]'],
    ['anthropic sk-ant-api03-AAAAAAAAAAAAAAAAAAAA-BBBB', 'anthropic [redacted]'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U here', 'jwt [redacted] here'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----\nthat one', '[redacted]\nthat one'],
    ['pasted -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk', 'pasted [redacted]'],
    ['gh token ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'gh token [redacted]']
  ]
  it.each(secrets)('scrubs %j', (body, expected) => {
    expect(checkBody(body)).toEqual({ ok: true, body: expected, redactions: 1 })
  })

  const harmless = [
    'The cookie is called cc_session.',
    'Use a bearer token in the Authorization header.',
    'The sk-8 layout is on the wiki.',
    'eyJ is how base64 JSON starts.',
    'Bearer tokens expire after 30 days.'
  ]
  it.each(harmless)('leaves %j alone', (body) => expect(checkBody(body)).toEqual({ ok: true, body, redactions: 0 }))
})

describe('near-duplicate refusal', () => {
  const recent = [
    'The launch review is on Thursday at 3pm in the big room, bring the Q3 numbers please.',
    'Deploy finished, all green.'
  ]
  const duplicates = [
    'The launch review is on Thursday at 3pm in the big room, bring the Q3 numbers please.',
    'the launch review is on thursday at 3pm in the big room — bring the Q3 numbers, please!',
    'The launch review is on Thursday at 3pm in the big room, bring the Q3 numbers please 🙏',
    '**The launch review is on Thursday at 3pm in the big room, bring the Q3 numbers please.**',
    'The launch review is on Thursday at 3pm in the big room, bring the Q3 numbers please. Thanks'
  ]
  it.each(duplicates)('refuses %j', (body) => {
    const r = checkBody(body, { recentBodies: recent })
    expect(r.ok ? 'accepted' : r.category).toBe('near_duplicate')
  })

  const fresh = [
    'The launch review moved to Friday at 10am; bring the Q4 forecast instead.',
    'Deploy finished, mostly green.',
    'ok',
    'The launch review is on Thursday.',
    'Bring the Q3 numbers to the launch review, and the hiring plan too, and the new budget sheet.'
  ]
  it.each(fresh)('accepts %j', (body) => {
    const r = checkBody(body, { recentBodies: recent })
    expect(r.ok ? 'accepted' : `${r.category}`).toBe('accepted')
  })
})

describe('ordinary chat passes', () => {
  const chat = [
    'Good morning team! Standup in 5.', 'Error: I think we forgot the migration', 'HTTP is fine, HTTPS is broken on staging',
    'So the user clicked twice and we created two orders.', 'I need to reply to Bob about the contract.',
    'Okay so the user flow is: signup → verify → onboarding.', 'The message was sent to the wrong channel yesterday, sorry!',
    'Done — I posted the summary in #launch.', 'File "report.pdf", line items are wrong on page 2',
    'Thought: we could ship Friday instead.', 'Response posted to the RFP portal, fingers crossed.',
    '500 people signed up today!', 'Error 404s are up 3% since the redesign.', 'Here is the plan:\n1. build\n2. test\n3. ship',
    'We got "Request failed with status code 502" from the vendor all morning.', 'I am sorry, but I cannot make it Friday.',
    'We hit insufficient_quota on the team account; finance is topping it up.'
  ]
  it.each(chat)('accepts %j', (body) => {
    const r = checkBody(body)
    expect(r.ok ? 'accepted' : r.category).toBe('accepted')
  })
})
