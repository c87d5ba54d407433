import type { KeyObject } from 'node:crypto'
import { type FSWatcher, realpathSync, watch } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import type { Logger } from 'pino'
import type { ServiceKeys } from '../verify/verify-signature.js'
import { keyProblems, readSecretFile, type ServiceDefinition } from './service-secrets.js'

const DEBOUNCE_MS = 250

/**
 * The live secrets of every service. Secrets from files change without a restart (SIGHUP, or the file
 * changing): a rotation must take effect the moment Tylt starts signing with the new key. A file that cannot
 * be read or holds nothing never removes the secrets that work; the problem is logged instead.
 */
export class SecretRegistry {
  readonly #services = new Map<string, ServiceKeys>()
  readonly #definitions: readonly ServiceDefinition[]
  readonly #logger: Logger
  #all: readonly ServiceKeys[] = []

  constructor(definitions: readonly ServiceDefinition[], logger: Logger) {
    this.#definitions = definitions
    this.#logger = logger
    for (const d of definitions) this.#services.set(d.name, { name: d.name, secrets: d.secrets })
    this.#all = [...this.#services.values()]
  }

  /** The service a path names, whatever its case (names are lower case, as urlName makes them). */
  get(name: string): ServiceKeys | undefined {
    return this.#services.get(name) ?? this.#services.get(name.toLowerCase())
  }

  /** Every service, in a stable order, for `POST /webhooks` without a service in the path. */
  all(): readonly ServiceKeys[] {
    return this.#all
  }

  /** Re-reads every secret file; returns how many services changed. */
  reload(): number {
    let changed = 0
    for (const d of this.#definitions) {
      if (d.file === null) continue
      const secrets = this.#reread(d, d.file)
      if (secrets === undefined) continue
      const current = this.#services.get(d.name)?.secrets ?? []
      const same = current.length === secrets.length && current.every((key, i) => key.equals(secrets[i]!))
      if (same) continue
      this.#services.set(d.name, { name: d.name, secrets })
      changed++
      this.#logger.info({ service: d.name, secrets: secrets.length }, 'secrets reloaded')
    }
    this.#all = [...this.#services.values()]
    return changed
  }

  /**
   * The secrets of one file, checked as at start (loadServices) against the other services' live secrets;
   * undefined, with the problem logged, when the file cannot be read or fails a check.
   */
  #reread(d: ServiceDefinition, file: string): KeyObject[] | undefined {
    let problem: string | undefined
    try {
      const secrets = readSecretFile(file, d.name)
      const others = this.#definitions
        .filter((o) => o !== d)
        .map((o) => ({ ...o, secrets: this.#services.get(o.name)?.secrets ?? o.secrets }))
      // This file last: a shared secret is reported against its variable.
      problem = keyProblems([...others, { ...d, secrets }])[0]
      if (problem === undefined) return secrets
    } catch (err) {
      problem = `${d.env}: ${(err as Error).message}`
    }
    // The file was read at start, so the variable holds a path: naming it here reveals no secret.
    this.#logger.error(
      { service: d.name, file, error: problem },
      'secret file not reloaded; the previous secrets stay active',
    )
    return undefined
  }

  /**
   * Watches the folder of each secret file, and the folder of the file it resolves to when it is a symlink:
   * Kubernetes replaces a mounted secret by swapping its `..data` symlink, which a watch on the file itself
   * would miss, and an operator's symlink into a Vault agent's folder changes only over there. Targets are
   * resolved again after each reload, since a swap moves the real file. Bursts of changes (an editor's
   * truncate-then-write, a swap's several renames) are debounced into one reload.
   */
  watch(): () => void {
    const watchers = new Map<string, FSWatcher>()
    let names = new Set<string>()
    let timer: NodeJS.Timeout | undefined
    const onChange = (_event: string, file: string | Buffer | null) => {
      const name = file?.toString()
      if (name !== undefined && !names.has(name) && !name.startsWith('..')) return
      clearTimeout(timer)
      timer = setTimeout(() => {
        this.reload()
        arm()
      }, DEBOUNCE_MS).unref()
    }
    const arm = () => {
      const targets = watchTargets(this.#definitions)
      names = new Set(targets.map((target) => basename(target)))
      const folders = new Set(targets.map(dirname))
      for (const [folder, watcher] of watchers) {
        if (folders.has(folder)) continue
        watcher.close()
        watchers.delete(folder)
      }
      for (const folder of folders) {
        if (watchers.has(folder)) continue
        try {
          const watcher = watch(folder, { persistent: false }, onChange)
          watcher.on('error', (err) => this.#logger.warn({ err, folder }, 'secret folder watch failed'))
          watchers.set(folder, watcher)
        } catch (err) {
          this.#logger.warn({ err, folder }, 'cannot watch secret folder; SIGHUP still reloads')
        }
      }
    }
    arm()
    return () => {
      clearTimeout(timer)
      for (const watcher of watchers.values()) watcher.close()
      watchers.clear()
    }
  }
}

/** Each secret file, and where it resolves to when that differs (symlinks). */
function watchTargets(definitions: readonly ServiceDefinition[]): string[] {
  const targets: string[] = []
  for (const d of definitions) {
    if (d.file === null) continue
    const file = resolve(d.file)
    targets.push(file)
    try {
      const real = realpathSync(file)
      if (real !== file) targets.push(real)
    } catch {
      // Missing right now (mid-swap): the folder watch above sees it come back.
    }
  }
  return targets
}
