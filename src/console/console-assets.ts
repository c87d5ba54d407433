import { CONSOLE } from './console-settings.js'

/**
 * The console's only assets, served by the relay itself (a sidecar may have no internet, and the
 * Content-Security-Policy allows nothing else). Kept as strings so the build ships them inside `dist`.
 */
export const CONSOLE_CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;background:#fff}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;padding:.5rem 1rem;border-bottom:2px solid #111}
header strong{margin-right:auto}
nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem}
nav a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
main{padding:1rem;max-width:72rem;margin:0 auto}
h1{font-size:1.4rem;margin:.25rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
a{color:#0645ad}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #111;outline-offset:2px}
.flash{border:2px solid #111;border-left-width:.5rem;padding:.5rem .75rem;margin:0 0 1rem;font-weight:600}
.error{border-style:dashed;border-left-style:solid;border-left-color:#a3001b}
table{border-collapse:collapse;width:100%;margin:.25rem 0 1rem}
th,td{text-align:left;vertical-align:top;padding:.35rem .5rem;border-bottom:1px solid #999;overflow-wrap:break-word}
td code,dd code{overflow-wrap:anywhere}
th{border-bottom:2px solid #111;overflow-wrap:normal}
dl{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.25rem 1rem;margin:0 0 1rem}
dt{font-weight:600}dd{margin:0;overflow-wrap:break-word}
pre{background:#f4f4f4;border:1px solid #999;padding:.75rem;overflow-x:auto;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.9rem}
code{font-size:.9rem}
form.inline{display:inline}
.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.5rem 1rem;margin-bottom:1rem}
.filters label,.field label{display:block;font-weight:600;font-size:.9rem;min-height:1.3em}
input,select,button{font:inherit;padding:.35rem .5rem;border:1px solid #111;border-radius:3px;max-width:100%}
input,select{width:100%}
button{background:#111;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#111}
.actions{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;margin:.5rem 0 1rem}
.state,.outcome{display:inline-block;font-weight:700;font-size:.85rem;white-space:nowrap;padding:0 .4rem;border:2px solid currentColor;border-radius:3px}
.state{text-transform:uppercase}
.status{white-space:nowrap}
.state::before,.outcome::before{content:"";display:inline-block;width:.6em;height:.6em;margin-right:.4em;border:2px solid currentColor;vertical-align:-.05em}
ul.plain{list-style:none;margin:0;padding:0}
.state-delivered,.outcome-success{color:#0a6b2d}
.state-dead,.outcome-failure{color:#a3001b}
.state-pending,.outcome-in-progress{color:#7a4d00}
.outcome-unknown{color:#555}
.state-delivered::before,.outcome-success::before{border-radius:50%;background:currentColor}
.state-dead::before,.outcome-failure::before{background:currentColor}
.state-pending::before,.outcome-in-progress::before{border-radius:50%}
.outcome-unknown::before{border-style:dashed}
.muted{color:#555}
.pager{display:flex;gap:1rem}
form.search{display:flex;align-items:center;gap:.35rem}
form.search label{font-weight:600;font-size:.9rem;white-space:nowrap}
form.search input{width:14rem}
@media (max-width:40rem){
  form.search{width:100%}
  form.search input{width:auto;flex:1;min-width:0}
  main{padding:.75rem}
  table.cards thead{position:absolute;left:-9999px}
  table.cards tr{display:block;border:1px solid #999;margin-bottom:.75rem;padding:.25rem .5rem}
  table.cards td{display:block;position:relative;border:0;padding:.2rem 0 .2rem 9.25rem;min-height:1.6rem}
  table.cards td::before{content:attr(data-label);font-weight:600;position:absolute;left:0;width:9rem;white-space:nowrap}
  dl{grid-template-columns:7.5rem 1fr;gap:.3rem .75rem}
}
`

/**
 * Asks before an action that cannot be undone; the forms work the same without it. Keeps the parts marked
 * `data-live` current: it polls the small pulse answer and, when it changed, fetches the page again and
 * swaps those parts, so the server renders them in one place. It polls only while the tab is visible.
 */
export const CONSOLE_JS = `'use strict'
document.addEventListener('submit', function (event) {
  var form = event.target
  var question = form && form.getAttribute && form.getAttribute('data-confirm')
  if (question && !window.confirm(question)) event.preventDefault()
})
;(function () {
  if (document.querySelector('[data-live]') === null) return
  var every = ${CONSOLE.liveMs}
  var timer = null
  var busy = false
  var last = null
  function refresh() {
    return fetch(location.href, { credentials: 'same-origin' })
      .then(function (answer) { return answer.ok ? answer.text() : null })
      .then(function (text) {
        if (text === null) return
        var fresh = new DOMParser().parseFromString(text, 'text/html')
        document.querySelectorAll('[data-live]').forEach(function (part) {
          var next = part.id && fresh.getElementById(part.id)
          if (next) part.replaceWith(document.importNode(next, true))
        })
      })
  }
  function poll() {
    timer = null
    busy = true
    fetch('${CONSOLE.prefix}/api/pulse', { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (answer) { return answer.ok ? answer.text() : null })
      .then(function (pulse) {
        if (pulse === null || pulse === last) return
        var first = last === null
        last = pulse
        if (!first) return refresh()
      })
      .catch(function () {})
      .then(schedule)
  }
  function schedule() {
    busy = false
    if (timer === null && document.visibilityState === 'visible') timer = setTimeout(poll, every)
  }
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState !== 'visible') {
      clearTimeout(timer)
      timer = null
    } else if (timer === null && !busy) {
      poll()
    }
  })
  poll()
})()
`

/** The tab's icon, drawn (a browser asks for one on every page; without it, a 404 in every log). */
export const CONSOLE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#111"/><path d="M4 5h8M8 5v7" stroke="#fff" stroke-width="2.2" fill="none"/></svg>`
