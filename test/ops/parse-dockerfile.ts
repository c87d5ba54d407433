/** One Dockerfile instruction, continuation lines joined; `args` is the text after the keyword. */
export interface Instruction {
  readonly keyword: string
  readonly args: string
}

export interface Stage {
  readonly image: string
  readonly name: string | undefined
  readonly instructions: readonly Instruction[]
}

/**
 * Just enough of the Dockerfile grammar for the tests: comments, `\` continuations, stages, and ARG defaults
 * substituted into FROM. Not a general parser; the test fails loudly on anything it cannot read.
 */
export function parseDockerfile(text: string): { args: Record<string, string>; stages: Stage[] } {
  const logical = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replaceAll(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
  const args: Record<string, string> = {}
  const stages: { image: string; name: string | undefined; instructions: Instruction[] }[] = []
  for (const line of logical) {
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(line)
    if (match === null) throw new Error(`cannot read Dockerfile line: ${line}`)
    const keyword = match[1]!.toUpperCase()
    const rest = match[2]!.replaceAll(/\s+/g, ' ')
    if (keyword === 'FROM') {
      const [image = '', as, name] = rest.split(' ')
      const resolved = image.replaceAll(/\$\{(\w+)\}/g, (_m, key: string) => args[key] ?? '')
      stages.push({ image: resolved, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] })
      continue
    }
    const stage = stages.at(-1)
    if (keyword === 'ARG' && stage === undefined) {
      const [key = '', value = ''] = rest.split('=')
      args[key] = value
      continue
    }
    if (stage === undefined) throw new Error(`${keyword} before the first FROM`)
    stage.instructions.push({ keyword, args: rest })
  }
  return { args, stages }
}

export const instructions = (stage: Stage, keyword: string): string[] =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args)

/** The exec (JSON array) form of CMD, ENTRYPOINT or HEALTHCHECK's CMD; throws on the shell form. */
export function execForm(args: string): string[] {
  const json = args.slice(args.indexOf('['))
  const parsed: unknown = JSON.parse(json)
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`not an exec-form command: ${args}`)
  }
  return parsed as string[]
}

/** `COPY [--from=x] [--chown=y] src... dest` split into its parts. */
export function copyParts(args: string): { from: string | undefined; sources: string[]; dest: string } {
  const words = args.split(' ')
  const flags = words.filter((w) => w.startsWith('--'))
  const paths = words.filter((w) => !w.startsWith('--'))
  const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length)
  return { from, sources: paths.slice(0, -1), dest: paths.at(-1) ?? '' }
}

/** `ENV A=1 B=2` pairs (the `ENV A 1` legacy form is not used here). */
export function envPairs(args: string): Record<string, string> {
  return Object.fromEntries(
    args.split(' ').map((pair) => {
      const at = pair.indexOf('=')
      if (at < 0) throw new Error(`ENV without "=": ${args}`)
      return [pair.slice(0, at), pair.slice(at + 1)]
    }),
  )
}
