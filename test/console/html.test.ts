import { describe, expect, test } from 'vitest'
import { escapeHtml, Html, html } from '../../src/console/html.js'

describe('html', () => {
  test('escapes every interpolated string, in text and in attributes', () => {
    const value = `<script>alert('x')</script>" onmouseover="x" \`&`
    expect(html`<p title="${value}">${value}</p>`.toString()).toBe(
      '<p title="&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; onmouseover=&quot;x&quot; &#96;&amp;">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot; onmouseover=&quot;x&quot; &#96;&amp;</p>',
    )
  })

  test('keeps nested templates, joins lists (escaping their items), and renders nothing for null, undefined and false', () => {
    const items = ['<a>', html`<b>ok</b>`]
    expect(
      html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>${null}${undefined}${false}${0}`.toString(),
    ).toBe('<ul><li>&lt;a&gt;</li><li><b>ok</b></li></ul>0')
  })

  test('only an Html value passes through unescaped', () => {
    expect(html`${new Html('<br>')}${'<br>'}`.toString()).toBe('<br>&lt;br&gt;')
    expect(escapeHtml('plain text')).toBe('plain text')
  })
})
