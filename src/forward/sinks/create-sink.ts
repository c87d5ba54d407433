export type { CreateSinkOptions } from './downstream.js'
export { createSink } from './sink-table.js'
