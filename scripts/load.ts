import autocannon from 'autocannon'
import { benchCase } from '../bench/cases.js'
const r = await autocannon({ url: 'http://127.0.0.1:3950', connections: 50, duration: 8, requests: Array.from({ length: 24 }, (_, i) => ({ method: 'POST', path: '/v1/recommendations', headers: { 'content-type': 'application/json' }, body: JSON.stringify(benchCase(i)) })) })
console.log(r.requests.average, r.latency.p99)
