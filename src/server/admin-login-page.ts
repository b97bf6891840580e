/**
 * The small login form `/admin/` answers with `401` to whoever has no session: a page of its own,
 * served whatever the web folder holds. Its stylesheet (`/admin/login.css`) is the only file under
 * `/admin/` served without a session; the CSP forbids inline styles and scripts.
 */
export function adminLoginPage(message: string | null): string {
  const notice =
    message === null ? '' : `<p class="notice" role="alert">${escapeHtml(message)}</p>\n      `
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Sign in · ssehub dashboard</title>
    <link rel="stylesheet" href="/admin/login.css">
  </head>
  <body>
    <main class="login">
      <h1>ssehub dashboard</h1>
      ${notice}<form method="post" action="/admin/login">
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required minlength="16" autofocus>
        <button type="submit">Sign in</button>
      </form>
      <p class="hint">The token is the hub's <code>SSEHUB_ADMIN_TOKEN</code> (in development mode, the one the hub printed when it started).</p>
    </main>
  </body>
</html>
`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
