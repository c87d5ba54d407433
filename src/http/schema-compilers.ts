function noSchemas(): never {
  throw new Error('tylt-relay routes check their input themselves: a route schema has no compiler here')
}

/**
 * Fastify's `schemaController` option for the relay's listeners. No route declares a JSON schema (bodies
 * are raw bytes, verified before anything reads them), so the validator and serializer compilers Fastify
 * would otherwise load at start (ajv, fast-json-stringify: about a hundred modules, some megabytes of
 * resident memory) are never needed; a route that declared a schema would fail at start, loudly.
 */
export const NO_SCHEMA_COMPILERS = {
  compilersFactory: { buildValidator: noSchemas, buildSerializer: noSchemas },
}
