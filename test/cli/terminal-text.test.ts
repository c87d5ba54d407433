import { describe, expect, it } from 'vitest'
import { terminalText } from '../../src/cli/terminal-text.js'

describe('terminalText', () => {
  it('escapes C0 but newline and tab, DEL and C1, as JSON escapes them; keeps everything else', () => {
    expect(terminalText('a\u001b]0;x\u0007b\u009b1A\u007f\r\u0000')).toBe(
      'a\\u001b]0;x\\u0007b\\u009b1A\\u007f\\u000d\\u0000',
    )
    expect(terminalText('line\n\tnext ñ 日本 \u00a0 \\u001b')).toBe('line\n\tnext ñ 日本 \u00a0 \\u001b')
    for (let code = 0; code < 0xa0; code++) {
      const c = String.fromCharCode(code)
      const control = (code < 0x20 && c !== '\n' && c !== '\t') || code >= 0x7f
      expect(terminalText(c)).toBe(control ? `\\u${code.toString(16).padStart(4, '0')}` : c)
    }
  })

  it('keeps JSON valid and equal to what it held', () => {
    const value = { text: 'a\u009b\u007f\u001bb' }
    expect(JSON.parse(terminalText(JSON.stringify(value)))).toEqual(value)
  })
})
