// The app's own route, beside the hub.
export function GET(): Response {
  return Response.json({ hello: 'world' })
}
