// The layers of src/, lowest first (docs/design.md, "Layers"). A file may import from its own folder, from
// the folders to its left in its row, and from any row above; never from the right or below. The order is
// total, so no two folders can import each other (no cycle between folders).
const LAYERS = [
  // The event, its metadata and states, and the ports the parts meet at; the outside contract; the errors.
  ['constants.ts', 'version.ts', 'errors.ts', 'core'],
  // Pure parts: metadata extraction, signatures, the downstream adapters with their URL grammar, and the
  // plain-text answers every listener shares.
  ['event', 'verify', 'forward', 'logger.ts', 'http'],
  // The consumer kit, shipped as tylt-relay/consumer: it reads the event's vocabulary and nothing else.
  ['consumer'],
  // The one configuration loader: it checks FORWARD_URL with the adapters' own parsers.
  ['config'],
  ['store', 'admission', 'quarantine', 'reconcile'],
  ['ops', 'webhook', 'console'],
  ['app.ts', 'start-line.ts', 'relay-listen.ts', 'relay-stop.ts', 'relay.ts'],
  // The process entries: the relay's process, the commands and the command line.
  ['server.ts', 'cli', 'cli.ts'],
]

// Imports being removed, not checked meanwhile (none today): a path pattern per line, deleted with its imports.
const TOLERATED = []

const folders = LAYERS.flat()
const pattern = (names) =>
  `^src/(${names.map((n) => n.replaceAll('.', '[.]') + (n.endsWith('.ts') ? '$' : '/')).join('|')})`

module.exports = {
  LAYERS,
  forbidden: [
    ...folders.slice(0, -1).map((name, index) => ({
      name: `layer-order:${name}`,
      comment: `${name} imports from a folder after it in .dependency-cruiser.cjs's LAYERS`,
      severity: 'error',
      from: { path: pattern([name]), pathNot: TOLERATED },
      to: { path: pattern(folders.slice(index + 1)), pathNot: TOLERATED },
    })),
    {
      name: 'no-circular',
      comment: 'modules that import each other (a cycle closed only by a type import is erased at run time)',
      severity: 'error',
      from: { path: '^src/', pathNot: TOLERATED },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'unlayered',
      comment: 'a file or folder of src/ missing from LAYERS',
      severity: 'error',
      from: { path: '^src/', pathNot: [pattern(folders), ...TOLERATED] },
      to: {},
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
  },
}

// `node .dependency-cruiser.cjs` runs the check through dependency-cruiser's API (its command line refuses
// Node 20, which the relay supports).
if (require.main === module) {
  import('dependency-cruiser').then(async ({ cruise }) => {
    const { forbidden, options } = module.exports
    const result = await cruise(['src'], { ...options, validate: true, ruleSet: { forbidden } })
    const { violations } = result.output.summary
    for (const v of violations) console.error(`${v.rule.name}: ${v.from} -> ${v.to}`)
    if (violations.length > 0) {
      console.error(`${violations.length} import(s) against the layers in .dependency-cruiser.cjs`)
      process.exitCode = 1
    } else console.log(`layers: ${result.output.summary.totalCruised} modules, no import against the layers`)
  })
}
