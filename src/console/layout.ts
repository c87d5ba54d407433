import { CONSOLE } from './console-settings.js'
import { type Html, html } from './html.js'

/** What every page needs to know about the request it answers. */
export interface PageContext {
  /** The session's CSRF token; undefined for a script using `Authorization: Bearer`. */
  readonly csrf: string | undefined
  /** What the last action did, shown once. */
  readonly flash: string | undefined
  /** Whether a quarantine is configured (its page is linked). */
  readonly quarantine: boolean
  /** Whether the order ledger is readable (the Orders page is linked). */
  readonly orders?: boolean | undefined
}

export const P = CONSOLE.prefix

type Section = 'overview' | 'events' | 'orders' | 'quarantine' | 'none'

function navLink(href: string, label: string, section: Section, current: Section): Html {
  return html`<a href="${href}"${current === section ? html` aria-current="page"` : ''}>${label}</a>`
}

/** A form that POSTs to `action` with the CSRF token: every state change in the console goes through one. */
export function postButton(
  ctx: PageContext,
  action: string,
  label: string,
  options: { confirm?: string | undefined; secondary?: boolean } = {},
): Html {
  return html`<form class="inline" method="post" action="${action}"${
    options.confirm === undefined ? '' : html` data-confirm="${options.confirm}"`
  }>${csrfField(ctx)}<button type="submit"${options.secondary ? html` class="secondary"` : ''}>${label}</button></form>`
}

export function csrfField(ctx: PageContext): Html {
  return html`${ctx.csrf === undefined ? '' : html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`}`
}

function navigation(ctx: PageContext, section: Section): Html {
  return html`<nav aria-label="Console">
${navLink(P, 'Overview', 'overview', section)}
${navLink(`${P}/events`, 'Events', 'events', section)}
${ctx.orders === true ? navLink(`${P}/orders`, 'Orders', 'orders', section) : ''}
${ctx.quarantine ? navLink(`${P}/quarantine`, 'Quarantine', 'quarantine', section) : ''}
</nav>
<form class="search" method="get" action="${P}/search" role="search">
<label for="find-order">Find an order</label>
<input id="find-order" name="q" type="search" placeholder="order id or its start" autocomplete="off">
<button type="submit" class="secondary">Go</button>
</form>
${ctx.csrf === undefined ? '' : postButton(ctx, `${P}/logout`, 'Log out', { secondary: true })}`
}

/** The whole document: header, navigation, the one-time message, the page. */
export function layout(
  title: string,
  ctx: PageContext,
  section: Section,
  content: Html,
  bare = false,
): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} - tylt-relay console</title>
<link rel="icon" href="${P}/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${P}/assets/console.css">
<script src="${P}/assets/console.js" defer></script>
</head>
<body>
<header>
<strong>tylt-relay console</strong>
${bare ? '' : navigation(ctx, section)}
</header>
<main>
${ctx.flash === undefined ? '' : html`<p class="flash" role="status">${ctx.flash}</p>`}
${content}
</main>
</body>
</html>
`.toString()
}

/** The login form; `refused` when the last token given was wrong. */
export function loginPage(refused: boolean): string {
  const ctx: PageContext = { csrf: undefined, flash: undefined, quarantine: false }
  const content = html`<h1>Log in</h1>
${refused ? html`<p class="flash error" role="alert">That token is not the console's token.</p>` : ''}
<form method="post" action="${P}/login" class="field">
<input type="text" name="username" value="operator" autocomplete="username" hidden>
<label for="token">Ops token (OPS_TOKEN)</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<p><button type="submit">Log in</button></p>
</form>`
  return layout('Log in', ctx, 'none', content, true)
}

/** A page saying something is not there, or not allowed. */
export function messagePage(title: string, ctx: PageContext, text: string): string {
  return layout(title, ctx, 'none', html`<h1>${title}</h1><p>${text}</p>`)
}
