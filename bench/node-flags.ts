/** The Node flags the production server runs with (Dockerfile CMD, npm start, the bench and the soak). */
export const PRODUCTION_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16']
