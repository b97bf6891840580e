const UTF8 = new TextEncoder()

/** A digest of a token, for counting its subscriptions without keeping it (16 bytes of SHA-256). */
export async function tokenDigest(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', UTF8.encode(token)))
  // The first 22 characters of its base64url: its first 17 bytes hold them.
  let binary = ''
  for (let i = 0; i < 17; i++) binary += String.fromCharCode(digest[i] as number)
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').slice(0, 22)
}
