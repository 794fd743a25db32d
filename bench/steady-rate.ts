import { Agent, request } from 'node:http'
import { percentile } from './stats.js'

/**
 * An open-loop load at a steady rate: one request every 1/rate seconds, evenly spaced, over a pool
 * of keep-alive connections, each latency measured from the moment the request was due (so that a
 * stalled server is charged for the requests it delayed: no coordinated omission).
 * Why not autocannon's `overallRate`: it gives each connection a budget per second and lets it send
 * back to back until the budget is spent, so "300 req/s" arrives as a burst at full speed at the top
 * of each second and then nothing: the latencies of a saturated server, not of a steady load.
 */

export interface SteadyResult { sent: number, completed: number, failed: number, p50: number, p99: number, max: number }

export async function steadyLoad (port: number, rate: number, seconds: number, bodies: readonly string[], connections = 10): Promise<SteadyResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  const latencies: number[] = []
  let failed = 0
  const total = Math.round(rate * seconds)
  const start = performance.now()
  const pending: Array<Promise<void>> = []
  const send = (index: number, due: number): Promise<void> => new Promise((resolve) => {
    const body = bodies[index % bodies.length] as string
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/recommendations', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume()
      res.on('end', () => {
        if (res.statusCode === 200) latencies.push(performance.now() - due)
        else failed++
        resolve()
      })
    })
    req.on('error', () => { failed++; resolve() })
    req.end(body)
  })
  const due = (index: number): number => start + (index * 1000) / rate
  let next = 0
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now()
      // Every request whose time has come, each charged from its own due time.
      while (next < total && due(next) <= now) {
        pending.push(send(next, due(next)))
        next++
      }
      if (next >= total) { resolve(); return }
      setTimeout(tick, Math.max(0, due(next) - performance.now()))
    }
    tick()
  })
  await Promise.all(pending)
  agent.destroy()
  const sorted = latencies.sort((a, b) => a - b)
  return { sent: total, completed: sorted.length, failed, p50: percentile(sorted, 0.5) ?? Number.NaN, p99: percentile(sorted, 0.99) ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN }
}
