import type { Command } from './command.js'
import { eventsCommandRow } from './events-command.js'
import { quarantineCommandRow } from './quarantine-command.js'
import { reconcileCommand } from './reconcile-command.js'
import { sendCommandRow } from './send-command.js'
import { serveCommand } from './serve-command.js'
import { signCommand } from './sign-command.js'
import { storeCommandRow } from './store-command.js'
import { triggerCommand } from './trigger-command.js'
import { verifyCommand } from './verify-command.js'

/** Every command of `tylt-relay`, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  signCommand,
  sendCommandRow,
  triggerCommand,
  eventsCommandRow,
  verifyCommand,
  quarantineCommandRow,
  storeCommandRow,
  reconcileCommand,
]

export const findCommand = (name: string): Command | undefined => COMMANDS.find((c) => c.name === name)
