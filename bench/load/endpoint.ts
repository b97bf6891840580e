/** Where the server under test listens. */
export interface Endpoint {
  host: string
  /** Where subscribers connect. */
  port: number
  /** Where publishers connect, when not `port` (two nodes). */
  publishPort?: number
}
