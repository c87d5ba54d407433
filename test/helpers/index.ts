// The helpers most tests use, from one import; each lives in a file of its own.
export * from './eventually.js'
export * from './metrics-sample.js'
export * from './relay-event.js'
export * from './sign.js'
export * from './temp-dir.js'
export * from './test-app.js'
