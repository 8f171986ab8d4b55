import { describe, expect, it } from 'vitest'
import { BROADCAST_MENTIONS, expandMentions, partitionMentions } from './mentions.js'

describe('mentions', () => {
  it('knows @everyone and @channel, nothing else', () => expect([...BROADCAST_MENTIONS].sort()).toEqual(['channel', 'everyone']))

  it('splits broadcast keywords from direct mentions', () => {
    expect(partitionMentions(['m_a', 'everyone', 'here', 'channel'])).toEqual({ broadcast: ['everyone', 'channel'], direct: ['m_a', 'here'] })
  })

  it('expands a broadcast to the members it reaches, keeping the keyword and leaving out the author', () => {
    expect(expandMentions(['everyone'], ['m_author', 'm_a', 'm_b'], 'm_author')).toEqual(['everyone', 'm_a', 'm_b'])
    expect(expandMentions(['m_b', 'channel', 'everyone'], ['m_a', 'm_b'], 'm_x')).toEqual(['m_b', 'channel', 'm_a', 'everyone'])
    expect(expandMentions(['m_a'], ['m_a', 'm_b'], 'm_x')).toEqual(['m_a'])
  })
})
