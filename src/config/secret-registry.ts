import { type FSWatcher, watch } from 'node:fs'
import { basename, dirname } from 'node:path'
import type { Logger } from 'pino'
import type { ServiceKeys } from '../verify/verify-signature.js'
import { readSecretFile, type ServiceDefinition } from './service-secrets.js'

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

  get(name: string): ServiceKeys | undefined {
    return this.#services.get(name)
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
      try {
        const secrets = readSecretFile(d.file)
        const current = this.#services.get(d.name)?.secrets ?? []
        const same = current.length === secrets.length && current.every((key, i) => key.equals(secrets[i]!))
        if (same) continue
        this.#services.set(d.name, { name: d.name, secrets })
        changed++
        this.#logger.info({ service: d.name, secrets: secrets.length }, 'secrets reloaded')
      } catch (err) {
        this.#logger.error(
          { service: d.name, err },
          'secret file not reloaded; the previous secrets stay active',
        )
      }
    }
    this.#all = [...this.#services.values()]
    return changed
  }

  /**
   * Watches the folders of the secret files: Kubernetes and Docker replace a mounted secret by swapping a
   * symlink, which a watch on the file itself would miss. Bursts of changes are debounced into one reload.
   */
  watch(): () => void {
    const folders = new Set(this.#definitions.flatMap((d) => (d.file === null ? [] : [dirname(d.file)])))
    const names = new Set(this.#definitions.flatMap((d) => (d.file === null ? [] : [basename(d.file)])))
    let timer: NodeJS.Timeout | undefined
    const schedule = () => {
      clearTimeout(timer)
      timer = setTimeout(() => this.reload(), DEBOUNCE_MS)
    }
    const watchers: FSWatcher[] = []
    for (const folder of folders) {
      try {
        const watcher = watch(folder, (_event, file) => {
          if (file === null || names.has(file.toString()) || file.toString().startsWith('..')) schedule()
        })
        watcher.on('error', (err) => this.#logger.warn({ err, folder }, 'secret folder watch failed'))
        watchers.push(watcher)
      } catch (err) {
        this.#logger.warn({ err, folder }, 'cannot watch secret folder; SIGHUP still reloads')
      }
    }
    return () => {
      clearTimeout(timer)
      for (const watcher of watchers) watcher.close()
    }
  }
}
